/**
 * `iotaws_tracked_jobs`: one row per device command dispatched as an AWS IoT Job, written before
 * `CreateJob` (status `Dispatching`) and closed once its outcome event is published. Shared by every
 * host, so a restart or a second host never forgets a job (the original kept it in process memory).
 *
 * - `job_id` and `correlation_id` are unique: the idempotency guard of the dispatcher.
 * - Status pollers claim due open rows through the partial index on `next_poll_at`
 *   (`WHERE terminal_published_at IS NULL`); a CHECK keeps "open" and "not yet published" the same thing.
 * - The commands API pages a device's commands by `(device_id, command_id)`; command ids are uuidv7.
 */
import { CLOSED_TRACKED_JOB_STATUSES, COMMAND_TARGET_KINDS, TRACKED_JOB_STATUSES } from "@granit/iot-aws";
import { sql } from "drizzle-orm";
import {
  check,
  index,
  integer,
  jsonb,
  pgTable,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from "drizzle-orm/pg-core";

const ts = (name: string) => timestamp(name, { withTimezone: true, mode: "date" });

/** CHECKs derived from the state machine in `@granit/iot-aws` (no pg enums: migrations stay plain). */
const quoted = (values: Iterable<string>) => [...values].map((v) => `'${v}'`).join(", ");

export const iotawsTrackedJobs = pgTable(
  "iotaws_tracked_jobs",
  {
    commandId: uuid("command_id").primaryKey(),
    jobId: text("job_id").notNull(),
    correlationId: text("correlation_id").notNull(),
    tenantId: uuid("tenant_id"),
    deviceId: uuid("device_id"),
    thingName: text("thing_name"),
    targetKind: text("target_kind").notNull(),
    target: text("target").notNull(),
    jobArn: text("job_arn"),
    operation: text("operation").notNull(),
    parameters: jsonb("parameters").notNull(),
    parametersHash: text("parameters_hash").notNull(),
    status: text("status").notNull(),
    executionStatus: text("execution_status"),
    statusDetails: jsonb("status_details"),
    reason: text("reason"),
    requestedBy: text("requested_by"),
    pollCount: integer("poll_count").notNull().default(0),
    nextPollAt: ts("next_poll_at").notNull(),
    dispatchedAt: ts("dispatched_at"),
    cancelRequestedAt: ts("cancel_requested_at"),
    createdAt: ts("created_at").notNull(),
    updatedAt: ts("updated_at").notNull(),
    expiresAt: ts("expires_at").notNull(),
    terminalPublishedAt: ts("terminal_published_at"),
  },
  (t) => [
    uniqueIndex("ux_iotaws_tracked_jobs_job_id").on(t.jobId),
    uniqueIndex("ux_iotaws_tracked_jobs_correlation_id").on(t.correlationId),
    index("ix_iotaws_tracked_jobs_due")
      .on(t.nextPollAt, t.commandId)
      .where(sql`${t.terminalPublishedAt} is null`),
    index("ix_iotaws_tracked_jobs_device").on(t.deviceId, t.commandId),
    check("ck_iotaws_tracked_jobs_status", sql.raw(`"status" in (${quoted(TRACKED_JOB_STATUSES)})`)),
    check(
      "ck_iotaws_tracked_jobs_target_kind",
      sql.raw(`"target_kind" in (${quoted(COMMAND_TARGET_KINDS)})`),
    ),
    check(
      "ck_iotaws_tracked_jobs_closed_published",
      sql.raw(
        `("status" in (${quoted(CLOSED_TRACKED_JOB_STATUSES)})) = ("terminal_published_at" is not null)`,
      ),
    ),
    check("ck_iotaws_tracked_jobs_job_id", sql`${t.jobId} ~ '^[a-zA-Z0-9_-]{1,64}$'`),
  ],
);
