/**
 * One fleet-provisioning stack on a test database: the core and AWS migrations, the durable bus
 * (with a recorder on the events this feature raises), the real Postgres stores, the feature built by
 * `createFleetProvisioning`, and a bare Fastify app with the plugin mounted at the host's prefix —
 * requests go through `app.inject` (no socket). Fleet keys for two tenants are issued up front.
 */
import { type DomainEvent, ManualClock } from "@granit/iot";
import { ManualScheduler } from "@granit/iot-aws";
import { TestMetrics } from "@granit/iot-aws/testing";
import {
  createFleetProvisioning,
  FLEET_PROVISIONING_PREFIX,
  type FleetProvisioning,
  fleetAuthorizationHeader,
  fleetProvisioningPlugin,
  type IssuedFleetKey,
  parseFleetProvisioningOptions,
  type SerialPolicy,
} from "@granit/iot-aws-fleet-provisioning";
import {
  IOTAWS_MIGRATIONS,
  PostgresAwsThingBindingStore,
  type PostgresFleetProvisioningStores,
  postgresFleetProvisioningStores,
} from "@granit/iot-aws-postgres";
import { IOT_MIGRATIONS, PostgresDeviceStore, PostgresMessageBus } from "@granit/iot-postgres";
import type { DatabaseTarget, TestDatabase } from "@granit/iot-postgres/testing";
import Fastify, { type FastifyInstance, type LightMyRequestResponse } from "fastify";

export const TENANT_A = "0194a5e0-aaaa-7aaa-8aaa-aaaaaaaaaaaa";
export const TENANT_B = "0194a5e0-bbbb-7bbb-8bbb-bbbbbbbbbbbb";
export const MASTER_KEY = Buffer.alloc(32, 7).toString("base64");
export const ACCOUNT = "123456789012";
export const START = "2026-03-01T08:00:00.000Z";

/** Events the recorder subscribes to. */
export const RECORDED_EVENTS = [
  "DeviceProvisionedEvent",
  "DeviceActivatedEvent",
  "AwsThingProvisionedEvent",
  "ClaimCertificateExpiringEvent",
] as const;

export interface FleetFixture {
  readonly tdb: TestDatabase;
  readonly clock: ManualClock;
  readonly scheduler: ManualScheduler;
  readonly bus: PostgresMessageBus;
  readonly devices: PostgresDeviceStore;
  readonly bindings: PostgresAwsThingBindingStore;
  readonly stores: PostgresFleetProvisioningStores;
  readonly fleet: FleetProvisioning;
  readonly app: FastifyInstance;
  readonly metrics: TestMetrics;
  readonly keys: { readonly a: IssuedFleetKey; readonly b: IssuedFleetKey; readonly host: IssuedFleetKey };
  /** Events delivered to the recorder (call `bus.drain()` first). */
  readonly delivered: DomainEvent[];
  /** Signs (unless `authorization` is given) and injects a POST to `/verify` or `/registered`. */
  post(path: "/verify" | "/registered" | string, options?: PostOptions): Promise<LightMyRequestResponse>;
  /** Row count of every `iot_*` / `iotaws_*` table (bus deliveries included). */
  rowCounts(): Promise<Record<string, number>>;
  dispose(): Promise<void>;
}

export interface PostOptions {
  readonly key?: IssuedFleetKey;
  /** JSON-serialised unless a string or Buffer. */
  readonly body?: unknown;
  readonly contentType?: string | null;
  /** Replaces the signature header entirely (`null`: no header). */
  readonly authorization?: string | null;
  readonly timestamp?: string;
  readonly headers?: Record<string, string>;
}

