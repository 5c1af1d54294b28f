/**
 * The `iot_*` tables of the Device core. drizzle-kit generates the committed SQL migrations in
 * `drizzle/` from this file (`npm run db:generate -w @granit/iot-postgres`); CI fails when the two
 * disagree. Tables are unqualified (they live in the connection's `search_path`), enums are plain
 * text with CHECK constraints, and there are no cross-package foreign keys, so the same SQL runs on
 * PostgreSQL and PGlite and in a schema of its own per test.
 */
import { sql } from "drizzle-orm";
import {
  bigserial,
  check,
  index,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from "drizzle-orm/pg-core";

const ts = (name: string) => timestamp(name, { withTimezone: true, mode: "date" });

export const iotDevices = pgTable(
  "iot_devices",
  {
    id: uuid("id").primaryKey(),
    tenantId: uuid("tenant_id"),
    serialNumber: text("serial_number").notNull(),
    model: text("model").notNull(),
    firmware: text("firmware").notNull(),
    label: text("label"),
    status: text("status").notNull(),
    credentialType: text("credential_type"),
    credentialSecret: text("credential_secret"),
    lastHeartbeatAt: ts("last_heartbeat_at"),
    suspensionReason: text("suspension_reason"),
    tags: jsonb("tags").$type<Record<string, string>>().notNull().default({}),
    createdAt: ts("created_at").notNull(),
    createdBy: text("created_by"),
    modifiedAt: ts("modified_at"),
    modifiedBy: text("modified_by"),
    deletedAt: ts("deleted_at"),
    deletedBy: text("deleted_by"),
    version: integer("version").notNull(),
  },
  (t) => [
    // Unique among live rows only: a soft-deleted device frees its serial number.
    // COALESCE folds host devices (NULL tenant) into one namespace, as NULLs never collide otherwise.
    uniqueIndex("ux_iot_devices_tenant_serial")
      .on(sql`coalesce(${t.tenantId}, '00000000-0000-0000-0000-000000000000'::uuid)`, t.serialNumber)
      .where(sql`${t.deletedAt} is null`),
    index("ix_iot_devices_tenant_status_id").on(t.tenantId, t.status, t.id),
    index("ix_iot_devices_serial").on(t.serialNumber),
    check(
      "ck_iot_devices_status",
      sql`${t.status} in ('Provisioning', 'Active', 'Suspended', 'Decommissioned')`,
    ),
  ],
);

export const iotTimelineEntries = pgTable(
  "iot_timeline_entries",
  {
    id: uuid("id").primaryKey(),
    entityType: text("entity_type").notNull(),
    entityId: uuid("entity_id").notNull(),
    tenantId: uuid("tenant_id"),
    entryType: text("entry_type").notNull(),
    eventType: text("event_type").notNull(),
    message: text("message").notNull(),
    occurredAt: ts("occurred_at").notNull(),
    actor: text("actor"),
  },
  (t) => [index("ix_iot_timeline_entity").on(t.entityType, t.entityId, t.occurredAt)],
);

/** Which handler wants which event type; `publish` fans an event out to one delivery per row. */
export const iotBusSubscriptions = pgTable(
  "iot_bus_subscriptions",
  {
    eventType: text("event_type").notNull(),
    handler: text("handler").notNull(),
    maxAttempts: integer("max_attempts").notNull(),
    registeredAt: ts("registered_at").notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.eventType, t.handler] })],
);

/**
 * One row per (event, handler): the unit of delivery, retry and dead-lettering.
 * `status`: pending (waiting for `run_at`) → active (leased until `run_at`) → deleted on success,
 * back to pending with a later `run_at` on failure, or dead after `max_attempts`.
 * An active row whose lease expired (its worker died) is claimable again.
 */
export const iotBusDeliveries = pgTable(
  "iot_bus_deliveries",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    handler: text("handler").notNull(),
    eventType: text("event_type").notNull(),
    eventId: uuid("event_id").notNull(),
    payload: jsonb("payload").notNull(),
    status: text("status").notNull().default("pending"),
    attempts: integer("attempts").notNull().default(0),
    maxAttempts: integer("max_attempts").notNull(),
    runAt: ts("run_at").notNull().defaultNow(),
    lockedBy: text("locked_by"),
    lastError: text("last_error"),
    createdAt: ts("created_at").notNull().defaultNow(),
    deadAt: ts("dead_at"),
  },
  (t) => [
    index("ix_iot_bus_deliveries_claim").on(t.handler, t.runAt).where(sql`${t.status} <> 'dead'`),
    index("ix_iot_bus_deliveries_dead").on(t.handler, t.deadAt).where(sql`${t.status} = 'dead'`),
    uniqueIndex("ux_iot_bus_deliveries_event_handler").on(t.eventId, t.handler),
    check("ck_iot_bus_deliveries_status", sql`${t.status} in ('pending', 'active', 'dead')`),
  ],
);
