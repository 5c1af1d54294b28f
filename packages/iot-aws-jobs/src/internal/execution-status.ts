/**
 * AWS job-execution statuses and what each means for a tracked command. Executions succeed with
 * `SUCCEEDED` — `COMPLETED` is a *job* status (the original compared executions with it and never
 * reported a success).
 * @see https://docs.aws.amazon.com/iot/latest/developerguide/iot-jobs-lifecycle.html
 */
import { TrackedJobStatus } from "@granit/iot-aws";

/** Device-reported success. */
export const SUCCEEDED = "SUCCEEDED";

/** Terminal execution statuses and the closed tracking status each maps to. */
export const TERMINAL_EXECUTION_STATUSES: ReadonlyMap<string, TrackedJobStatus> = new Map([
  [SUCCEEDED, TrackedJobStatus.Succeeded],
  ["FAILED", TrackedJobStatus.Failed],
  ["REJECTED", TrackedJobStatus.Failed],
  ["TIMED_OUT", TrackedJobStatus.Failed],
  ["CANCELED", TrackedJobStatus.Canceled],
  ["REMOVED", TrackedJobStatus.Canceled],
]);

/** Job statuses after which no execution of a group job changes any more. */
export const TERMINAL_JOB_STATUSES: ReadonlySet<string> = new Set([
  "COMPLETED",
  "CANCELED",
  "DELETION_IN_PROGRESS",
]);

/** Bridge statuses of failed events that no AWS execution status covers. */
export const BridgeFailureStatus = {
  Expired: "EXPIRED",
  DispatchRejected: "DISPATCH_REJECTED",
} as const;
