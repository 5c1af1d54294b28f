/**
 * The backends a conformance suite runs against: this emulator always, and moto when `moto_server` is
 * on PATH (otherwise a printed skip reason). Same pattern as `databaseTargets()` of
 * `@granit/iot-postgres/testing`: `for (const target of awsTargets()) describe(target.name, ...)`.
 */
import { type Emulator, type EmulatorOptions, startEmulator } from "./emulator.ts";
import { findMotoServer, MOTO_NOT_FOUND, startMotoServer } from "./moto-server.ts";

/** Endpoint, region and dummy credentials: spread into any AWS SDK v3 client config. */
export interface AwsClientConfig {
  endpoint: string;
  region: string;
  credentials: { accessKeyId: string; secretAccessKey: string };
}

/** One running backend. */
export interface AwsBackend {
  readonly name: "emulator" | "moto";
  readonly url: string;
  clientConfig(): AwsClientConfig;
  /** Forgets every resource (emulator: in memory; moto: `POST /moto-api/reset`). */
  reset(): Promise<void>;
  stop(): Promise<void>;
  /** The emulator itself (inventory, faults, quotas, call log); undefined for moto. */
  readonly emulator: Emulator | undefined;
}

/** A backend to run against, or the reason it is skipped on this machine. */
export interface AwsTarget {
  readonly name: "emulator" | "moto";
  /** A reason to skip (print it: `{ skip: target.skip }`), or false. */
  readonly skip: string | false;
  start(): Promise<AwsBackend>;
}

export interface AwsTargetsOptions {
  /** Options of the emulator target (`port` defaults to 0, any free port). */
  emulator?: EmulatorOptions;
}

/**
 * The emulator always; moto when `moto_server` is on PATH, else skipped with
 * "moto_server not found on PATH: conformance against moto skipped". Start one backend per test file
 * (`before`), `reset()` it between tests (`beforeEach`) and `stop()` it at the end (`after`).
 */
export function awsTargets(options: AwsTargetsOptions = {}): AwsTarget[] {
  const executable = findMotoServer();
  return [
    {
      name: "emulator",
      skip: false,
      async start() {
        const emulator = await startEmulator({ port: 0, ...options.emulator });
        return {
          name: "emulator",
          url: emulator.url,
          clientConfig: () => emulator.clientConfig(),
          reset: async () => emulator.reset(),
          stop: () => emulator.stop(),
          emulator,
        };
      },
    },
    {
      name: "moto",
      skip: executable ? false : MOTO_NOT_FOUND,
      async start() {
        const moto = await startMotoServer({ executable });
        return {
          name: "moto",
          url: moto.url,
          clientConfig: () => moto.clientConfig(),
          reset: () => moto.reset(),
          stop: () => moto.stop(),
          emulator: undefined,
        };
      },
    },
  ];
}
