/**
 * `npm start` end to end: `src/main.ts` as a child process, as an operator runs it.
 */
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { Database } from "@granit/iot-postgres";

const MAIN = fileURLToPath(new URL("../src/main.ts", import.meta.url));
/** Generous bound so a hung child fails the test instead of hanging the run; never a timing assertion. */
const PATIENCE_MS = 120_000;

const dirs: string[] = [];
after(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});
function emptyDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "granit-main-test-"));
  dirs.push(dir);
  return dir;
}

/** The environment without anything that would configure the child behind the test's back. */
function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    // AWS_*: an AWS account in the runner's environment would take the host off its emulator.
    if (key === "DATABASE_URL" || key === "GRANIT_CONFIG" || key.includes("__") || key.startsWith("AWS_"))
      continue;
    env[key] = value;
  }
  return { ...env, ...extra };
}

interface Running {
  readonly child: ChildProcess;
  stdout(): string;
  stderr(): string;
  waitFor(pattern: RegExp): Promise<RegExpMatchArray>;
  exit(): Promise<number | null>;
}

function run(args: readonly string[], cwd: string, env: NodeJS.ProcessEnv): Running {
  const child = spawn(process.execPath, [MAIN, ...args], { cwd, env, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  let err = "";
  const waiters = new Set<() => void>();
  const poke = () => {
    for (const waiter of waiters) waiter();
  };
  child.stdout?.on("data", (chunk: Buffer) => {
    out += chunk.toString("utf8");
    poke();
  });
  child.stderr?.on("data", (chunk: Buffer) => {
    err += chunk.toString("utf8");
    poke();
  });
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  exited.then(poke);
  return {
    child,
    stdout: () => out,
    stderr: () => err,
    waitFor(pattern) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`no ${pattern} within ${PATIENCE_MS} ms.\nstdout:\n${out}\nstderr:\n${err}`));
        }, PATIENCE_MS);
        const check = () => {
          const match = out.match(pattern);
          if (match) {
            clearTimeout(timer);
            waiters.delete(check);
            resolve(match);
          } else if (child.exitCode !== null) {
            clearTimeout(timer);
            waiters.delete(check);
            reject(
              new Error(`exited ${child.exitCode} before ${pattern}.\nstdout:\n${out}\nstderr:\n${err}`),
            );
          }
        };
        waiters.add(check);
        check();
      });
    },
    exit: () => exited,
  };
}

/** Starts main.ts and reads the banner. */
async function start(cwd: string, env: NodeJS.ProcessEnv, args: readonly string[] = ["--port", "0"]) {
  const running = run(args, cwd, env);
  const url = (await running.waitFor(/^Granit IoT host listening on (http:\/\/\S+)$/m))[1] as string;
  await running.waitFor(/^Database: .*$/m);
  return { running, url };
}

async function stop(running: Running): Promise<number | null> {
  running.child.kill("SIGTERM");
  return running.exit();
}

describe("npm start (src/main.ts as a child process)", () => {
  it("on an empty directory prints the URL, the docs URL and a generated token, serves, and exits 0 on SIGTERM", async () => {
    // Prepare
    const cwd = emptyDir();

    // Act
    const { running, url } = await start(cwd, cleanEnv());
    const banner = running.stdout();
    const token = (banner.match(
      /^Operator token: (\S+) {3}\(generated; stored in \.data\/operator-token\)$/m,
    ) ?? [])[1];
    const ready = await fetch(`${url}/health/ready`);
    const anonymous = await fetch(`${url}/api/iot/devices`);
    const authorised = await fetch(`${url}/api/iot/devices`, {
      headers: { authorization: `Bearer ${token}` },
    });
    const code = await stop(running);

    // Assess
    assert.match(url, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.match(banner, new RegExp(`^API docs: +${url}/docs$`, "m"));
    assert.match(banner, /^Database: +PGlite \(embedded\) in \.data\/pglite$/m);
    assert.match(token ?? "", /^[A-Za-z0-9_-]{43}$/);
    assert.equal(ready.status, 200);
    assert.equal(anonymous.status, 401);
    assert.equal(authorised.status, 200);
    assert.equal(statSync(join(cwd, ".data", "operator-token")).mode & 0o777, 0o600);
    assert.equal(code, 0);
    assert.match(running.stdout(), /"msg":"host stopped"/);
    assert.equal(running.stderr(), "");
  });

  it("keeps the operator token and the devices across a restart", async () => {
    // Prepare: a first run creates a device.
    const cwd = emptyDir();
    const first = await start(cwd, cleanEnv());
    const token = (first.running.stdout().match(/^Operator token: (\S+) /m) ?? [])[1];
    const created = await fetch(`${first.url}/api/iot/devices`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: JSON.stringify({ serialNumber: "SN-RESTART", model: "M", firmware: "1.0" }),
    });
    assert.equal(created.status, 201);
    assert.equal(await stop(first.running), 0);

    // Act
    const second = await start(cwd, cleanEnv());
    const list = await fetch(`${second.url}/api/iot/devices`, {
      headers: { authorization: `Bearer ${token}` },
    });
    const body = (await list.json()) as { items: { serialNumber: string }[] };
    const code = await stop(second.running);

    // Assess
    assert.match(second.running.stdout(), /^Operator token: stored in \.data\/operator-token$/m);
    assert.doesNotMatch(second.running.stdout(), new RegExp(token ?? "never"));
    assert.deepEqual(
      body.items.map((d) => d.serialNumber),
      ["SN-RESTART"],
    );
    assert.equal(code, 0);
  });

  it("refuses an invalid value with exit code 2, naming the key and the range, without a stack trace", async () => {
    const running = run(["--port", "0"], emptyDir(), cleanEnv({ IoT__MessageBus__LeaseSeconds: "2" }));

    const code = await running.exit();

    assert.equal(code, 2);
    assert.equal(
      running.stderr(),
      "granit-iot: invalid configuration, not starting:\n  IoT:MessageBus:LeaseSeconds: must be between 5 and 3600 (got 2)\n",
    );
    assert.equal(running.stdout(), "");
  });

  it("starts on PostgreSQL when DATABASE_URL is set", {
    skip: process.env.DATABASE_URL ? false : "DATABASE_URL is not set: PostgreSQL start skipped (PGlite ran)",
  }, async () => {
    const url = process.env.DATABASE_URL as string;
    const schema = `t_main_${randomBytes(4).toString("hex")}`;
    try {
      const { running, url: hostUrl } = await start(
        emptyDir(),
        cleanEnv({ DATABASE_URL: url, Database__Schema: schema }),
      );
      const ready = await fetch(`${hostUrl}/health/ready`);
      const code = await stop(running);

      assert.match(running.stdout(), new RegExp(`^Database: +PostgreSQL .* \\(schema ${schema}\\)$`, "m"));
      assert.equal(ready.status, 200);
      assert.equal(code, 0);
    } finally {
      const database = await Database.open({ url });
      await database.execute(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await database.close();
    }
  });
});
