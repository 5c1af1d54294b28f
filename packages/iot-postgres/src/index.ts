/**
 * @granit/iot-postgres — persistence of the Device core on PostgreSQL or embedded PGlite: the
 * `iot_*` tables and their migrations, the device store, and the durable message bus.
 */
export {
  type AdvisoryLockResult,
  afterCommit,
  Database,
  type DatabaseOptions,
  executorOf,
  type SqlExecutor,
} from "./database.ts";
export { PostgresDeviceStore, tenantCondition } from "./device-store.ts";
export { decodeCursor, encodeCursor } from "./internal/cursor.ts";
export { constraintName, PG_UNIQUE_VIOLATION, sqlState } from "./internal/pg-errors.ts";
export {
  BUS_CHANNEL,
  type DeadLetter,
  deliveryValues,
  PostgresMessageBus,
  type PostgresMessageBusOptions,
} from "./message-bus.ts";
export { IOT_MIGRATIONS, migrateIoT } from "./migrations.ts";
export * as iotSchema from "./schema.ts";
