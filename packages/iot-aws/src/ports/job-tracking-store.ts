import type { DomainEvent, Page, TenantFilter } from "@granit/iot";
import type { NewTrackedJob, TrackedJob, TrackedJobStatus } from "../domain/tracked-job.ts";

/** What `JobTrackingStore.begin` found or created. */
export interface BeginTrackingResult {
  /** True when this call inserted the record; false when one existed for the correlation id. */
  readonly created: boolean;
  /** The stored record (the existing one when `created` is false). */
  readonly job: TrackedJob;
}

/** A batch of due open records for a status poller. */
export interface ClaimDueJobsQuery {
  /** Records with `nextPollAt <= now` are due. */
  readonly now: Date;
  /** 1–1000. */
  readonly limit: number;
  /** Pushed onto every claimed record in the same statement, so no other poller claims it meanwhile. */
  readonly nextPollAt: Date;
}

/** A keyset page of one device's commands, newest first. */
export interface PageJobsByDeviceQuery {
  readonly deviceId: string;
  readonly tenant: TenantFilter;
  /** 1–1000. */
  readonly limit: number;
  readonly cursor?: string | null | undefined;
}

/** The terminal state a record closes with. */
export interface TrackedJobClosure {
  /** One of `CLOSED_TRACKED_JOB_STATUSES`. */
  readonly status: TrackedJobStatus;
  readonly executionStatus: string | null;
  readonly statusDetails: Readonly<Record<string, string>> | null;
  readonly reason: string | null;
  readonly at: Date;
}

/**
 * Durable, shared tracking of the IoT Jobs the bridge dispatched (implemented in
 * `@granit/iot-aws-postgres`, table `iotaws_tracked_jobs`). Every host on the database sees the same
 * records, so a restart or a second host never forgets a job.
 *
 * - `begin` is the idempotency guard, called **before** `CreateJob`: it inserts a `Dispatching`
 *   record unless one exists for the correlation id (or job id) and returns what is stored.
 * - `claimDue` hands due open records to one poller at a time (`FOR UPDATE SKIP LOCKED`), pushing
 *   their `nextPollAt` forward in the same statement.
 * - `close` writes the terminal state and publishes the outcome events in **one transaction**, only
 *   if the record was still open: it returns `true` once per record, whatever the number of pollers.
 */
export interface JobTrackingStore {
  begin(job: NewTrackedJob): Promise<BeginTrackingResult>;
  /** Dispatching → Dispatched. False when the record is not `Dispatching` any more (someone else did it). */
  markDispatched(
    jobId: string,
    update: { readonly jobArn: string | null; readonly at: Date; readonly nextPollAt: Date },
  ): Promise<boolean>;
  /** Deletes a `Dispatching` record whose `CreateJob` AWS refused for good (no job exists). */
  discard(jobId: string): Promise<boolean>;
  findByJobId(jobId: string): Promise<TrackedJob | null>;
  findByCorrelationId(correlationId: string): Promise<TrackedJob | null>;
  /** One command through a tenant filter (another tenant's command is `null`). */
  findByCommandId(commandId: string, tenant: TenantFilter): Promise<TrackedJob | null>;
  /** Keyset page of a device's commands, newest first. */
  pageByDevice(query: PageJobsByDeviceQuery): Promise<Page<TrackedJob>>;
  claimDue(query: ClaimDueJobsQuery): Promise<TrackedJob[]>;
  /** Records a non-terminal execution status (`QUEUED`, `IN_PROGRESS`) and its details on an open record. */
  recordProgress(
    jobId: string,
    progress: {
      readonly executionStatus: string | null;
      readonly statusDetails: Readonly<Record<string, string>> | null;
      readonly at: Date;
    },
  ): Promise<void>;
  /** Notes a cancel request on an open record and makes it due at once. False when it is closed. */
  requestCancel(jobId: string, at: Date): Promise<boolean>;
  /**
   * Closes an open record and publishes `events` in the same transaction. False (nothing written,
   * nothing published) when the record was already closed.
   */
  close(jobId: string, closure: TrackedJobClosure, events: readonly DomainEvent[]): Promise<boolean>;
}