export async function openFleetFixture(
  target: DatabaseTarget,
  options: { config?: Record<string, unknown>; serialPolicy?: SerialPolicy } = {},
): Promise<FleetFixture> {
  const tdb = await target.open({ migrations: [IOT_MIGRATIONS, IOTAWS_MIGRATIONS] });
  const clock = new ManualClock(START);
  const scheduler = new ManualScheduler(START);
  const bus = new PostgresMessageBus(tdb.database, { pollIntervalMs: 50 });
  const delivered: DomainEvent[] = [];
  for (const type of RECORDED_EVENTS) {
    bus.subscribe(type, "test.recorder", async (event) => {
      delivered.push(event);
    });
  }
  await bus.start();
  const devices = new PostgresDeviceStore(tdb.database, bus);
  const bindings = new PostgresAwsThingBindingStore(tdb.database, bus);
  const stores = postgresFleetProvisioningStores(tdb.database, bus);
  const metrics = new TestMetrics("granit.iot.aws.fleet_provisioning");
  const fleet = await createFleetProvisioning({
    options: parseFleetProvisioningOptions({ MasterKey: MASTER_KEY, ...options.config }),
    unitOfWork: tdb.database,
    devices,
    bindings,
    stores,
    clock,
    scheduler,
    meter: metrics.meter,
    serialPolicy: options.serialPolicy,
  });
  const app = Fastify({ logger: false });
  await app.register(fleetProvisioningPlugin, { prefix: FLEET_PROVISIONING_PREFIX, ...fleet.pluginOptions });
  await app.ready();
  const keys = {
    a: await fleet.fleetKeys.create({ tenantId: TENANT_A, actor: "alice" }, { description: "lambda A" }),
    b: await fleet.fleetKeys.create({ tenantId: TENANT_B, actor: "bob" }, { description: "lambda B" }),
    host: await fleet.fleetKeys.create({ tenantId: null, actor: "ops" }),
  };

  const post = (path: string, postOptions: PostOptions = {}) => {
    const key = postOptions.key ?? keys.a;
    const url = path.startsWith("/api/") ? path : `${FLEET_PROVISIONING_PREFIX}${path}`;
    const raw = postOptions.body;
    const payload =
      raw === undefined ? "" : typeof raw === "string" || Buffer.isBuffer(raw) ? raw : JSON.stringify(raw);
    const headers: Record<string, string> = { ...postOptions.headers };
    if (postOptions.contentType !== null)
      headers["content-type"] = postOptions.contentType ?? "application/json";
    if (postOptions.authorization === undefined) {
      headers.authorization = fleetAuthorizationHeader({
        keyId: key.keyId,
        secret: key.secret,
        method: "POST",
        path: url.split("?")[0] as string,
        body: payload,
        timestamp: postOptions.timestamp ?? clock.now().toISOString(),
      });
    } else if (postOptions.authorization !== null) {
      headers.authorization = postOptions.authorization;
    }
    return app.inject({ method: "POST", url, headers, payload });
  };

  const rowCounts = async () => {
    const tables = await tdb.database.execute<{ table_name: string }>(
      `SELECT table_name FROM information_schema.tables
       WHERE table_schema = $1 AND (table_name LIKE 'iot\\_%' OR table_name LIKE 'iotaws\\_%') ORDER BY 1`,
      [tdb.schema],
    );
    const counts: Record<string, number> = {};
    for (const { table_name } of tables) {
      const [row] = await tdb.database.execute<{ n: number }>(`SELECT count(*)::int AS n FROM ${table_name}`);
      counts[table_name] = Number(row?.n ?? 0);
    }
    return counts;
  };

  return {
    tdb,
    clock,
    scheduler,
    bus,
    devices,
    bindings,
    stores,
    fleet,
    app,
    metrics,
    keys,
    delivered,
    post,
    rowCounts,
    async dispose() {
      await fleet.rotationCheck.stop();
      await app.close();
      await bus.stop();
      await tdb.dispose();
    },
  };
}

/** A valid `/registered` body for `serial` in `tenantId`. */
export function registeredBody(
  tenantId: string | null,
  serial: string,
  overrides: Record<string, unknown> = {},
): Record<string, unknown> {
  const hex = tenantId === null ? "0".repeat(32) : tenantId.replaceAll("-", "");
  const thingName = `t${hex}-${serial}`;
  return {
    serialNumber: serial,
    thingName,
    thingArn: `arn:aws:iot:eu-west-1:${ACCOUNT}:thing/${thingName}`,
    certificateArn: `arn:aws:iot:eu-west-1:${ACCOUNT}:cert/${"c".repeat(63)}${serial.length % 10}`,
    model: "GW-100",
    firmwareVersion: "1.4.2",
    ...overrides,
  };
}
