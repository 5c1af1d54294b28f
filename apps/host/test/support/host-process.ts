/**
 * `src/main.ts` as a child process, as an operator runs it: output captured, waited on by pattern.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after } from "node:test";
import { fileURLToPath } from "node:url";

const MAIN = fileURLToPath(new URL("../../src/main.ts", import.meta.url));

/** Empty temporary folders named `prefix…`, removed after the test file. */
export function tempDirs(prefix: string): () => string {
  const dirs: string[] = [];
  after(() => {
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });
  return () => {
    const dir = mkdtempSync(join(tmpdir(), prefix));
    dirs.push(dir);
    return dir;
  };
}

/** The environment without anything that would configure the child behind the test's back. */
export function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    // AWS_*: an AWS account in the runner's environment would take the host off its emulator.
    if (key === "DATABASE_URL" || key === "GRANIT_CONFIG" || key.includes("__") || key.startsWith("AWS_"))
      continue;
    env[key] = value;
  }
  return { ...env, ...extra };
}

export interface RunningHost {
  readonly child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** The first match of `pattern` in stdout; rejects when the child exits first or after the patience. */
  waitFor(pattern: RegExp): Promise<RegExpMatchArray>;
  exit(): Promise<number | null>;
}

/**
 * Spawns `node src/main.ts ...args`. `patienceMs` is a generous bound so a hung child fails the test
 * instead of hanging the run; never a timing assertion.
 */
export function runHost(
  args: readonly string[],
  options: { readonly cwd: string; readonly env: NodeJS.ProcessEnv; readonly patienceMs: number },
): RunningHost {
  const { cwd, env, patienceMs } = options;
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
          reject(new Error(`no ${pattern} within ${patienceMs} ms.\nstdout:\n${out}\nstderr:\n${err}`));
        }, patienceMs);
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
