/**
 * Test support: the emulator (real SDK clients over HTTP, a fake clock), a database target with the
 * core and iotaws_* migrations, the durable bus with a recorder of command outcome events, the
 * binding and tracking stores, and the jobs bridge wired as a host would (`registerAwsJobs`).
 * Devices are made the way the other bridge packages leave them: a thing in the emulator (IoT
 * client) and an Active binding written with the binding API.
 */
import { CreateThingCommand, IoTClient } from "@aws-sdk/client-iot";
import { IoTJobsDataPlaneClient } from "@aws-sdk/client-iot-jobs-data-plane";
import { type Emulator, startEmulator } from "@granit/aws-iot-emulator";
import { type DomainEvent, ManualClock, type ReadinessGate, uuidv7 } from "@granit/iot";
import { AwsCallPolicy, AwsThingBinding, ThingName } from "@granit/iot-aws";
import { TestMetrics } from "@granit/iot-aws/testing";
import {
  IOTAWS_MIGRATIONS,
  PostgresAwsThingBindingStore,
  PostgresJobTrackingStore,
} from "@granit/iot-aws-postgres";
import type { Database } from "@granit/iot-postgres";
import { IOT_MIGRATIONS, PostgresMessageBus } from "@granit/iot-postgres";
import type { DatabaseTarget, TestDatabase } from "@granit/iot-postgres/testing";
import {
  type AwsJobs,
  type AwsJobsOptions,
  type AwsJobsTestHooks,
  DEVICE_COMMAND_EVENT_TYPES,
  type DeviceCommandCompletedEvent,
  type DeviceCommandFailedEvent,
  defaultAwsJobsOptions,
  registerAwsJobs,
} from "../../src/index.ts";
import { type SimulatedJobDecision, SimulatedJobsDevice } from "../../src/testing.ts";

export const TENANT = "0a7c2b6e-0000-4000-8000-00000000000a";

export type OutcomeEvent = DeviceCommandCompletedEvent | DeviceCommandFailedEvent;

/** A device with an Active binding and its thing in the emulator. */
export interface TestDevice {
  readonly deviceId: string;
  readonly thingName: string;
  readonly thingArn: string;
  readonly binding: AwsThingBinding;
}

/** One "host": a bus, the stores on its own database handle, and the jobs bridge. */
export interface TestHost {
  readonly database: Database;
  readonly bus: PostgresMessageBus;
  readonly jobs: AwsJobs;
  readonly trackingStore: PostgresJobTrackingStore;
  readonly metrics: TestMetrics;
}

export class JobsHarness {
  readonly clock = new ManualClock("2026-06-01T08:00:00.000Z");
  readonly emulator: Emulator;
  readonly tdb: TestDatabase;
  readonly iot: IoTClient;
  readonly jobsData: IoTJobsDataPlaneClient;
  readonly bindingStore: PostgresAwsThingBindingStore;
  /** Outcome events delivered to the recorder, in delivery order. */
  readonly outcomes: OutcomeEvent[] = [];
  readonly #hosts: TestHost[] = [];
  #serial = 0;

  private constructor(emulator: Emulator, tdb: TestDatabase, bindingStore: PostgresAwsThingBindingStore) {
    this.emulator = emulator;
    this.tdb = tdb;
    this.bindingStore = bindingStore;
    this.iot = new IoTClient({ ...emulator.clientConfig(), maxAttempts: 1 });
    this.jobsData = new IoTJobsDataPlaneClient({ ...emulator.clientConfig(), maxAttempts: 3 });
  }

  static async open(target: DatabaseTarget): Promise<JobsHarness> {
    const tdb = await target.open({ migrations: [IOT_MIGRATIONS, IOTAWS_MIGRATIONS] });
    // The emulator reads the harness clock, so job timeouts move with it.
    let harness: JobsHarness | undefined;
    const emulator = await startEmulator({ port: 0, clock: () => harness?.clock.now() ?? new Date() });
    const setupBus = new PostgresMessageBus(tdb.database);
    harness = new JobsHarness(emulator, tdb, new PostgresAwsThingBindingStore(tdb.database, setupBus));
    return harness;
  }

