/**
 * `JobTrackingStore` on PostgreSQL / PGlite (table `iotaws_tracked_jobs`): the durable, shared
 * tracking of the IoT Jobs the bridge dispatched.
 *
 * - `begin` is `INSERT … ON CONFLICT DO NOTHING` on the unique job id / correlation id, then a read
 *   of whatever is stored: two dispatches of one correlation id race to one row.
 * - `claimDue` locks due open rows with `FOR UPDATE SKIP LOCKED` and pushes their `next_poll_at`
 *   forward in the same statement, so each due row goes to one poller per round; rows come in
 *   due-time order, so walking the batches visits every open row (a cursor on the due time).
 * - `close` updates `WHERE terminal_published_at IS NULL` and publishes the outcome events in the
 *   same transaction only when that update hit the row: one outcome per job, whatever the pollers.
 */
import {
  ALL_TENANTS,
  type DomainEvent,
  DomainValidationError,
  type MessageBus,
  type Page,
  type TenantFilter,
} from "@granit/iot";
import {
  type BeginTrackingResult,
  CLOSED_TRACKED_JOB_STATUSES,
  type ClaimDueJobsQuery,
  type CommandTargetKind,
  type JobTrackingStore,
  type JsonObject,
  type NewTrackedJob,
  OPEN_TRACKED_JOB_STATUSES,
  type PageJobsByDeviceQuery,
  type TrackedJob,
  type TrackedJobClosure,
  TrackedJobStatus,
} from "@granit/iot-aws";
import { type Database, decodeCursor, encodeCursor } from "@granit/iot-postgres";
import { and, desc, eq, inArray, isNull, lt, or, type SQL, sql } from "drizzle-orm";
import { iotawsTrackedJobs as t } from "./schema/tracked-jobs.ts";

type TrackedJobRow = typeof t.$inferSelect;

/** Largest batch `claimDue` and page `pageByDevice` return. */
export const MAX_TRACKED_JOB_PAGE_SIZE = 1000;

const OPEN = [...OPEN_TRACKED_JOB_STATUSES];

function fromRow(row: TrackedJobRow): TrackedJob {
  return {
    commandId: row.commandId,
    jobId: row.jobId,
    correlationId: row.correlationId,
    tenantId: row.tenantId,
    deviceId: row.deviceId,
    thingName: row.thingName,
    targetKind: row.targetKind as CommandTargetKind,
    target: row.target,
    jobArn: row.jobArn,
    operation: row.operation,
    parameters: row.parameters as JsonObject,
    parametersHash: row.parametersHash,
    status: row.status as TrackedJobStatus,
    executionStatus: row.executionStatus,
    statusDetails: (row.statusDetails as Record<string, string> | null) ?? null,
    reason: row.reason,
    requestedBy: row.requestedBy,
    pollCount: row.pollCount,
    nextPollAt: row.nextPollAt,
    dispatchedAt: row.dispatchedAt,
    cancelRequestedAt: row.cancelRequestedAt,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
    expiresAt: row.expiresAt,
    terminalPublishedAt: row.terminalPublishedAt,
  };
}

function tenantCondition(tenant: TenantFilter): SQL | undefined {
  if (tenant === ALL_TENANTS) return undefined;
  return tenant === null ? isNull(t.tenantId) : eq(t.tenantId, tenant);
}

function pageSize(limit: number): number {
  return Math.min(Math.max(Math.trunc(limit), 1), MAX_TRACKED_JOB_PAGE_SIZE);
}

export class PostgresJobTrackingStore implements JobTrackingStore {
  readonly #database: Database;
  readonly #bus: MessageBus;

  constructor(database: Database, bus: MessageBus) {
    this.#database = database;
    this.#bus = bus;
  }

  async begin(job: NewTrackedJob): Promise<BeginTrackingResult> {
    const inserted = await this.#database.db
      .insert(t)
      .values({
        commandId: job.commandId,
        jobId: job.jobId,
        correlationId: job.correlationId,
        tenantId: job.tenantId,
        deviceId: job.deviceId,
        thingName: job.thingName,
        targetKind: job.targetKind,
        target: job.target,
        operation: job.operation,
        parameters: job.parameters,
        parametersHash: job.parametersHash,
        status: TrackedJobStatus.Dispatching,
        requestedBy: job.requestedBy,
        nextPollAt: job.nextPollAt,
        createdAt: job.createdAt,
        updatedAt: job.createdAt,
        expiresAt: job.expiresAt,
      })
      .onConflictDoNothing()
      .returning();
    if (inserted[0]) return { created: true, job: fromRow(inserted[0]) };
    const existing = await this.#database.db
      .select()
      .from(t)
      .where(
        or(eq(t.correlationId, job.correlationId), eq(t.jobId, job.jobId), eq(t.commandId, job.commandId)),
      )
      .orderBy(sql`(${t.correlationId} = ${job.correlationId}) desc`)
      .limit(1);
    if (!existing[0]) {
      // The conflicting row vanished between the two statements (a discard): try once more.
      return this.begin(job);
    }
    return { created: false, job: fromRow(existing[0]) };
  }

  async markDispatched(
    jobId: string,
    update: { readonly jobArn: string | null; readonly at: Date; readonly nextPollAt: Date },
  ): Promise<boolean> {
    const rows = await this.#database.db
      .update(t)
      .set({
        status: TrackedJobStatus.Dispatched,
        jobArn: update.jobArn,
        dispatchedAt: update.at,
        updatedAt: update.at,
        nextPollAt: update.nextPollAt,
      })
      .where(and(eq(t.jobId, jobId), eq(t.status, TrackedJobStatus.Dispatching)))
      .returning({ id: t.commandId });
    return rows.length > 0;
  }

