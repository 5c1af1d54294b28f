/**
 * Runs every benchmark of `bench/` one after another and writes `bench/RESULTS.md`.
 *
 *   npm run bench                                  # every bench, full size
 *   npm run bench -- --quick                       # smaller sizes: a smoke run, not a measurement
 *   npm run bench -- --only bus,jobs               # some of them
 *   DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres npm run bench   # PostgreSQL too
 *
 * Each bench runs as its own child process (never two at once: they measure CPU) with the
 * environment passed through (`DATABASE_URL` included), a timeout, and its stdout captured. The
 * file starts with the machine (CPU, memory, kernel, Node, PostgreSQL server), the date and the git
 * commit, then gives each bench's output verbatim under a heading with its command, duration, exit
 * code and the load average just before it started — the machine may be shared, so the load says
 * how much of it the bench had. A bench that fails or times out is reported as failed in the file
 * and the others still run; the runner then exits with code 1.
 *
 * The file is written once, at the end (through a temporary file and a rename): an interrupted run
 * never leaves a half-written RESULTS.md.
 */
import { spawn, spawnSync } from "node:child_process";
import { readdirSync, renameSync, writeFileSync } from "node:fs";
import { availableParallelism, cpus, freemem, loadavg, release, totalmem, type, version } from "node:os";
import { basename, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

const BENCH_DIR = fileURLToPath(new URL(".", import.meta.url));
const ROOT = join(BENCH_DIR, "..");
const SELF = basename(fileURLToPath(import.meta.url));

/**
 * Arguments that shrink each bench for `--quick` (its own size flags; `BENCH_QUICK=1` is also set
 * for every bench, which is how `emulator` shrinks). A bench missing here runs at full size.
 */
const QUICK_ARGS: Readonly<Record<string, readonly string[]>> = {
  bus: ["--events", "2000"],
  emulator: [],
  fleet: ["--seconds", "3", "--max", "1000"],
  jobs: ["--commands", "40", "--latency-commands", "5"],
  provisioning: ["--devices", "40", "--latency-devices", "10"],
  shadow: ["--sizes", "1000,10000", "--delay-samples", "2"],
};

/** Goals from the issues, printed in the summary next to each bench. */
const GOALS: Readonly<Record<string, string>> = {
  bus: "≥ 1,000 events/s on PGlite, ≥ 2,000 events/s on PostgreSQL",
  emulator: "≥ 2,000 DescribeThing/s, ≥ 300 CreateKeysAndCertificate/s",
  fleet: "/verify p99 < 50 ms at 500 req/s",
  jobs: "≥ 90 % of CreateJob's quota, 0 failures",
  provisioning: "≥ 90 % of the tightest per-device quota, 0 Failed; bridge overhead ≤ 50 % over bare calls",
  shadow: "100,000 bindings swept in < 30 s, memory flat in the number of bindings",
};

const USAGE = `Usage: npm run bench -- [--quick] [--only name,name] [--timeout-minutes n] [--output file] [--list]

  --quick              smaller sizes (a smoke run; the file says so)
  --only a,b           run only these benches (names of bench/*.ts without .ts)
  --timeout-minutes n  per-bench timeout (default 45, or 15 with --quick)
  --output file        where to write the results (default bench/RESULTS.md)
  --list               print the benches and their quick arguments, run nothing

DATABASE_URL is passed to every bench: set it to also measure on PostgreSQL.`;

interface BenchResult {
  readonly name: string;
  readonly command: string;
  readonly exitCode: number | null;
  readonly signal: string | null;
  readonly timedOut: boolean;
  readonly seconds: number;
  readonly loadBefore: readonly number[];
  readonly startedAt: Date;
  readonly stdout: string;
  readonly stderr: string;
}

function parseOptions() {
  const { values } = parseArgs({
    options: {
      quick: { type: "boolean", default: false },
      only: { type: "string" },
      "timeout-minutes": { type: "string" },
      output: { type: "string", default: join(BENCH_DIR, "RESULTS.md") },
      list: { type: "boolean", default: false },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  const timeoutMinutes = Number(values["timeout-minutes"] ?? (values.quick ? 15 : 45));
  if (!Number.isFinite(timeoutMinutes) || timeoutMinutes <= 0) {
    throw new UsageError(`--timeout-minutes must be a positive number (got ${values["timeout-minutes"]})`);
  }
  return {
    quick: values.quick,
    only: values.only
      ?.split(",")
      .map((s) => s.trim().replace(/\.ts$/, ""))
      .filter((s) => s.length > 0),
    timeoutMs: timeoutMinutes * 60_000,
    output: values.output,
    list: values.list,
    help: values.help,
  };
}

class UsageError extends Error {}

/** Every `bench/*.ts` but this runner, by name, in alphabetical order. */
function discoverBenches(): string[] {
  return readdirSync(BENCH_DIR)
    .filter((file) => file.endsWith(".ts") && file !== SELF && !file.endsWith(".d.ts"))
    .map((file) => file.slice(0, -3))
    .sort();
}

function git(...args: string[]): string | null {
  const out = spawnSync("git", args, { cwd: ROOT, encoding: "utf8" });
  return out.status === 0 ? out.stdout.trim() : null;
}

/** The PostgreSQL server's version string, or why it could not be read. */
async function postgresVersion(url: string): Promise<string> {
  try {
    const { default: pg } = await import("pg");
    const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000 });
    await client.connect();
    try {
      const result = await client.query<{ version: string }>("SELECT version() AS version");
      return result.rows[0]?.version ?? "unknown";
    } finally {
      await client.end();
    }
  } catch (error) {
    return `unreachable (${(error as Error).message})`;
  }
}

/** `postgres://user:secret@host/db` without the password. */
function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = "***";
    return parsed.toString();
  } catch {
    return "(not a URL)";
  }
}

