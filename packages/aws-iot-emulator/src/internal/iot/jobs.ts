/**
 * IoT Jobs, control plane: CreateJob, DescribeJob, GetJobDocument, DescribeJobExecution,
 * ListJobExecutionsForThing, ListJobExecutionsForJob, CancelJob, DeleteJob.
 * @see https://docs.aws.amazon.com/iot/latest/apireference/API_CreateJob.html
 */
import { type EmulatorContext, jobArn, seconds, thingArn } from "../context.ts";
import {
  invalidRequest,
  invalidStateTransition,
  resourceAlreadyExists,
  resourceNotFound,
} from "../errors.ts";
import {
  approximateSecondsBeforeTimedOut,
  executionsOfThing,
  queueExecution,
  refreshJob,
} from "../jobs/executions.ts";
import { type OperationRequest, ok } from "../operation.ts";
import {
  checkName,
  optionalNumber,
  optionalObject,
  optionalString,
  queryBoolean,
  queryNumber,
  requiredString,
} from "../protocol/input.ts";
import { pageSize, paginate } from "../protocol/paging.ts";
import type { RestJsonRouter } from "../protocol/rest-json.ts";
import { type JobExecutionRecord, JobExecutionStatus, type JobRecord, JobStatus } from "../state.ts";
import { requireThing } from "./things.ts";

const JOB_ID = /^[a-zA-Z0-9_-]+$/;
/** Job documents are limited to 32 KB. */
const MAX_DOCUMENT_BYTES = 32_768;
const MAX_TARGETS = 100;

function requireJob(ctx: EmulatorContext, jobId: string): JobRecord {
  const job = ctx.state.jobs.get(jobId);
  if (!job) throw resourceNotFound(`Job ${jobId} cannot be found.`);
  refreshJob(ctx, job);
  return job;
}

/** Thing names a target ARN stands for (a thing, or the members of a thing group). */
function thingsOfTarget(ctx: EmulatorContext, target: string): string[] {
  const match = /^arn:aws[a-z-]*:iot:[^:]*:[^:]*:(thing|thinggroup)\/(.+)$/.exec(target);
  if (!match) throw invalidRequest(`Invalid target ARN ${target}`);
  const name = match[2] ?? "";
  if (match[1] === "thing") {
    if (!ctx.state.things.has(name)) throw resourceNotFound(`Thing ${name} cannot be found.`);
    return [name];
  }
  const group = ctx.state.thingGroups.get(name);
  if (!group) throw resourceNotFound(`Thing group ${name} cannot be found.`);
  return [...group.things];
}

/**
 * "A job identifier which must be unique for your account": a duplicate jobId is a
 * ResourceAlreadyExistsException whatever the state of the existing job (CreateJob never returns it).
 */
function createJob({ ctx, params, input }: OperationRequest) {
  const jobId = params.jobId ?? "";
  checkName(jobId, "jobId", 64, JOB_ID);
  const arn = jobArn(ctx, jobId);
  if (ctx.state.jobs.has(jobId))
    throw resourceAlreadyExists(`Job with id ${jobId} already exists.`, jobId, arn);
  const targets = input.targets;
  if (!Array.isArray(targets) || targets.length < 1 || targets.length > MAX_TARGETS) {
    throw invalidRequest(`targets must hold 1 to ${MAX_TARGETS} thing or thing group ARNs`);
  }
  if (input.documentSource !== undefined) {
    throw invalidRequest("documentSource (S3) is not supported by the emulator; pass document");
  }
  const document = requiredString(input, "document");
  if (Buffer.byteLength(document) > MAX_DOCUMENT_BYTES) {
    throw invalidRequest(`The job document exceeds the maximum size of ${MAX_DOCUMENT_BYTES} bytes`);
  }
  try {
    JSON.parse(document);
  } catch {
    throw invalidRequest("The job document is not valid JSON");
  }
  const selection = optionalString(input, "targetSelection") ?? "SNAPSHOT";
  if (selection !== "SNAPSHOT" && selection !== "CONTINUOUS")
    throw invalidRequest(`Invalid targetSelection ${selection}`);
  const timeout = optionalNumber(optionalObject(input, "timeoutConfig") ?? {}, "inProgressTimeoutInMinutes");
  if (timeout !== undefined && (!Number.isInteger(timeout) || timeout < 1 || timeout > 10_080)) {
    throw invalidRequest("inProgressTimeoutInMinutes must be between 1 and 10080");
  }
  const thingNames = new Set<string>();
  for (const target of targets) {
    if (typeof target !== "string") throw invalidRequest("targets must be ARN strings");
    for (const name of thingsOfTarget(ctx, target)) thingNames.add(name);
  }
  const now = ctx.now();
  const job: JobRecord = {
    jobId,
    arn,
    document,
    targets: targets as string[],
    targetSelection: selection,
    status: JobStatus.IN_PROGRESS,
    createdAt: now,
    lastUpdatedAt: now,
    executions: new Map(),
  };
  const description = optionalString(input, "description");
  if (description !== undefined) job.description = description;
  if (timeout !== undefined) job.inProgressTimeoutMinutes = timeout;
  ctx.state.jobs.set(jobId, job);
  for (const name of thingNames) queueExecution(ctx, job, name);
  return ok({ jobArn: arn, jobId, description: job.description });
}

