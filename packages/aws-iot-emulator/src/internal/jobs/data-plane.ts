/**
 * The IoT Jobs data plane, as a device uses it over HTTPS: GetPendingJobExecutions,
 * StartNextPendingJobExecution, DescribeJobExecution (`$next` allowed), UpdateJobExecution.
 * Timestamps here are epoch seconds as integers (`long` in the model).
 * @see https://docs.aws.amazon.com/iot/latest/apireference/API_iot-jobs-data_UpdateJobExecution.html
 */
import type { EmulatorContext } from "../context.ts";
import { AwsError, invalidRequest, invalidStateTransition, resourceNotFound } from "../errors.ts";
import { requireThing } from "../iot/things.ts";
import { type OperationRequest, ok } from "../operation.ts";
import {
  optionalBoolean,
  optionalNumber,
  queryBoolean,
  queryNumber,
  requiredString,
  stringMap,
} from "../protocol/input.ts";
import type { RestJsonRouter } from "../protocol/rest-json.ts";
import { type JobExecutionRecord, JobExecutionStatus, type JobRecord } from "../state.ts";
import {
  approximateSecondsBeforeTimedOut,
  executionsOfThing,
  TERMINAL_EXECUTION_STATUSES,
} from "./executions.ts";

const DEVICE_STATUSES: ReadonlySet<string> = new Set([
  JobExecutionStatus.IN_PROGRESS,
  JobExecutionStatus.SUCCEEDED,
  JobExecutionStatus.FAILED,
  JobExecutionStatus.REJECTED,
]);
/** statusDetails: 1-10 name/value pairs, each at most 128 characters. */
const MAX_STATUS_DETAILS = 10;
const MAX_STATUS_DETAIL_LENGTH = 128;

const epoch = (ms: number | undefined) => (ms === undefined ? undefined : Math.floor(ms / 1000));

function summary(e: JobExecutionRecord) {
  return {
    jobId: e.jobId,
    queuedAt: epoch(e.queuedAt),
    startedAt: epoch(e.startedAt),
    lastUpdatedAt: epoch(e.lastUpdatedAt),
    versionNumber: e.versionNumber,
    executionNumber: e.executionNumber,
  };
}

function executionView(
  ctx: EmulatorContext,
  job: JobRecord,
  e: JobExecutionRecord,
  includeDocument: boolean,
) {
  return {
    jobId: e.jobId,
    thingName: e.thingName,
    status: e.status,
    statusDetails: e.statusDetails,
    queuedAt: epoch(e.queuedAt),
    startedAt: epoch(e.startedAt),
    lastUpdatedAt: epoch(e.lastUpdatedAt),
    approximateSecondsBeforeTimedOut: approximateSecondsBeforeTimedOut(ctx, job, e),
    versionNumber: e.versionNumber,
    executionNumber: e.executionNumber,
    jobDocument: includeDocument ? job.document : undefined,
  };
}

function statusDetailsOf(value: unknown): Record<string, string> | undefined {
  if (value === undefined || value === null) return undefined;
  const details = stringMap(value, "statusDetails");
  const entries = Object.entries(details);
  if (entries.length > MAX_STATUS_DETAILS)
    throw invalidRequest(`statusDetails can hold at most ${MAX_STATUS_DETAILS} entries`);
  for (const [k, v] of entries) {
    if (k.length > MAX_STATUS_DETAIL_LENGTH || v.length > MAX_STATUS_DETAIL_LENGTH) {
      throw invalidRequest(
        `statusDetails keys and values are limited to ${MAX_STATUS_DETAIL_LENGTH} characters`,
      );
    }
  }
  return details;
}

function stepDeadline(ctx: EmulatorContext, minutes: number | undefined): number | undefined | null {
  if (minutes === undefined) return undefined;
  if (minutes === -1) return null;
  if (!Number.isInteger(minutes) || minutes < 1 || minutes > 10_080) {
    throw invalidRequest("stepTimeoutInMinutes must be between 1 and 10080");
  }
  return ctx.now() + minutes * 60_000;
}

function pending(ctx: EmulatorContext, thingName: string) {
  const all = executionsOfThing(ctx, thingName);
  const inProgress = all.filter(({ execution }) => execution.status === JobExecutionStatus.IN_PROGRESS);
  const queued = all.filter(({ execution }) => execution.status === JobExecutionStatus.QUEUED);
  return { inProgress, queued, next: inProgress[0] ?? queued[0] };
}

function getPendingJobExecutions({ ctx, params }: OperationRequest) {
  const thing = requireThing(ctx, params.thingName ?? "");
  const { inProgress, queued } = pending(ctx, thing.name);
  return ok({
    inProgressJobs: inProgress.map(({ execution }) => summary(execution)),
    queuedJobs: queued.map(({ execution }) => summary(execution)),
  });
}

/**
 * "Gets and starts the next pending job execution for a thing": an IN_PROGRESS execution is returned
 * as is; otherwise the oldest QUEUED one moves to IN_PROGRESS. No pending execution → empty answer.
 */