const gib = (bytes: number) => `${(bytes / 1024 ** 3).toFixed(1)} GiB`;
const load = (values: readonly number[]) => values.map((v) => v.toFixed(2)).join(" / ");

/** Runs one bench in its own process group (so a timeout also stops the processes it started). */
function runBench(name: string, args: readonly string[], env: NodeJS.ProcessEnv, timeoutMs: number) {
  const file = join(BENCH_DIR, `${name}.ts`);
  const command = ["node", relative(ROOT, file), ...args].join(" ");
  const loadBefore = loadavg();
  const startedAt = new Date();
  const started = performance.now();
  process.stderr.write(
    `\n=== ${name}: ${command} (load average ${load(loadBefore)}, timeout ${timeoutMs / 60_000} min)\n`,
  );
  return new Promise<BenchResult>((resolve) => {
    const child = spawn(process.execPath, [file, ...args], {
      cwd: ROOT,
      env,
      stdio: ["ignore", "pipe", "pipe"],
      detached: true,
    });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    child.stdout.on("data", (chunk: Buffer) => {
      stdout.push(chunk);
      process.stderr.write(chunk);
    });
    child.stderr.on("data", (chunk: Buffer) => {
      stderr.push(chunk);
      process.stderr.write(chunk);
    });
    let timedOut = false;
    const killGroup = (signal: NodeJS.Signals) => {
      try {
        if (child.pid) process.kill(-child.pid, signal);
      } catch {
        // already gone
      }
    };
    const timer = setTimeout(() => {
      timedOut = true;
      process.stderr.write(`\n=== ${name}: timed out after ${timeoutMs / 60_000} min, stopping it\n`);
      killGroup("SIGTERM");
      setTimeout(() => killGroup("SIGKILL"), 10_000).unref();
    }, timeoutMs);
    const finish = (exitCode: number | null, signal: string | null) => {
      clearTimeout(timer);
      // The bench's own children (emulator, pollers) must not outlive it.
      killGroup("SIGKILL");
      resolve({
        name,
        command,
        exitCode,
        signal,
        timedOut,
        seconds: (performance.now() - started) / 1000,
        loadBefore,
        startedAt,
        stdout: Buffer.concat(stdout).toString("utf8"),
        stderr: Buffer.concat(stderr).toString("utf8"),
      });
    };
    child.once("error", (error) => {
      stderr.push(Buffer.from(`could not start: ${error.message}\n`));
      finish(null, null);
    });
    child.once("close", (code, signal) => finish(code, signal));
  });
}

const passed = (r: BenchResult) => r.exitCode === 0 && !r.timedOut;

function outcome(r: BenchResult): string {
  if (r.timedOut) return "**failed** (timed out)";
  if (r.exitCode === 0) return "ok";
  if (r.signal) return `**failed** (killed by ${r.signal})`;
  return `**failed** (exit code ${r.exitCode ?? "none: did not start"})`;
}

/**
 * A bench's stdout as Markdown, without changing a character of it: its Markdown tables (lines
 * starting with `|`) are left as they are so they render; every other run of lines goes into a
 * `text` block, so aligned text tables and the benches' own headings and notes stay as printed.
 */
function verbatim(stdout: string): string {
  const lines = stdout.replace(/\s+$/, "").split("\n");
  const blocks: string[] = [];
  let text: string[] = [];
  let table: string[] = [];
  const flushText = () => {
    while (text.length > 0 && text[0]?.trim() === "") text.shift();
    while (text.length > 0 && text.at(-1)?.trim() === "") text.pop();
    if (text.length > 0) blocks.push(["```text", ...text, "```"].join("\n"));
    text = [];
  };
  const flushTable = () => {
    if (table.length > 0) blocks.push(table.join("\n"));
    table = [];
  };
  for (const line of lines) {
    if (line.startsWith("|")) {
      flushText();
      table.push(line);
    } else {
      flushTable();
      text.push(line);
    }
  }
  flushText();
  flushTable();
  return blocks.length > 0 ? blocks.join("\n\n") : "_(no output)_";
}

function tail(text: string, lines: number): string {
  const all = text.replace(/\s+$/, "").split("\n");
  return all.slice(-lines).join("\n");
}