function processDetails(job: JobRecord) {
  const count = (status: string) => [...job.executions.values()].filter((e) => e.status === status).length;
  return {
    processingTargets: job.status === JobStatus.IN_PROGRESS ? job.targets : [],
    numberOfCanceledThings: count(JobExecutionStatus.CANCELED),
    numberOfSucceededThings: count(JobExecutionStatus.SUCCEEDED),
    numberOfFailedThings: count(JobExecutionStatus.FAILED),
    numberOfRejectedThings: count(JobExecutionStatus.REJECTED),
    numberOfQueuedThings: count(JobExecutionStatus.QUEUED),
    numberOfInProgressThings: count(JobExecutionStatus.IN_PROGRESS),
    numberOfRemovedThings: count(JobExecutionStatus.REMOVED),
    numberOfTimedOutThings: count(JobExecutionStatus.TIMED_OUT),
  };
}

function describeJob({ ctx, params }: OperationRequest) {
  const job = requireJob(ctx, params.jobId ?? "");
  return ok({
    job: {
      jobArn: job.arn,
      jobId: job.jobId,
      targetSelection: job.targetSelection,
      status: job.status,
      forceCanceled: job.forceCanceled,
      reasonCode: job.reasonCode,
      comment: job.comment,
      targets: job.targets,
      description: job.description,
      createdAt: seconds(job.createdAt),
      lastUpdatedAt: seconds(job.lastUpdatedAt),
      completedAt: job.completedAt === undefined ? undefined : seconds(job.completedAt),
      jobProcessDetails: processDetails(job),
      timeoutConfig:
        job.inProgressTimeoutMinutes === undefined
          ? undefined
          : { inProgressTimeoutInMinutes: job.inProgressTimeoutMinutes },
      isConcurrent: false,
    },
  });
}

function executionSummary(e: JobExecutionRecord) {
  return {
    status: e.status,
    queuedAt: seconds(e.queuedAt),
    startedAt: e.startedAt === undefined ? undefined : seconds(e.startedAt),
    lastUpdatedAt: seconds(e.lastUpdatedAt),
    executionNumber: e.executionNumber,
    retryAttempt: 0,
  };
}

/** @see https://docs.aws.amazon.com/iot/latest/apireference/API_DescribeJobExecution.html */
function describeJobExecution({ ctx, params, query }: OperationRequest) {
  const job = requireJob(ctx, params.jobId ?? "");
  const thingName = params.thingName ?? "";
  const e = job.executions.get(thingName);
  const executionNumber = queryNumber(query, "executionNumber");
  if (!e || (executionNumber !== undefined && executionNumber !== e.executionNumber)) {
    throw resourceNotFound(`Job execution for job ${job.jobId} on thing ${thingName} cannot be found.`);
  }
  return ok({
    execution: {
      jobId: e.jobId,
      status: e.status,
      forceCanceled: e.forceCanceled,
      statusDetails: { detailsMap: e.statusDetails },
      thingArn: thingArn(ctx, e.thingName),
      queuedAt: seconds(e.queuedAt),
      startedAt: e.startedAt === undefined ? undefined : seconds(e.startedAt),
      lastUpdatedAt: seconds(e.lastUpdatedAt),
      executionNumber: e.executionNumber,
      versionNumber: e.versionNumber,
      approximateSecondsBeforeTimedOut: approximateSecondsBeforeTimedOut(ctx, job, e),
    },
  });
}

