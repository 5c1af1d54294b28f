/**
 * `iotaws_shadow_sync`: one row per binding whose Device Shadow the delta poller watches (the
 * `SHADOW_SYNC_STATES`, i.e. Active). Pollers on every host claim due rows through the index on
 * `(next_poll_at, binding_id)` with `FOR UPDATE SKIP LOCKED`, moving `next_poll_at` forward in the same
 * statement; `last_delta_fingerprint` is what was last published, so a desired state is published once.
 * No foreign key to `iotaws_thing_bindings`: a claim removes rows whose binding stopped being Active.
 */
import { sql } from "drizzle-orm";
import { check, index, integer, pgTable, text, timestamp, uuid } from "drizzle-orm/pg-core";

const ts = (name: string) => timestamp(name, { withTimezone: true, mode: "date" });

export const iotawsShadowSync = pgTable(
  "iotaws_shadow_sync",
  {
    bindingId: uuid("binding_id").primaryKey(),
    deviceId: uuid("device_id").notNull(),
    tenantId: uuid("tenant_id"),
    thingName: text("thing_name").notNull(),
    nextPollAt: ts("next_poll_at").notNull(),
    lastPolledAt: ts("last_polled_at"),
    lastDeltaFingerprint: text("last_delta_fingerprint"),
    lastError: text("last_error"),
    consecutiveFailures: integer("consecutive_failures").notNull().default(0),
    createdAt: ts("created_at").notNull(),
  },
  (t) => [
    index("ix_iotaws_shadow_sync_due").on(t.nextPollAt, t.bindingId),
    check("ck_iotaws_shadow_sync_fingerprint", sql`${t.lastDeltaFingerprint} ~ '^[0-9a-f]{64}$'`),
    check("ck_iotaws_shadow_sync_failures", sql`${t.consecutiveFailures} >= 0`),
    check("ck_iotaws_shadow_sync_last_error_length", sql`char_length(${t.lastError}) <= 1024`),
  ],
);