interface Machine {
  readonly date: Date;
  readonly commit: string;
  readonly postgres: string;
  readonly quick: boolean;
}

function render(machine: Machine, results: readonly BenchResult[], timeoutMs: number): string {
  const cpuList = cpus();
  const models = [...new Set(cpuList.map((c) => c.model.trim()))].join(", ");
  const out: string[] = [];
  out.push("# Benchmark results", "");
  if (machine.quick) {
    out.push(
      "> **Quick run** (`npm run bench -- --quick`): every bench at reduced size to check that they all",
      "> run. These figures are not the measurements; `npm run bench` produces those.",
      "",
    );
  }
  out.push(
    `Produced by \`npm run bench${machine.quick ? " -- --quick" : ""}\` (\`bench/run-all.ts\`) on ${machine.date.toISOString()}, commit \`${machine.commit}\`.`,
    "The machine may be shared with other work: the load average before each bench says how busy it was.",
    "",
    "| machine | |",
    "|---|---|",
    `| CPU | ${models} × ${cpuList.length} logical CPUs (available parallelism ${availableParallelism()}) |`,
    `| memory | ${gib(totalmem())} total, ${gib(freemem())} free at the end of the run |`,
    `| OS | ${type()} ${release()} (${version()}), ${process.platform}/${process.arch} |`,
    `| Node.js | ${process.version} |`,
    `| PostgreSQL | ${machine.postgres} |`,
    `| per-bench timeout | ${timeoutMs / 60_000} min |`,
    "",
    "| bench | goal | command | duration | exit | load average before (1 / 5 / 15 min) |",
    "|---|---|---|---:|---|---|",
  );
  for (const r of results) {
    out.push(
      `| [${r.name}](#${r.name}) | ${GOALS[r.name] ?? "—"} | \`${r.command}\` | ${r.seconds.toFixed(1)} s | ${outcome(r)} | ${load(r.loadBefore)} |`,
    );
  }
  for (const r of results) {
    out.push(
      "",
      `## ${r.name}`,
      "",
      `\`${r.command}\` — started ${r.startedAt.toISOString()}, ${r.seconds.toFixed(1)} s, ${outcome(r)}, load average before ${load(r.loadBefore)}.`,
      "",
      verbatim(r.stdout),
    );
    if (!passed(r)) {
      out.push("", "Last lines of its stderr:", "", "```text", tail(r.stderr, 40) || "(empty)", "```");
    }
  }
  return `${out.join("\n")}\n`;
}

async function main(): Promise<number> {
  let options: ReturnType<typeof parseOptions>;
  try {
    options = parseOptions();
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n\n${USAGE}\n`);
    return 2;
  }
  if (options.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const all = discoverBenches();
  const unknown = (options.only ?? []).filter((name) => !all.includes(name));
  if (unknown.length > 0) {
    process.stderr.write(`Unknown bench: ${unknown.join(", ")}. Benches: ${all.join(", ")}\n`);
    return 2;
  }
  const selected = options.only ? all.filter((name) => options.only?.includes(name)) : all;
  if (options.list) {
    for (const name of all) {
      process.stdout.write(
        `${name.padEnd(14)} --quick: ${(QUICK_ARGS[name] ?? []).join(" ") || "(BENCH_QUICK=1)"}\n`,
      );
    }
    return 0;
  }

  const url = process.env.DATABASE_URL;
  const postgres = url
    ? `used: ${await postgresVersion(url)} (DATABASE_URL=${redactUrl(url)})`
    : "not used (DATABASE_URL unset): the benches run on embedded PGlite only";
  process.stderr.write(
    `Running ${selected.join(", ")}${options.quick ? " (quick)" : ""}, one at a time. PostgreSQL: ${postgres}\n`,
  );
  const env: NodeJS.ProcessEnv = { ...process.env, ...(options.quick ? { BENCH_QUICK: "1" } : {}) };
  const commit = git("describe", "--always", "--dirty", "--abbrev=12") ?? "unknown (not a git checkout)";
  const date = new Date();

  const results: BenchResult[] = [];
  for (const name of selected) {
    const args = options.quick ? (QUICK_ARGS[name] ?? []) : [];
    results.push(await runBench(name, args, env, options.timeoutMs));
  }

  const markdown = render({ date, commit, postgres, quick: options.quick }, results, options.timeoutMs);
  const temporary = `${options.output}.${process.pid}.tmp`;
  writeFileSync(temporary, markdown);
  renameSync(temporary, options.output);

  const failed = results.filter((r) => !passed(r));
  process.stderr.write(`\nWrote ${relative(process.cwd(), options.output) || options.output}\n`);
  for (const r of results) {
    process.stderr.write(
      `  ${r.name.padEnd(14)} ${outcome(r).replaceAll("*", "")}, ${r.seconds.toFixed(1)} s\n`,
    );
  }
  return failed.length > 0 ? 1 : 0;
}

process.exitCode = await main();
