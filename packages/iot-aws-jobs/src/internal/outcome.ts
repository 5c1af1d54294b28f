/**
 * Closing a tracked command with its outcome: the closed status, the event (completed or failed)
 * and the metric — written and published by the store in one transaction, counted only by the
 * caller whose close actually closed the record (exactly once across pollers).
 */
import type { JobTrackingStore, TrackedJob, TrackedJobStatus } from "@granit/iot-aws";
import { TrackedJobStatus as Status } from "@granit/iot-aws";
import type { AwsJobsMetrics } from "../aws-jobs-metrics.ts";
import { deterministicUuid } from "../correlation-ids.ts";
import type { DeviceCommandCompletedEvent, DeviceCommandFailedEvent } from "../device-command-events.ts";

export interface Outcome {
  /** The closed tracking status. */
  readonly status: TrackedJobStatus;
  /** The execution (or job / bridge) status that ended the command, e.g. `SUCCEEDED`, `TIMED_OUT`, `EXPIRED`. */
  readonly endStatus: string;
  /** The last AWS execution status seen (stored on the record). */
  readonly executionStatus: string | null;
  readonly statusDetails: Readonly<Record<string, string>> | null;
  readonly reason: string | null;
  /** When AWS says it happened (execution `lastUpdatedAt`), else now. */
  readonly occurredAt: Date;
  /** Now: the record's close time. */
  readonly at: Date;
}

/** Closes `job` with `outcome`; true when this call closed it (and published its event). */
export async function closeWithOutcome(
  store: JobTrackingStore,
  metrics: AwsJobsMetrics,
  job: TrackedJob,
  outcome: Outcome,
): Promise<boolean> {
  const base = {
    eventId: deterministicUuid("granit.iot.aws.jobs/outcome", job.jobId),
    occurredAt: outcome.occurredAt.toISOString(),
    tenantId: job.tenantId,
    correlationId: job.correlationId,
    commandId: job.commandId,
    jobId: job.jobId,
    deviceId: job.deviceId,
    thingName: job.thingName,
    operation: job.operation,
    statusDetails: outcome.statusDetails,
  };
  const succeeded = outcome.status === Status.Succeeded;
  const event: DeviceCommandCompletedEvent | DeviceCommandFailedEvent = succeeded
    ? { ...base, type: "DeviceCommandCompletedEvent" }
    : { ...base, type: "DeviceCommandFailedEvent", status: outcome.endStatus, reason: outcome.reason };
  const closed = await store.close(
    job.jobId,
    {
      status: outcome.status,
      executionStatus: outcome.executionStatus,
      statusDetails: outcome.statusDetails,
      reason: outcome.reason,
      at: outcome.at,
    },
    [event],
  );
  if (closed) {
    if (succeeded) metrics.completed(job.tenantId, job.operation);
    else metrics.failed(job.tenantId, job.operation, outcome.endStatus);
  }
  return closed;
}

/** The reason a device gave in its status details, if any (`reason`, else `detailedStatus`). */
export function reasonFromDetails(
  details: Readonly<Record<string, string>> | null | undefined,
): string | null {
  return details?.reason ?? details?.detailedStatus ?? null;
}
