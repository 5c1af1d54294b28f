/**
 * Test support: a real host on port 0 over a database target (`databaseTargets()`), a small
 * `fetch` client, a bus subscriber that records every delivered device event, and a snapshot of
 * everything a request could have written (rows, versions, timeline, heartbeats, bus deliveries),
 * so error tests can assert that nothing changed.
 */
import "../../src/telemetry/meter-provider.ts";

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DEVICE_EVENT_TYPES, type DomainEvent, ManualClock } from "@granit/iot";
import type { DatabaseTarget, TestDatabase } from "@granit/iot-postgres/testing";
import { Scopes } from "../../src/auth/scopes.ts";
import { loadConfig } from "../../src/config/load-config.ts";
import { createHost, type Host } from "../../src/host.ts";

export const TENANT_A = "0194a5e0-aaaa-7aaa-8aaa-aaaaaaaaaaaa";
export const TENANT_B = "0194a5e0-bbbb-7bbb-8bbb-bbbbbbbbbbbb";

/** Secrets of the configured tokens (≥ 16 characters, as configuration demands). */
export const TOKENS = {
  operator: "host-operator-token-0001",
  tenantA: "tenant-a-manager-token-0001",
  tenantB: "tenant-b-manager-token-0001",
  tenantAReader: "tenant-a-reader-token-0001",
  /** Configured by its SHA-256 only. */
  tenantBHashed: "tenant-b-hashed-token-0001",
} as const;

const sha256Hex = async (text: string) =>
  Buffer.from(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text))).toString("hex");

export interface ApiResponse {
  readonly status: number;
  readonly headers: Headers;
  // biome-ignore lint/suspicious/noExplicitAny: test assertions read arbitrary JSON.
  readonly body: any;
  readonly text: string;
}

export interface CallOptions {
  readonly token?: string | null;
  readonly json?: unknown;
  readonly body?: string | Uint8Array;
  readonly headers?: Record<string, string>;
}

export interface WriteSnapshot {
  readonly devices: number;
  readonly versions: number;
  readonly timeline: number;
  readonly heartbeats: string | null;
  /** Events the recording subscriber received (after draining the bus). */
  readonly delivered: number;
  readonly deadLetters: number;
}

export interface TestHost {
  readonly host: Host;
  readonly clock: ManualClock;
  readonly testDatabase: TestDatabase;
  /** Events the recording subscriber received. */
  readonly delivered: DomainEvent[];
  call(method: string, path: string, options?: CallOptions): Promise<ApiResponse>;
  /** Creates a device as `token` and returns its JSON (asserting 201). */
  createDevice(
    token: string,
    input?: Record<string, unknown>,
  ): Promise<Record<string, unknown> & { id: string }>;
  snapshot(): Promise<WriteSnapshot>;
  dispose(): Promise<void>;
}

export async function startTestHost(
  target: DatabaseTarget,
  options: { bodyLimitBytes?: number; beforeStart?: (host: Host) => unknown } = {},
): Promise<TestHost> {
  const dataDir = mkdtempSync(join(tmpdir(), "granit-host-test-"));
  const config = loadConfig({
    env: {},
    overrides: {
      Host: { Port: 0, DataDir: dataDir, BodyLimitBytes: options.bodyLimitBytes ?? 1_048_576 },
      Logging: { Level: "silent" },
      IoT: { MessageBus: { PollIntervalMilliseconds: 50 } },
      Auth: {
        Tokens: [
          { Name: "operator", Token: TOKENS.operator, TenantId: null },
          { Name: "alice@tenant-a", Token: TOKENS.tenantA, TenantId: TENANT_A },
          { Name: "bob@tenant-b", Token: TOKENS.tenantB, TenantId: TENANT_B },
          {
            Name: "reader@tenant-a",
            Token: TOKENS.tenantAReader,
            TenantId: TENANT_A,
            Scopes: [Scopes.DevicesRead],
          },
          { Name: "hashed@tenant-b", TokenSha256: await sha256Hex(TOKENS.tenantBHashed), TenantId: TENANT_B },
        ],
      },
    },
  });
  const testDatabase = await target.open();
  const clock = new ManualClock("2026-03-01T08:00:00.000Z");
  const host = await createHost(config, { database: testDatabase.database, clock });
  const delivered: DomainEvent[] = [];
  for (const type of DEVICE_EVENT_TYPES) {
    host.bus.subscribe(type, "test-recorder", async (event) => {
      delivered.push(event);
    });
  }
  // Awaited only when it is a promise (a Fastify instance is thenable: awaiting it would make it ready).
  const prepared = options.beforeStart?.(host);
  if (prepared instanceof Promise) await prepared;
  await host.start();

  const call = async (method: string, path: string, callOptions: CallOptions = {}): Promise<ApiResponse> => {
    const headers: Record<string, string> = { ...callOptions.headers };
    if (callOptions.token) headers.authorization = `Bearer ${callOptions.token}`;
    let body: string | Uint8Array | undefined = callOptions.body;
    if (callOptions.json !== undefined) {
      headers["content-type"] ??= "application/json";
      body = JSON.stringify(callOptions.json);
    }
    const response = await fetch(`${host.url}${path}`, { method, headers, body });
    const text = await response.text();
    const type = response.headers.get("content-type") ?? "";
    return {
      status: response.status,
      headers: response.headers,
      body: text && /json/.test(type) ? JSON.parse(text) : undefined,
      text,
    };
  };

  let serial = 0;
  return {
    host,
    clock,
    testDatabase,
    delivered,
    call,
    async createDevice(token, input = {}) {
      serial++;
      const response = await call("POST", "/api/iot/devices", {
        token,
        json: {
          serialNumber: `SN-${String(serial).padStart(4, "0")}`,
          model: "GW-100",
          firmware: "1.0.0",
          ...input,
        },
      });
      if (response.status !== 201) throw new Error(`create failed: ${response.status} ${response.text}`);
      clock.advance(1000);
      return response.body;
    },
    async snapshot() {
      await host.bus.drain();
      const [row] = await testDatabase.database.execute<{
        devices: number;
        versions: number;
        timeline: number;
        heartbeats: string | null;
        dead: number;
      }>(
        `SELECT (SELECT count(*)::int FROM iot_devices) AS devices,
                (SELECT coalesce(sum(version), 0)::int FROM iot_devices) AS versions,
                (SELECT count(*)::int FROM iot_timeline_entries) AS timeline,
                (SELECT string_agg(coalesce(last_heartbeat_at::text, '-'), ',' ORDER BY id) FROM iot_devices) AS heartbeats,
                (SELECT count(*)::int FROM iot_bus_deliveries WHERE status = 'dead') AS dead`,
      );
      if (!row) throw new Error("snapshot query returned nothing");
      const { dead, ...rest } = row;
      return { ...rest, delivered: delivered.length, deadLetters: dead };
    },
    async dispose() {
      await host.stop();
      await testDatabase.dispose();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
