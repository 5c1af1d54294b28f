/**
 * The world every integration test of the shadow bridge runs in: a real database (`databaseTargets()`,
 * fresh schema, iot + iotaws migrations), the real bus and stores, `@granit/aws-iot-emulator` reached
 * through the real AWS SDK clients (`maxAttempts: 1`), and one fake time source — a `ManualScheduler`
 * that also drives the clock and the emulator's clock, so shadow metadata timestamps are deterministic.
 */
import { CreateThingCommand, IoTClient } from "@aws-sdk/client-iot";
import {
  GetThingShadowCommand,
  IoTDataPlaneClient,
  UpdateThingShadowCommand,
} from "@aws-sdk/client-iot-data-plane";
import { type Emulator, startEmulator } from "@granit/aws-iot-emulator";
import {
  type ChangeContext,
  type Clock,
  Device,
  type DeviceStore,
  type DomainEvent,
  uuidv7,
} from "@granit/iot";
import {
  AwsCallPolicy,
  AwsThingBinding,
  type DeviceDesiredStateChangedEvent,
  type JsonObject,
  ManualScheduler,
  ThingName,
} from "@granit/iot-aws";
import { TestMetrics } from "@granit/iot-aws/testing";
import {
  IOTAWS_MIGRATIONS,
  PostgresAwsThingBindingStore,
  PostgresShadowSyncStateStore,
} from "@granit/iot-aws-postgres";
import { IOT_MIGRATIONS, PostgresMessageBus } from "@granit/iot-postgres";
import type { DatabaseTarget, TestDatabase } from "@granit/iot-postgres/testing";
import {
  type AwsShadowOptions,
  DesiredStateDeltaHandler,
  defaultAwsShadowOptions,
  LifecycleShadowPushHandler,
  parseShadowDocument,
  ShadowDeltaPoller,
  type ShadowDocument,
  ShadowMetrics,
  ThingShadowClient,
} from "../../src/index.ts";

export const TENANT_A = "0a7c2b6e-0000-4000-8000-00000000000a";
export const TENANT_B = "0b7c2b6e-0000-4000-8000-00000000000b";
export const RECORDER = "test.recorder";
const HIGH = { TokensPerSecond: 100_000, Burst: 100_000 };

/** Where AWS calls go: the emulator, or moto (conformance). */
export interface AwsEndpoint {
  clientConfig(): {
    endpoint: string;
    region: string;
    credentials: { accessKeyId: string; secretAccessKey: string };
  };
  readonly region: string;
  readonly accountId: string;
}

export interface World {
  readonly tdb: TestDatabase;
  readonly bus: PostgresMessageBus;
  readonly bindings: PostgresAwsThingBindingStore;
  readonly syncState: PostgresShadowSyncStateStore;
  readonly aws: AwsEndpoint;
  /** Undefined when the world runs against moto. */
  readonly emulator: Emulator | undefined;
  readonly iot: IoTClient;
  readonly data: IoTDataPlaneClient;
  readonly scheduler: ManualScheduler;
  readonly clock: Clock;
  readonly policy: AwsCallPolicy;
  dispose(): Promise<void>;
}

/** Opens the database and the AWS endpoint (the emulator unless `aws` is given). */
export async function openWorld(
  target: DatabaseTarget,
  options: { aws?: AwsEndpoint; maxAttempts?: number } = {},
): Promise<World> {
  const scheduler = new ManualScheduler("2026-06-01T08:00:00.000Z");
  const clock: Clock = { now: () => new Date(scheduler.now()) };
  const tdb = await target.open({ migrations: [IOT_MIGRATIONS, IOTAWS_MIGRATIONS] });
  const emulator = options.aws ? undefined : await startEmulator({ port: 0, clock: () => clock.now() });
  const aws: AwsEndpoint = options.aws ?? {
    clientConfig: () => (emulator as Emulator).clientConfig(),
    region: (emulator as Emulator).region,
    accountId: (emulator as Emulator).accountId,
  };
  const bus = new PostgresMessageBus(tdb.database);
  bus.subscribe("DeviceDesiredStateChangedEvent", RECORDER, async () => {});
  await bus.start(); // registers the subscription; deliveries then stay in the table for inspection
  await bus.stop();
  const policy = new AwsCallPolicy(
    {
      maxAttempts: options.maxAttempts ?? 1,
      rateLimits: {
        "iotdata:GetThingShadow": { tokensPerSecond: HIGH.TokensPerSecond, burst: HIGH.Burst },
        "iotdata:UpdateThingShadow": { tokensPerSecond: HIGH.TokensPerSecond, burst: HIGH.Burst },
      },
    },
    { scheduler },
  );
  return {
    tdb,
    bus,
    bindings: new PostgresAwsThingBindingStore(tdb.database, bus),
    syncState: new PostgresShadowSyncStateStore(tdb.database),
    aws,
    emulator,
    iot: new IoTClient({ ...aws.clientConfig(), maxAttempts: 1 }),
    data: new IoTDataPlaneClient({ ...aws.clientConfig(), maxAttempts: 1 }),
    scheduler,
    clock,
    policy,
    async dispose() {
      await emulator?.stop();
      await tdb.dispose();
    },
  };
}

