/**
 * Test support for the CLI tests: runs `src/cli.ts` as a child process, as an operator's shell
 * does, in an empty working directory and an environment without `GRANIT_*` variables (so nothing
 * configures it behind the test's back), and answers its exit code, stdout and stderr.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

export const CLI = fileURLToPath(new URL("../../src/cli.ts", import.meta.url));
export const FIXTURES = fileURLToPath(new URL(".", import.meta.url));
/** Generous bound so a hung child fails the test instead of hanging the run; never a timing assertion. */
const PATIENCE_MS = 120_000;

export interface CliResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  // biome-ignore lint/suspicious/noExplicitAny: tests read arbitrary JSON.
  json(): any;
  // biome-ignore lint/suspicious/noExplicitAny: tests read arbitrary JSON.
  errorJson(): any;
}

export interface RunOptions {
  readonly env?: Readonly<Record<string, string>>;
  readonly cwd?: string;
}

/** A fresh empty directory, removed by `removeTempDirs()`. */
const dirs: string[] = [];
export function tempDir(prefix = "granit-cli-test-"): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  dirs.push(dir);
  return dir;
}
export function removeTempDirs(): void {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
}

function cleanEnv(extra: Readonly<Record<string, string>>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (key.startsWith("GRANIT_") || key === "NO_COLOR" || key === "FORCE_COLOR") continue;
    env[key] = value;
  }
  return { ...env, ...extra };
}

let defaultCwd: string | undefined;

/** Runs `granit-iot <args>` and waits for it to exit. */
export function granitIot(args: readonly string[], options: RunOptions = {}): Promise<CliResult> {
  defaultCwd ??= tempDir("granit-cli-cwd-");
  const child = spawn(process.execPath, [CLI, ...args], {
    cwd: options.cwd ?? defaultCwd,
    env: cleanEnv(options.env ?? {}),
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
    stdout += chunk;
  });
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
    stderr += chunk;
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(
        new Error(`granit-iot ${args.join(" ")} did not exit within ${PATIENCE_MS} ms\n${stdout}\n${stderr}`),
      );
    }, PATIENCE_MS);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({
        code,
        stdout,
        stderr,
        json: () => JSON.parse(stdout),
        errorJson: () => JSON.parse(stderr),
      });
    });
  });
}

/** A port nothing listens on (bound once, then closed). */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** A plain HTTP server for answers a real host never gives (500s, HTML, silence). */
export async function startStubServer(
  handler: (request: IncomingMessage, response: ServerResponse) => void,
): Promise<{ readonly url: string; readonly requests: string[]; close(): Promise<void> }> {
  const requests: string[] = [];
  const server: Server = createServer((request, response) => {
    requests.push(`${request.method} ${request.url}`);
    handler(request, response);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
