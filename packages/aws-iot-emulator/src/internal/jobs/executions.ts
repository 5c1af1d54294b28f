/**
 * The job-execution lifecycle shared by the IoT control plane and the Jobs data plane.
 *
 *   QUEUED ──► IN_PROGRESS ──► SUCCEEDED | FAILED | REJECTED   (device, UpdateJobExecution)
 *   QUEUED ──► SUCCEEDED | FAILED | REJECTED                    (device may skip IN_PROGRESS)
 *   QUEUED | IN_PROGRESS(force) ──► CANCELED                    (CancelJob)
 *   IN_PROGRESS ──► TIMED_OUT                                   (inProgressTimeoutInMinutes / step timeout)
 *
 * Timeouts are evaluated lazily against the injected clock whenever an execution or its job is read or
 * written, so tests advance a fake clock instead of waiting. A SNAPSHOT job is COMPLETED once every
 * execution is terminal.
 * @see https://docs.aws.amazon.com/iot/latest/developerguide/iot-jobs-lifecycle.html
 */
import type { EmulatorContext } from "../context.ts";
import { type JobExecutionRecord, JobExecutionStatus, type JobRecord, JobStatus } from "../state.ts";

export const TERMINAL_EXECUTION_STATUSES: ReadonlySet<string> = new Set([
  JobExecutionStatus.SUCCEEDED,
  JobExecutionStatus.FAILED,
  JobExecutionStatus.TIMED_OUT,
  JobExecutionStatus.REJECTED,
  JobExecutionStatus.REMOVED,
  JobExecutionStatus.CANCELED,
]);

/** When an IN_PROGRESS execution times out (earliest of the job's in-progress timeout and the step timeout). */
function deadlineOf(job: JobRecord, execution: JobExecutionRecord): number | undefined {
  if (execution.status !== JobExecutionStatus.IN_PROGRESS) return undefined;
  let deadline: number | undefined;
  if (job.inProgressTimeoutMinutes !== undefined && execution.startedAt !== undefined) {
    deadline = execution.startedAt + job.inProgressTimeoutMinutes * 60_000;
  }
  if (execution.stepDeadline !== undefined) {
    deadline = deadline === undefined ? execution.stepDeadline : Math.min(deadline, execution.stepDeadline);
  }
  return deadline;
}

/** Applies timeouts due by now and completes the job when all its executions are terminal. */
export function refreshJob(ctx: EmulatorContext, job: JobRecord): void {
  const now = ctx.now();
  for (const execution of job.executions.values()) {
    const deadline = deadlineOf(job, execution);
    if (deadline !== undefined && deadline <= now) {
      execution.status = JobExecutionStatus.TIMED_OUT;
      execution.lastUpdatedAt = deadline;
      execution.versionNumber++;
      delete execution.stepDeadline;
    }
  }
  if (job.status === JobStatus.IN_PROGRESS && job.targetSelection === "SNAPSHOT" && job.executions.size > 0) {
    const allDone = [...job.executions.values()].every((e) => TERMINAL_EXECUTION_STATUSES.has(e.status));
    if (allDone) {
      job.status = JobStatus.COMPLETED;
      job.completedAt = Math.max(...[...job.executions.values()].map((e) => e.lastUpdatedAt));
      job.lastUpdatedAt = job.completedAt;
    }
  }
}

/** Executions of a thing across all jobs, oldest first, with timeouts applied. */
export function executionsOfThing(
  ctx: EmulatorContext,
  thingName: string,
): { job: JobRecord; execution: JobExecutionRecord }[] {
  const out: { job: JobRecord; execution: JobExecutionRecord }[] = [];
  for (const job of ctx.state.jobs.values()) {
    const execution = job.executions.get(thingName);
    if (!execution) continue;
    refreshJob(ctx, job);
    out.push({ job, execution });
  }
  return out.sort(
    (a, b) =>
      a.execution.queuedAt - b.execution.queuedAt ||
      a.execution.executionNumber - b.execution.executionNumber,
  );
}

/** Queues a new execution of `job` for `thingName`. */
export function queueExecution(ctx: EmulatorContext, job: JobRecord, thingName: string): void {
  if (job.executions.has(thingName)) return;
  const executionNumber = (ctx.state.executionNumbers.get(thingName) ?? 0) + 1;
  ctx.state.executionNumbers.set(thingName, executionNumber);
  const now = ctx.now();
  job.executions.set(thingName, {
    jobId: job.jobId,
    thingName,
    status: JobExecutionStatus.QUEUED,
    statusDetails: {},
    queuedAt: now,
    lastUpdatedAt: now,
    executionNumber,
    versionNumber: 1,
  });
}

export function approximateSecondsBeforeTimedOut(
  ctx: EmulatorContext,
  job: JobRecord,
  e: JobExecutionRecord,
) {
  const deadline = deadlineOf(job, e);
  return deadline === undefined ? undefined : Math.max(0, Math.ceil((deadline - ctx.now()) / 1000));
}