function startNextPendingJobExecution({ ctx, params, input }: OperationRequest) {
  const thing = requireThing(ctx, params.thingName ?? "");
  const details = statusDetailsOf(input.statusDetails);
  const deadline = stepDeadline(ctx, optionalNumber(input, "stepTimeoutInMinutes"));
  const { next } = pending(ctx, thing.name);
  if (!next) return ok({});
  const { job, execution } = next;
  if (execution.status === JobExecutionStatus.QUEUED) {
    const now = ctx.now();
    execution.status = JobExecutionStatus.IN_PROGRESS;
    execution.startedAt = now;
    execution.lastUpdatedAt = now;
    execution.versionNumber++;
    if (details) execution.statusDetails = details;
    if (typeof deadline === "number") execution.stepDeadline = deadline;
  }
  return ok({ execution: executionView(ctx, job, execution, true) });
}

function describeJobExecution({ ctx, params, query }: OperationRequest) {
  const thing = requireThing(ctx, params.thingName ?? "");
  const jobId = params.jobId ?? "";
  const includeDocument = queryBoolean(query, "includeJobDocument") ?? false;
  const executionNumber = queryNumber(query, "executionNumber");
  const found =
    jobId === "$next"
      ? pending(ctx, thing.name).next
      : executionsOfThing(ctx, thing.name).find(({ execution }) => execution.jobId === jobId);
  if (!found || (executionNumber !== undefined && found.execution.executionNumber !== executionNumber)) {
    throw resourceNotFound(`Job execution for job ${jobId} on thing ${thing.name} cannot be found.`);
  }
  return ok({ execution: executionView(ctx, found.job, found.execution, includeDocument) });
}

/**
 * A device reports IN_PROGRESS, SUCCEEDED, FAILED or REJECTED. A terminal execution cannot change
 * (InvalidStateTransitionException, 409). A stale `expectedVersion` is rejected with a
 * VersionConflictException (409) — the MQTT API calls it `VersionMismatch`; the HTTP model of this
 * client has no dedicated exception, so the SDK raises its base exception with that name.
 */
function updateJobExecution({ ctx, params, input }: OperationRequest) {
  const thing = requireThing(ctx, params.thingName ?? "");
  const jobId = params.jobId ?? "";
  const found = executionsOfThing(ctx, thing.name).find(({ execution }) => execution.jobId === jobId);
  if (!found)
    throw resourceNotFound(`Job execution for job ${jobId} on thing ${thing.name} cannot be found.`);
  const { job, execution } = found;
  const status = requiredString(input, "status");
  if (!DEVICE_STATUSES.has(status))
    throw invalidRequest(
      `Invalid status ${status}: a device may set IN_PROGRESS, SUCCEEDED, FAILED or REJECTED`,
    );
  const executionNumber = optionalNumber(input, "executionNumber");
  if (executionNumber !== undefined && executionNumber !== execution.executionNumber) {
    throw resourceNotFound(
      `Job execution ${executionNumber} for job ${jobId} on thing ${thing.name} cannot be found.`,
    );
  }
  const details = statusDetailsOf(input.statusDetails);
  const deadline = stepDeadline(ctx, optionalNumber(input, "stepTimeoutInMinutes"));
  if (TERMINAL_EXECUTION_STATUSES.has(execution.status)) {
    throw invalidStateTransition(
      `Job execution ${jobId} on thing ${thing.name} is ${execution.status} and cannot be updated.`,
    );
  }
  const expectedVersion = optionalNumber(input, "expectedVersion");
  if (expectedVersion !== undefined && expectedVersion !== execution.versionNumber) {
    throw new AwsError(
      "VersionConflictException",
      409,
      `Version mismatch: expected ${expectedVersion}, current ${execution.versionNumber}`,
    );
  }
  const now = ctx.now();
  if (status === JobExecutionStatus.IN_PROGRESS && execution.startedAt === undefined)
    execution.startedAt = now;
  execution.status = status as JobExecutionRecord["status"];
  execution.lastUpdatedAt = now;
  execution.versionNumber++;
  if (details) execution.statusDetails = details;
  if (deadline === null) delete execution.stepDeadline;
  else if (deadline !== undefined) execution.stepDeadline = deadline;
  if (TERMINAL_EXECUTION_STATUSES.has(status)) delete execution.stepDeadline;
  const includeState = optionalBoolean(input, "includeJobExecutionState") ?? false;
  const includeDocument = optionalBoolean(input, "includeJobDocument") ?? false;
  return ok({
    executionState: includeState
      ? {
          status: execution.status,
          statusDetails: execution.statusDetails,
          versionNumber: execution.versionNumber,
        }
      : undefined,
    jobDocument: includeDocument ? job.document : undefined,
  });
}

export function registerJobsDataPlane(router: RestJsonRouter): void {
  router
    .add("GET", "/things/{thingName}/jobs", "GetPendingJobExecutions", getPendingJobExecutions)
    .add(
      "PUT",
      "/things/{thingName}/jobs/$next",
      "StartNextPendingJobExecution",
      startNextPendingJobExecution,
    )
    .add("GET", "/things/{thingName}/jobs/{jobId}", "DescribeJobExecution", describeJobExecution)
    .add("POST", "/things/{thingName}/jobs/{jobId}", "UpdateJobExecution", updateJobExecution);
}