  /** A host on the harness database (`another: true` → its own connection pool, "a second process"). */
  async host(
    options: {
      another?: boolean;
      jobs?: Partial<AwsJobsOptions>;
      hooks?: AwsJobsTestHooks;
      leaseMs?: number;
      record?: boolean;
      credentials?: ReadinessGate;
    } = {},
  ): Promise<TestHost> {
    const database = options.another ? await this.tdb.openAnother() : this.tdb.database;
    const bus = new PostgresMessageBus(database, { pollIntervalMs: 20, leaseMs: options.leaseMs ?? 30_000 });
    const trackingStore = new PostgresJobTrackingStore(database, bus);
    const metrics = new TestMetrics("granit.iot.aws.jobs");
    const jobs = registerAwsJobs({
      bus,
      bindingStore: new PostgresAwsThingBindingStore(database, bus),
      trackingStore,
      iot: this.iot,
      callPolicy: new AwsCallPolicy({ maxAttempts: 3, baseDelayMilliseconds: 10 }),
      options: { ...defaultAwsJobsOptions(), ...options.jobs },
      clock: this.clock,
      meter: metrics.meter,
      hooks: options.hooks,
      credentials: options.credentials,
      subscribeOptions: { backoffMs: 20, maxBackoffMs: 100 },
    });
    if (options.record ?? true) {
      for (const type of DEVICE_COMMAND_EVENT_TYPES) {
        bus.subscribe(type, "test.outcome-recorder", async (event: DomainEvent) => {
          this.outcomes.push(event as OutcomeEvent);
        });
      }
    }
    const host = { database, bus, jobs, trackingStore, metrics };
    this.#hosts.push(host);
    return host;
  }

  /** A thing in the emulator and an Active binding for a new device. */
  async device(tenantId: string | null = TENANT): Promise<TestDevice> {
    const deviceId = uuidv7();
    const thingName = ThingName.from(tenantId, `SN-${++this.#serial}-${deviceId.slice(-6)}`);
    const thing = await this.iot.send(new CreateThingCommand({ thingName: thingName.value }));
    const binding = AwsThingBinding.createForJitp(
      {
        deviceId,
        tenantId,
        thingName,
        thingArn: thing.thingArn ?? "",
        certificateArn: `arn:aws:iot:us-east-1:000000000000:cert/${"ab".repeat(32)}`,
      },
      { at: this.clock.now(), by: "test" },
    );
    await this.bindingStore.add(binding);
    return { deviceId, thingName: thingName.value, thingArn: thing.thingArn ?? "", binding };
  }

  /** A simulated device for `thingName` that answers with `decide`. */
  simulatedDevice(thingName: string, decide?: () => SimulatedJobDecision): SimulatedJobsDevice {
    return new SimulatedJobsDevice({ client: this.jobsData, thingName, decide });
  }

  /** Outcome events of one job. */
  outcomesOf(jobId: string): OutcomeEvent[] {
    return this.outcomes.filter((e) => e.jobId === jobId);
  }

  /** Jobs in the emulator's inventory. */
  awsJobs() {
    return this.emulator.inventory().jobs;
  }

  /** Starts from scratch: no AWS resources, no tracked jobs, nothing recorded. */
  async reset(): Promise<void> {
    for (const host of this.#hosts.splice(0)) {
      await host.jobs.poller.stop();
      await host.bus.stop(200);
    }
    this.emulator.reset();
    this.outcomes.length = 0;
    await this.tdb.database.execute("DELETE FROM iotaws_tracked_jobs");
    await this.tdb.database.execute("DELETE FROM iot_bus_deliveries");
    await this.tdb.database.execute("DELETE FROM iot_bus_subscriptions");
  }

  async dispose(): Promise<void> {
    await this.reset();
    this.iot.destroy();
    this.jobsData.destroy();
    await this.emulator.stop();
    await this.tdb.dispose();
  }
}