/** Empties the tables and the emulator between tests. */
export async function resetWorld(world: World): Promise<void> {
  for (const table of ["iotaws_shadow_sync", "iotaws_thing_bindings", "iot_bus_deliveries"]) {
    await world.tdb.database.execute(`DELETE FROM ${table}`);
  }
  world.emulator?.reset();
  world.emulator?.setFaults([]);
}

/** The components under test, built fresh (with fresh metrics) for one test. */
export function components(
  world: World,
  overrides: Partial<AwsShadowOptions> = {},
  dataClient: Pick<IoTDataPlaneClient, "send"> = world.data,
) {
  const options = { ...defaultAwsShadowOptions(), ...overrides };
  const testMetrics = new TestMetrics("granit.iot.aws.shadow");
  const metrics = new ShadowMetrics(testMetrics.meter);
  const shadows = new ThingShadowClient(dataClient, world.policy, {
    perThingRequestsPerSecond: options.perThingRequestsPerSecond,
    scheduler: world.scheduler,
  });
  const { bindings, syncState, bus, clock, scheduler } = world;
  return {
    options,
    testMetrics,
    metrics,
    shadows,
    push: new LifecycleShadowPushHandler({ bindings, shadows, options, clock, metrics }),
    deltas: new DesiredStateDeltaHandler({ bus, syncState, unitOfWork: world.tdb.database, clock, metrics }),
    poller: new ShadowDeltaPoller({ syncState, shadows, options, clock, scheduler, metrics }),
  };
}

let serial = 0;

export const change = (world: World, by = "test"): ChangeContext => ({ at: world.clock.now(), by });

/** A thing in AWS and an Active binding for it (as `createForJitp` leaves it), stored. */
export async function activeBinding(
  world: World,
  tenantId: string | null = TENANT_A,
): Promise<AwsThingBinding> {
  const thingName = ThingName.from(tenantId, `SH-${String(++serial).padStart(5, "0")}`);
  await world.iot.send(new CreateThingCommand({ thingName: thingName.value }));
  const { region, accountId } = world.aws;
  const binding = AwsThingBinding.createForJitp(
    {
      deviceId: uuidv7(),
      tenantId,
      thingName,
      thingArn: `arn:aws:iot:${region}:${accountId}:thing/${thingName}`,
      certificateArn: `arn:aws:iot:${region}:${accountId}:cert/${serial.toString(16).padStart(64, "a")}`,
      certificateSecretArn: `arn:aws:secretsmanager:${region}:${accountId}:secret:iot/${thingName}-AbC123`,
    },
    change(world, "fleet"),
  );
  await world.bindings.add(binding);
  return binding;
}

/** A device in Provisioning and its binding in Pending (the saga has just started), both stored. */
export async function provisioningDevice(
  world: World,
  devices: DeviceStore,
  tenantId: string | null = TENANT_A,
): Promise<{ device: Device; binding: AwsThingBinding; thing: string }> {
  const thingName = ThingName.from(tenantId, `PV-${String(++serial).padStart(5, "0")}`);
  const device = Device.provision(
    { tenantId, serialNumber: thingName.serialNumber, model: "GW-100", firmware: "1.0.0" },
    change(world, "operator"),
  );
  await devices.add(device);
  const binding = AwsThingBinding.create({ deviceId: device.id, tenantId, thingName }, change(world, "saga"));
  await world.bindings.add(binding);
  return { device, binding, thing: thingName.value };
}

