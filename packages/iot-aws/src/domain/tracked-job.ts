/**
 * A device command dispatched as an AWS IoT Job, as the bridge tracks it until its outcome is known.
 * The tracking record is written **before** `CreateJob` (status `Dispatching`), so a crash between
 * the AWS call and the bookkeeping leaves a row that a redelivery or the status poller completes,
 * never a job nobody watches.
 *
 * ```
 * Dispatching ──CreateJob ok / already exists (same command)──► Dispatched
 *      │                                                          │
 *      │ CreateJob refused for good, cancel before dispatch,      │ execution SUCCEEDED ─► Succeeded
 *      │ tracking TTL elapsed                                     │ FAILED|REJECTED|TIMED_OUT ─► Failed
 *      ▼                                                          │ CANCELED|REMOVED ─► Canceled
 *   Failed | Canceled | Expired                                   │ tracking TTL elapsed ─► Expired
 * ```
 *
 * Closing a record (any terminal status) and publishing its `DeviceCommandCompletedEvent` /
 * `DeviceCommandFailedEvent` happen in one transaction guarded by "not closed yet", so each outcome
 * is published exactly once whatever the number of pollers. Guards are set membership.
 */
import type { TenantId } from "@granit/iot";
import type { JsonObject } from "../events/device-desired-state-changed-event.ts";

/** Where a tracked job is in its life; see the diagram above. */
export const TrackedJobStatus = {
  Dispatching: "Dispatching",
  Dispatched: "Dispatched",
  Succeeded: "Succeeded",
  Failed: "Failed",
  Canceled: "Canceled",
  Expired: "Expired",
} as const;

export type TrackedJobStatus = (typeof TrackedJobStatus)[keyof typeof TrackedJobStatus];

/** Every status, in diagram order. */
export const TRACKED_JOB_STATUSES: readonly TrackedJobStatus[] = Object.freeze(
  Object.values(TrackedJobStatus),
);

/** Statuses the status poller still watches (nothing has been published for them yet). */
export const OPEN_TRACKED_JOB_STATUSES: ReadonlySet<TrackedJobStatus> = new Set([
  TrackedJobStatus.Dispatching,
  TrackedJobStatus.Dispatched,
]);

/** Statuses nothing leaves; reaching one publishes the command's outcome event once. */
export const CLOSED_TRACKED_JOB_STATUSES: ReadonlySet<TrackedJobStatus> = new Set([
  TrackedJobStatus.Succeeded,
  TrackedJobStatus.Failed,
  TrackedJobStatus.Canceled,
  TrackedJobStatus.Expired,
]);

/** The allowed moves: `TRACKED_JOB_TRANSITIONS[from].has(to)`. */
export const TRACKED_JOB_TRANSITIONS: Readonly<Record<TrackedJobStatus, ReadonlySet<TrackedJobStatus>>> =
  Object.freeze({
    Dispatching: new Set<TrackedJobStatus>([
      TrackedJobStatus.Dispatched,
      TrackedJobStatus.Failed,
      TrackedJobStatus.Canceled,
      TrackedJobStatus.Expired,
    ]),
    Dispatched: new Set<TrackedJobStatus>([
      TrackedJobStatus.Succeeded,
      TrackedJobStatus.Failed,
      TrackedJobStatus.Canceled,
      TrackedJobStatus.Expired,
    ]),
    Succeeded: new Set<TrackedJobStatus>(),
    Failed: new Set<TrackedJobStatus>(),
    Canceled: new Set<TrackedJobStatus>(),
    Expired: new Set<TrackedJobStatus>(),
  });

/** True for one of `TRACKED_JOB_STATUSES`. */
export function isTrackedJobStatus(value: unknown): value is TrackedJobStatus {
  return typeof value === "string" && (TRACKED_JOB_STATUSES as readonly string[]).includes(value);
}

/** True when `from → to` is an allowed move. */
export function canTransitionTrackedJob(from: TrackedJobStatus, to: TrackedJobStatus): boolean {
  return TRACKED_JOB_TRANSITIONS[from].has(to);
}

/**
 * What a command targets: one thing (its ARN), a static thing group (its ARN), or a dynamic thing
 * group defined by a fleet-indexing query.
 */
export const CommandTargetKind = {
  Thing: "thing",
  ThingGroup: "thingGroup",
  DynamicThingGroup: "dynamicThingGroup",
} as const;

export type CommandTargetKind = (typeof CommandTargetKind)[keyof typeof CommandTargetKind];

/** Every target kind. */
export const COMMAND_TARGET_KINDS: readonly CommandTargetKind[] = Object.freeze(
  Object.values(CommandTargetKind),
);

/** A tracking record as the dispatcher creates it (status `Dispatching`). */
export interface NewTrackedJob {
  /** Primary key, a UUID (the `commandId` of the host API). */
  readonly commandId: string;
  /** `{JobIdPrefix}-{correlationId}`: the AWS job id. Unique. */
  readonly jobId: string;
  /** The command's idempotency key. Unique: one job per correlation id. */
  readonly correlationId: string;
  readonly tenantId: TenantId | null;
  /** The device the command is for (thing targets); `null` for groups. */
  readonly deviceId: string | null;
  /** The thing whose execution the poller describes (thing targets); `null` for groups. */
  readonly thingName: string | null;
  readonly targetKind: CommandTargetKind;
  /** The thing or thing-group ARN, or the dynamic group's query. */
  readonly target: string;
  readonly operation: string;
  readonly parameters: JsonObject;
  /**
   * SHA-256 (hex) of the canonical command (tenant, operation, parameters, target): a second
   * dispatch with the same correlation id and another hash is a different command.
   */
  readonly parametersHash: string;
  /** Who asked (audit), e.g. the API token name or `"shadow-delta"`. */
  readonly requestedBy: string | null;
  readonly createdAt: Date;
  /** When the poller may first look at it (a Dispatching row older than this is a crashed dispatch). */
  readonly nextPollAt: Date;
  /** `createdAt` + `JobTrackingTtlHours`: past it, the poller closes the record as `Expired`. */
  readonly expiresAt: Date;
}

/** A stored tracking record. */
export interface TrackedJob extends NewTrackedJob {
  readonly status: TrackedJobStatus;
  readonly jobArn: string | null;
  /** The last AWS job-execution status seen (`QUEUED`, `IN_PROGRESS`, `SUCCEEDED`, ...). */
  readonly executionStatus: string | null;
  /** The device's `statusDetails` (or job process counts for group targets). */
  readonly statusDetails: Readonly<Record<string, string>> | null;
  /** Why the record closed the way it did (`expired`, the device's `reason`, ...). */
  readonly reason: string | null;
  readonly dispatchedAt: Date | null;
  readonly cancelRequestedAt: Date | null;
  readonly updatedAt: Date;
  /** Polls so far (claims by a status poller). */
  readonly pollCount: number;
  /** When the outcome event was published (the record closed); `null` while open. */
  readonly terminalPublishedAt: Date | null;
}
