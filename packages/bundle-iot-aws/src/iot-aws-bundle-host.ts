/**
 * What the bundle needs from a host, structurally: `apps/host`'s `Host` satisfies it, and so does any
 * host that offers the same seams (the bundle never imports an app).
 */
import type { Clock, DeviceStore, Logger, MessageBus, ReadinessGate } from "@granit/iot";
import type { Database } from "@granit/iot-postgres";
import type { FastifyInstance } from "fastify";

/** A host background service (pollers, schedulers): started after the bus, stopped before it. */
export interface IoTAwsBackgroundService {
  readonly name: string;
  start(): Promise<void> | void;
  stop(): Promise<void> | void;
}

/** The host seams the bundle plugs into (call `addGranitBundleIoTAws` before the host starts). */
export interface IoTAwsBundleHost {
  /** The database: the `iotaws_*` stores and the unit of work (PostgreSQL or PGlite). */
  readonly database: Database;
  /** The durable bus the bridge handlers subscribe to (transactional outbox). */
  readonly bus: MessageBus;
  readonly deviceStore: DeviceStore;
  readonly clock: Clock;
  readonly logger: Logger;
  /** `/health/ready` waits for the credential gate. */
  readonly readiness: { register(gate: ReadinessGate): void };
  /** The fleet-provisioning endpoints are mounted here. */
  readonly app: FastifyInstance;
  /** Parsed configuration sections by path (`"IoT:Aws:Shadow"`), as `registerIoTAwsConfigSections` left them. */
  readonly config?: { readonly sections: ReadonlyMap<string, unknown> } | undefined;
  addMigration(migration: { readonly folder: string; readonly table: string }): void;
  addBackgroundService(service: IoTAwsBackgroundService): void;
}
