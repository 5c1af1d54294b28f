/**
 * Starts `moto_server` (the Python AWS mock, https://docs.getmoto.org/en/latest/docs/server_mode.html)
 * on a free loopback port, so conformance suites can run the same scenarios against moto and against
 * the emulator. One process serves every service: moto routes each request by the service name in its
 * SigV4 credential scope, like the emulator does.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { accessSync, constants, statSync } from "node:fs";
import { createServer } from "node:net";
import { delimiter, join } from "node:path";

/** The printed reason for skipping every moto test on a machine without `moto_server`. */
export const MOTO_NOT_FOUND = "moto_server not found on PATH: conformance against moto skipped";

/** `moto_server` could not be started, or stopped answering. */
export class MotoServerError extends Error {
  override readonly name = "MotoServerError";
}

export interface MotoServerOptions {
  /** Path of the `moto_server` executable. @default the first `moto_server` on PATH */
  executable?: string;
  /** Loopback address to listen on. @default "127.0.0.1" */
  host?: string;
  /** Region of the client config. @default "us-east-1" */
  region?: string;
  /** Give up when moto has not answered by then. @default 30000 */
  startTimeoutMs?: number;
}

/** A running `moto_server` child process. */
export interface MotoServer {
  /** Base URL for SDK clients, e.g. `http://127.0.0.1:45123`. */
  readonly url: string;
  readonly port: number;
  readonly region: string;
  /** moto's fixed account id (moto's default `123456789012`). */
  readonly accountId: string;
  /** Spread into any AWS SDK v3 client config: endpoint, region and dummy static credentials. */
  clientConfig(): {
    endpoint: string;
    region: string;
    credentials: { accessKeyId: string; secretAccessKey: string };
  };
  /** Forgets every resource in every service (`POST /moto-api/reset`). */
  reset(): Promise<void>;
  /** Kills the process (SIGTERM, then SIGKILL after 3 s) and waits for it to exit. */
  stop(): Promise<void>;
}

/**
 * The first executable `moto_server` on PATH (what `which moto_server` prints), or undefined.
 * Synchronous, so a test file can decide `{ skip }` while it declares its tests.
 */
export function findMotoServer(path = process.env.PATH ?? ""): string | undefined {
  for (const dir of path.split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, "moto_server");
    try {
      accessSync(candidate, constants.X_OK);
      if (statSync(candidate).isFile()) return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

async function freeLoopbackPort(host: string): Promise<number> {
  const server = createServer();
  server.listen(0, host);
  await once(server, "listening");
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Kills the whole process group the child leads (the pyenv shim execs python in place, but be sure). */
function kill(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    child.kill(signal);
  }
}

/**
 * Spawns `moto_server -H <host> -p <free port>`, waits until it answers `POST /moto-api/reset`, and
 * returns its URL and client config. Throws MotoServerError when `moto_server` is not on PATH, exits
 * early, or does not answer within `startTimeoutMs`. Stop it with `stop()`; it is also killed when this
 * Node process exits.
 * @see https://docs.getmoto.org/en/latest/docs/server_mode.html
 */
export async function startMotoServer(options: MotoServerOptions = {}): Promise<MotoServer> {
  const executable = options.executable ?? findMotoServer();
  if (!executable) throw new MotoServerError(MOTO_NOT_FOUND);
  const host = options.host ?? "127.0.0.1";
  const region = options.region ?? "us-east-1";
  const deadline = Date.now() + (options.startTimeoutMs ?? 30_000);

  for (let attempt = 1; ; attempt++) {
    const port = await freeLoopbackPort(host);
    const child = spawn(executable, ["-H", host, "-p", String(port)], {
      stdio: ["ignore", "ignore", "pipe"],
      detached: true,
    });
    let stderr = "";
    child.stderr?.setEncoding("utf8");
    child.stderr?.on("data", (chunk: string) => {
      stderr = (stderr + chunk).slice(-4000);
    });
    const closed = once(child, "close").catch(() => undefined);
    const spawnError = once(child, "spawn").then(
      () => undefined,
      (error: Error) => error,
    );
    const onExit = () => kill(child, "SIGKILL");
    process.once("exit", onExit);
    const url = `http://${host.includes(":") ? `[${host}]` : host}:${port}`;

    const stop = async () => {
      process.off("exit", onExit);
      if (child.exitCode !== null || child.signalCode !== null) return;
      kill(child, "SIGTERM");
      const timer = setTimeout(() => kill(child, "SIGKILL"), 3_000);
      await closed;
      clearTimeout(timer);
    };
    const reset = async () => {
      const response = await fetch(`${url}/moto-api/reset`, { method: "POST" });
      await response.arrayBuffer();
      if (!response.ok) throw new MotoServerError(`moto reset answered HTTP ${response.status}`);
    };

    const failure = await spawnError;
    if (failure) {
      process.off("exit", onExit);
      throw new MotoServerError(`could not run ${executable}: ${failure.message}`, { cause: failure });
    }
    let answered = false;
    while (!answered && child.exitCode === null && child.signalCode === null && Date.now() < deadline) {
      answered = await reset().then(
        () => true,
        () => false,
      );
      if (!answered) await sleep(50);
    }
    if (answered) {
      // A forgotten stop() must not keep the test process alive: the exit hook kills moto anyway.
      child.unref();
      (child.stderr as { unref?: () => void } | null)?.unref?.();
      return {
        url,
        port,
        region,
        accountId: "123456789012",
        clientConfig: () => ({
          endpoint: url,
          region,
          credentials: { accessKeyId: "moto", secretAccessKey: "moto" },
        }),
        reset,
        stop,
      };
    }
    await stop();
    await closed;
    const portTaken = /address already in use/i.test(stderr);
    if (portTaken && attempt < 3 && Date.now() < deadline) continue;
    throw new MotoServerError(
      `${executable} did not answer on ${url} (exit code ${child.exitCode ?? "none"}): ${stderr.trim() || "no output"}`,
    );
  }
}
