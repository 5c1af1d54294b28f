/**
 * Test support: the smallest host the bundle plugs into — a database target, the durable bus, the
 * device store, a Fastify app, a readiness list and the background services — started and stopped
 * in the host's order (migrate → bus → services → listen; services → bus → database).
 */
import type { AddressInfo } from "node:net";
import type { IoTAwsBackgroundService, IoTAwsBundleHost } from "@granit/bundle-iot-aws";
import { ManualClock, type ReadinessGate, silentLogger } from "@granit/iot";
import { migrateIoT, PostgresDeviceStore, PostgresMessageBus } from "@granit/iot-postgres";
import type { DatabaseTarget, TestDatabase } from "@granit/iot-postgres/testing";
import Fastify from "fastify";

export interface BundleTestHost extends IoTAwsBundleHost {
  readonly bus: PostgresMessageBus;
  readonly clock: ManualClock;
  readonly gates: ReadinessGate[];
  readonly services: IoTAwsBackgroundService[];
  readonly testDatabase: TestDatabase;
  /** `http://127.0.0.1:port` once started. */
  url(): string;
  start(): Promise<void>;
  stop(): Promise<void>;
}

export async function createBundleTestHost(
  target: DatabaseTarget,
  config?: { readonly sections: ReadonlyMap<string, unknown> },
): Promise<BundleTestHost> {
  const testDatabase = await target.open();
  const database = testDatabase.database;
  const bus = new PostgresMessageBus(database, { pollIntervalMs: 20, logger: silentLogger });
  const clock = new ManualClock("2026-03-01T08:00:00.000Z");
  const app = Fastify();
  const gates: ReadinessGate[] = [];
  const services: IoTAwsBackgroundService[] = [];
  const migrations: { folder: string; table: string }[] = [];
  let started: IoTAwsBackgroundService[] = [];
  return {
    database,
    bus,
    deviceStore: new PostgresDeviceStore(database, bus),
    clock,
    logger: silentLogger,
    readiness: { register: (gate) => void gates.push(gate) },
    app,
    config,
    gates,
    services,
    testDatabase,
    addMigration: (migration) => void migrations.push(migration),
    addBackgroundService: (service) => void services.push(service),
    url() {
      return `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
    },
    async start() {
      await migrateIoT(database);
      for (const migration of migrations) await database.migrate(migration);
      await bus.start();
      for (const service of services) {
        await service.start();
        started.push(service);
      }
      await app.listen({ port: 0, host: "127.0.0.1" });
    },
    async stop() {
      await app.close();
      for (const service of started.reverse()) await service.stop();
      started = [];
      await bus.stop(5000);
      await testDatabase.dispose();
    },
  };
}