function listJobExecutionsForThing({ ctx, params, query }: OperationRequest) {
  const thing = requireThing(ctx, params.thingName ?? "");
  const status = query.get("status");
  const jobId = query.get("jobId");
  const all = executionsOfThing(ctx, thing.name)
    .filter(
      ({ execution }) =>
        (status === undefined || execution.status === status) &&
        (jobId === undefined || execution.jobId === jobId),
    )
    .map(({ execution }) => ({ jobId: execution.jobId, jobExecutionSummary: executionSummary(execution) }));
  const page = paginate(all, query.get("nextToken"), pageSize(queryNumber(query, "maxResults"), 50, 250));
  return ok({ executionSummaries: page.items, nextToken: page.nextToken });
}

function listJobExecutionsForJob({ ctx, params, query }: OperationRequest) {
  const job = requireJob(ctx, params.jobId ?? "");
  const status = query.get("status");
  const all = [...job.executions.values()]
    .filter((e) => status === undefined || e.status === status)
    .map((e) => ({ thingArn: thingArn(ctx, e.thingName), jobExecutionSummary: executionSummary(e) }));
  const page = paginate(all, query.get("nextToken"), pageSize(queryNumber(query, "maxResults"), 50, 250));
  return ok({ executionSummaries: page.items, nextToken: page.nextToken });
}

/**
 * Cancels QUEUED executions; IN_PROGRESS ones only with `force` ("the device may be mid-operation").
 * @see https://docs.aws.amazon.com/iot/latest/apireference/API_CancelJob.html
 */
function cancelJob({ ctx, params, query, input }: OperationRequest) {
  const job = requireJob(ctx, params.jobId ?? "");
  const force = queryBoolean(query, "force") ?? false;
  if (job.status === JobStatus.COMPLETED)
    throw invalidStateTransition(`Job ${job.jobId} is COMPLETED and cannot be canceled.`);
  const now = ctx.now();
  for (const e of job.executions.values()) {
    const cancel =
      e.status === JobExecutionStatus.QUEUED || (force && e.status === JobExecutionStatus.IN_PROGRESS);
    if (!cancel) continue;
    if (e.status === JobExecutionStatus.IN_PROGRESS) e.forceCanceled = true;
    e.status = JobExecutionStatus.CANCELED;
    e.lastUpdatedAt = now;
    e.versionNumber++;
  }
  job.status = JobStatus.CANCELED;
  if (force) job.forceCanceled = true;
  const reasonCode = optionalString(input, "reasonCode");
  const comment = optionalString(input, "comment");
  if (reasonCode !== undefined) job.reasonCode = reasonCode;
  if (comment !== undefined) job.comment = comment;
  job.lastUpdatedAt = now;
  return ok({ jobArn: job.arn, jobId: job.jobId, description: job.description });
}

/**
 * A job that is still IN_PROGRESS needs `force`; AWS deletes asynchronously (DELETION_IN_PROGRESS),
 * the emulator at once.
 * @see https://docs.aws.amazon.com/iot/latest/apireference/API_DeleteJob.html
 */
function deleteJob({ ctx, params, query }: OperationRequest) {
  const job = requireJob(ctx, params.jobId ?? "");
  const force = queryBoolean(query, "force") ?? false;
  const running = [...job.executions.values()].some((e) => e.status === JobExecutionStatus.IN_PROGRESS);
  if (!force && (job.status === JobStatus.IN_PROGRESS || running)) {
    throw invalidStateTransition(
      `Cannot delete job ${job.jobId} which is IN_PROGRESS without setting force to true.`,
    );
  }
  ctx.state.jobs.delete(job.jobId);
  return ok();
}

/** @see https://docs.aws.amazon.com/iot/latest/apireference/API_GetJobDocument.html */
function getJobDocument({ ctx, params }: OperationRequest) {
  return ok({ document: requireJob(ctx, params.jobId ?? "").document });
}

export function registerJobs(router: RestJsonRouter): void {
  router
    .add("PUT", "/jobs/{jobId}", "CreateJob", createJob)
    .add("GET", "/jobs/{jobId}", "DescribeJob", describeJob)
    .add("GET", "/jobs/{jobId}/job-document", "GetJobDocument", getJobDocument)
    .add("GET", "/things/{thingName}/jobs/{jobId}", "DescribeJobExecution", describeJobExecution)
    .add("GET", "/things/{thingName}/jobs", "ListJobExecutionsForThing", listJobExecutionsForThing)
    .add("GET", "/jobs/{jobId}/things", "ListJobExecutionsForJob", listJobExecutionsForJob)
    .add("PUT", "/jobs/{jobId}/cancel", "CancelJob", cancelJob)
    .add("DELETE", "/jobs/{jobId}", "DeleteJob", deleteJob);
}