/** What the provisioning saga does: Thing, key, certificate, secret — then Active (raising the event). */
export async function sagaMakesActive(world: World, binding: AwsThingBinding): Promise<void> {
  const thing = binding.thingName.value;
  const created = await world.iot.send(new CreateThingCommand({ thingName: thing }));
  const { region, accountId } = world.aws;
  const at = change(world, "saga");
  binding.recordThingCreated(created.thingArn ?? "", at);
  binding.recordKeyEscrowed(`arn:aws:secretsmanager:${region}:${accountId}:secret:iot/${thing}-AbC123`, at);
  binding.recordCertificateIssued(`arn:aws:iot:${region}:${accountId}:cert/${"c".repeat(64)}`, at);
  binding.recordSecretStored(at);
  await world.bindings.update(binding);
  binding.markActive(change(world, "saga"));
  await world.bindings.update(binding); // commits AwsThingProvisionedEvent with the Active binding
}

/** The device of a binding; its lifecycle methods raise the events the push handler consumes. */
export function deviceOf(world: World, binding: AwsThingBinding): Device {
  const device = Device.provision(
    {
      id: binding.deviceId,
      tenantId: binding.tenantId,
      serialNumber: binding.thingName.serialNumber,
      model: "GW-100",
      firmware: "1.0.0",
    },
    change(world),
  );
  device.pullEvents();
  return device;
}

/** Runs a lifecycle operation on the device and returns the one event it raised. */
export function lifecycle<E extends DomainEvent>(
  world: World,
  device: Device,
  operation: "activate" | "suspend" | "reactivate",
): E {
  if (operation === "suspend") device.suspend("maintenance", change(world));
  else device[operation](change(world));
  const [event] = device.pullEvents();
  if (!event) throw new Error(`${operation} raised no event`);
  return event as E;
}

/** What an app or a device writes to the shadow through the IoT data plane. */
export async function updateShadow(
  world: World,
  thingName: string,
  state: { desired?: JsonObject | null; reported?: JsonObject | null },
): Promise<ShadowDocument> {
  const output = await world.data.send(
    new UpdateThingShadowCommand({ thingName, payload: new TextEncoder().encode(JSON.stringify({ state })) }),
  );
  return parseShadowDocument(output.payload);
}

export async function readShadow(world: World, thingName: string): Promise<ShadowDocument> {
  const output = await world.data.send(new GetThingShadowCommand({ thingName }));
  return parseShadowDocument(output.payload);
}

/** Every `DeviceDesiredStateChangedEvent` published on the bus (outbox rows of the recorder), oldest first. */
export async function publishedDeltas(world: World): Promise<DeviceDesiredStateChangedEvent[]> {
  const rows = await world.tdb.database.execute<{ payload: DeviceDesiredStateChangedEvent | string }>(
    `SELECT payload FROM iot_bus_deliveries WHERE handler = $1 AND event_type = 'DeviceDesiredStateChangedEvent' ORDER BY id`,
    [RECORDER],
  );
  return rows.map((r) => (typeof r.payload === "string" ? JSON.parse(r.payload) : r.payload));
}

/** Hooks around a real data-plane client's `send` (the SDK seam): observe or delay calls, never fake them. */
export interface SendHooks {
  before?(operation: string, input: Record<string, unknown>): Promise<void> | void;
  after?(operation: string, input: Record<string, unknown>, output: unknown): Promise<void> | void;
}

/** A data-plane client that runs `hooks` around each call of the real client. */
export function hookedDataClient(
  inner: IoTDataPlaneClient,
  hooks: SendHooks,
): Pick<IoTDataPlaneClient, "send"> {
  return {
    // biome-ignore lint/suspicious/noExplicitAny: forwards any command to the real client.
    send: (async (command: any, options?: any) => {
      const operation = String(command.constructor.name).replace(/Command$/, "");
      await hooks.before?.(operation, command.input);
      const output = await inner.send(command, options);
      await hooks.after?.(operation, command.input, output);
      return output;
    }) as IoTDataPlaneClient["send"],
  };
}

/** A promise that a test resolves when it wants the gated code to go on. */
export function gate(): { wait: Promise<void>; open: () => void } {
  let open = () => {};
  const wait = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { wait, open };
}
