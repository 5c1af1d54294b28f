/**
 * Test support: an emulator with a fake clock and the four real SDK v3 clients pointed at it.
 * Scenarios (test/scenarios/*.ts) only take the clients (plus, where time matters, a TimeControl),
 * so they can be re-run against another endpoint such as moto.
 */
import assert from "node:assert/strict";
import { IoTClient } from "@aws-sdk/client-iot";
import { IoTDataPlaneClient } from "@aws-sdk/client-iot-data-plane";
import { IoTJobsDataPlaneClient } from "@aws-sdk/client-iot-jobs-data-plane";
import { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { type Emulator, type EmulatorOptions, startEmulator } from "../../src/index.ts";

export interface Clients {
  readonly iot: IoTClient;
  readonly data: IoTDataPlaneClient;
  readonly jobs: IoTJobsDataPlaneClient;
  readonly secrets: SecretsManagerClient;
}

/** Moves the emulator's clock forward (only available against the emulator). */
export interface TimeControl {
  advance(ms: number): void;
}

export interface ClientConfig {
  endpoint: string;
  region: string;
  credentials: { accessKeyId: string; secretAccessKey: string };
}

/** SDK clients for `config`; one attempt by default so errors surface as they are answered. */
export function createClients(config: ClientConfig, maxAttempts = 1): Clients {
  const c = { ...config, maxAttempts };
  return {
    iot: new IoTClient(c),
    data: new IoTDataPlaneClient(c),
    jobs: new IoTJobsDataPlaneClient(c),
    secrets: new SecretsManagerClient(c),
  };
}

export function destroyClients(clients: Clients): void {
  clients.iot.destroy();
  clients.data.destroy();
  clients.jobs.destroy();
  clients.secrets.destroy();
}

export class FakeClock implements TimeControl {
  #now: number;

  constructor(start = Date.UTC(2025, 0, 1, 12, 0, 0)) {
    this.#now = start;
  }

  readonly now = (): Date => new Date(this.#now);

  advance(ms: number): void {
    this.#now += ms;
  }
}

export interface Harness {
  readonly emulator: Emulator;
  readonly clients: Clients;
  readonly clock: FakeClock;
}

/** Runs `body` against a fresh emulator on a random port with a fake clock, then tears it down. */
export async function withEmulator(
  body: (h: Harness) => Promise<void>,
  options: EmulatorOptions & { maxAttempts?: number } = {},
): Promise<void> {
  const clock = new FakeClock();
  const emulator = await startEmulator({ port: 0, clock: clock.now, ...options });
  const clients = createClients(emulator.clientConfig(), options.maxAttempts);
  try {
    await body({ emulator, clients, clock });
  } finally {
    destroyClients(clients);
    await emulator.stop();
  }
}

/** Runs a scenario that takes the clients (and optionally a TimeControl) against a fresh emulator. */
export function run(
  scenario: (clients: Clients, time: TimeControl) => Promise<void>,
  options?: EmulatorOptions,
) {
  return () => withEmulator(({ clients, clock }) => scenario(clients, clock), options);
}

interface NamedError {
  readonly name: string;
  $metadata?: { httpStatusCode?: number };
}

/**
 * Asserts that `promise` rejects with the SDK exception `type` (checked by name and instanceof) and,
 * when given, the HTTP status.
 */
export async function rejectsWith(
  promise: Promise<unknown>,
  type: (abstract new (...args: never[]) => Error) | string,
  status?: number,
): Promise<NamedError> {
  let caught: unknown;
  try {
    await promise;
  } catch (error) {
    caught = error;
  }
  assert.ok(caught, "expected the call to fail");
  const error = caught as NamedError;
  const name = typeof type === "string" ? type : type.name;
  assert.equal(error.name, name, `expected ${name}, got ${error.name}: ${(caught as Error).message}`);
  if (typeof type !== "string") assert.ok(caught instanceof type, `expected an instance of ${name}`);
  if (status !== undefined) {
    const actual = error.$metadata?.httpStatusCode;
    assert.equal(actual, status, `expected HTTP ${status} for ${name}, got ${actual}`);
  }
  return error;
}

export const utf8 = (value: unknown): Uint8Array => new TextEncoder().encode(JSON.stringify(value));
export const fromUtf8 = (payload: Uint8Array | undefined): Record<string, unknown> =>
  JSON.parse(new TextDecoder().decode(payload)) as Record<string, unknown>;