  async discard(jobId: string): Promise<boolean> {
    const rows = await this.#database.db
      .delete(t)
      .where(and(eq(t.jobId, jobId), eq(t.status, TrackedJobStatus.Dispatching)))
      .returning({ id: t.commandId });
    return rows.length > 0;
  }

  async findByJobId(jobId: string): Promise<TrackedJob | null> {
    const rows = await this.#database.db.select().from(t).where(eq(t.jobId, jobId));
    return rows[0] ? fromRow(rows[0]) : null;
  }

  async findByCorrelationId(correlationId: string): Promise<TrackedJob | null> {
    const rows = await this.#database.db.select().from(t).where(eq(t.correlationId, correlationId));
    return rows[0] ? fromRow(rows[0]) : null;
  }

  async findByCommandId(commandId: string, tenant: TenantFilter): Promise<TrackedJob | null> {
    const rows = await this.#database.db
      .select()
      .from(t)
      .where(and(eq(t.commandId, commandId), tenantCondition(tenant)));
    return rows[0] ? fromRow(rows[0]) : null;
  }

  async pageByDevice(query: PageJobsByDeviceQuery): Promise<Page<TrackedJob>> {
    const limit = pageSize(query.limit);
    const after = decodeCursor(query.cursor);
    if (after && (after.length !== 1 || typeof after[0] !== "string")) {
      throw DomainValidationError.single(
        "cursor",
        "format",
        "is not a cursor this API returned; start again without one",
      );
    }
    const rows = await this.#database.db
      .select()
      .from(t)
      .where(
        and(
          eq(t.deviceId, query.deviceId),
          tenantCondition(query.tenant),
          after ? lt(t.commandId, String(after[0])) : undefined,
        ),
      )
      .orderBy(desc(t.commandId))
      .limit(limit + 1);
    const items = rows.slice(0, limit).map(fromRow);
    const last = items.at(-1);
    return { items, nextCursor: rows.length > limit && last ? encodeCursor([last.commandId]) : null };
  }

  async claimDue(query: ClaimDueJobsQuery): Promise<TrackedJob[]> {
    const limit = pageSize(query.limit);
    // One statement: lock due rows nobody else holds, push them out of the due window, return them.
    const claimed = (await this.#database.db.execute(sql`
      WITH due AS (
        SELECT command_id FROM iotaws_tracked_jobs
        WHERE terminal_published_at IS NULL AND next_poll_at <= ${query.now.toISOString()}::timestamptz
        ORDER BY next_poll_at, command_id
        LIMIT ${limit}
        FOR UPDATE SKIP LOCKED
      )
      UPDATE iotaws_tracked_jobs j
      SET next_poll_at = ${query.nextPollAt.toISOString()}::timestamptz, poll_count = j.poll_count + 1
      FROM due WHERE j.command_id = due.command_id
      RETURNING j.command_id`)) as unknown as { rows: { command_id: string }[] };
    const ids = claimed.rows.map((r) => r.command_id);
    if (ids.length === 0) return [];
    const rows = await this.#database.db.select().from(t).where(inArray(t.commandId, ids));
    return rows.map(fromRow).sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime());
  }

  async recordProgress(
    jobId: string,
    progress: {
      readonly executionStatus: string | null;
      readonly statusDetails: Readonly<Record<string, string>> | null;
      readonly at: Date;
    },
  ): Promise<void> {
    await this.#database.db
      .update(t)
      .set({
        executionStatus: progress.executionStatus,
        statusDetails: progress.statusDetails,
        updatedAt: progress.at,
      })
      .where(
        and(
          eq(t.jobId, jobId),
          isNull(t.terminalPublishedAt),
          sql`(${t.executionStatus} is distinct from ${progress.executionStatus} or ${t.statusDetails} is distinct from ${
            progress.statusDetails === null ? null : JSON.stringify(progress.statusDetails)
          }::jsonb)`,
        ),
      );
  }

  async requestCancel(jobId: string, at: Date): Promise<boolean> {
    const rows = await this.#database.db
      .update(t)
      .set({ cancelRequestedAt: at, nextPollAt: at, updatedAt: at })
      .where(and(eq(t.jobId, jobId), isNull(t.terminalPublishedAt), inArray(t.status, OPEN)))
      .returning({ id: t.commandId });
    return rows.length > 0;
  }

  async close(jobId: string, closure: TrackedJobClosure, events: readonly DomainEvent[]): Promise<boolean> {
    if (!CLOSED_TRACKED_JOB_STATUSES.has(closure.status)) {
      throw new TypeError(`A tracked job closes with a closed status, not '${closure.status}'.`);
    }
    return this.#database.transaction(async (tx, scope) => {
      const rows = await tx
        .update(t)
        .set({
          status: closure.status,
          executionStatus: closure.executionStatus,
          statusDetails: closure.statusDetails,
          reason: closure.reason,
          updatedAt: closure.at,
          terminalPublishedAt: closure.at,
        })
        .where(and(eq(t.jobId, jobId), isNull(t.terminalPublishedAt), inArray(t.status, OPEN)))
        .returning({ id: t.commandId });
      if (rows.length === 0) return false;
      if (events.length > 0) await this.#bus.publish(events, scope);
      return true;
    });
  }
}
