/**
 * The status poller: every `StatusPollIntervalSeconds` it walks every open tracked command, in
 * batches of `StatusPollBatchSize` claimed with `FOR UPDATE SKIP LOCKED` (each claim pushes the
 * batch's due time one interval forward, so the batches of a round never overlap and several hosts
 * share the work), and asks AWS where each one is:
 *
 * - thing targets: `DescribeJobExecution` — `SUCCEEDED` → `DeviceCommandCompletedEvent`;
 *   `FAILED`, `REJECTED`, `TIMED_OUT`, `CANCELED`, `REMOVED` → `DeviceCommandFailedEvent` with the
 *   status and the device's `statusDetails`; `QUEUED` / `IN_PROGRESS` stay tracked; no execution
 *   yet (`ResourceNotFoundException`) stays tracked;
 * - group targets: `DescribeJob` — a `COMPLETED` / `CANCELED` job closes with its per-status counts;
 * - a `Dispatching` record (a crashed dispatch) is finished with `CreateJob` / adopt;
 * - a record past `JobTrackingTtlHours` is closed as `Expired` with a failed event (`EXPIRED`).
 *
 * Each record is closed and its event published in one transaction guarded by "still open", so
 * each outcome is published once even with two pollers. Every AWS call goes through the call
 * policy (DescribeJobExecution: 10 requests/s per account by default).
 *
 * @see https://docs.aws.amazon.com/iot/latest/apireference/API_DescribeJobExecution.html
 */
import { DescribeJobCommand, DescribeJobExecutionCommand } from "@aws-sdk/client-iot";
import { type Clock, type Logger, type ReadinessGate, silentLogger, systemClock } from "@granit/iot";
import {
  type AwsServiceCaller,
  awsErrorName,
  CommandTargetKind,
  type JobTrackingStore,
  type Scheduler,
  systemScheduler,
  type TimerHandle,
  type TrackedJob,
  TrackedJobStatus,
} from "@granit/iot-aws";
import type { AwsIoTJobsCommandDispatcher } from "./aws-iot-jobs-command-dispatcher.ts";
import { AwsJobsMetrics } from "./aws-jobs-metrics.ts";
import type { AwsJobsOptions } from "./aws-jobs-options.ts";
import {
  BridgeFailureStatus,
  SUCCEEDED,
  TERMINAL_EXECUTION_STATUSES,
  TERMINAL_JOB_STATUSES,
} from "./internal/execution-status.ts";
import { closeWithOutcome, type Outcome, reasonFromDetails } from "./internal/outcome.ts";

/** The name the poller registers under as a host background service. */
export const JOB_STATUS_POLLER_NAME = "granit.iot.aws.jobs.status-poller";

/** What the poller needs. */
export interface JobStatusPollerDependencies {
  /** The IoT control plane under the call policy (the dispatcher's). */
  readonly iot: AwsServiceCaller;
  readonly trackingStore: JobTrackingStore;
  /** Finishes crashed dispatches. */
  readonly dispatcher: AwsIoTJobsCommandDispatcher;
  readonly options: AwsJobsOptions;
  /** While closed, rounds are skipped (nothing is claimed). */
  readonly credentials?: ReadinessGate | undefined;
  /** @default systemClock */
  readonly clock?: Clock | undefined;
  /** Drives the round timer. @default systemScheduler */
  readonly scheduler?: Scheduler | undefined;
  /** @default silentLogger */
  readonly logger?: Logger | undefined;
  /** @default new counters on the global `granit.iot.aws.jobs` meter */
  readonly metrics?: AwsJobsMetrics | undefined;
  /** Records described at once within a batch; the rate limiter paces them anyway. @default 8 */
  readonly concurrency?: number | undefined;
}

/** What one round did. */
export interface PollRoundSummary {
  /** Records claimed (each looked at once). */
  readonly claimed: number;
  /** Records this poller closed (outcome published). */
  readonly closed: number;
  /** Crashed dispatches finished. */
  readonly resumed: number;
  /** Records whose AWS call failed (they are looked at again next round). */
  readonly errors: number;
  /** True when the round did not run because the credential gate was closed. */
  readonly skipped: boolean;
}

interface Observation {
  readonly status: string;
  readonly details: Record<string, string> | null;
  readonly at: Date | undefined;
  /** The closed tracking status when the observation is terminal, else null. */
  readonly closeAs: TrackedJobStatus | null;
  readonly reason: string | null;
}

export class JobStatusPoller {
  readonly name = JOB_STATUS_POLLER_NAME;
  readonly #iot: AwsServiceCaller;
  readonly #store: JobTrackingStore;
  readonly #dispatcher: AwsIoTJobsCommandDispatcher;
  readonly #options: AwsJobsOptions;
  readonly #credentials: ReadinessGate | undefined;
  readonly #clock: Clock;
  readonly #scheduler: Scheduler;
  readonly #logger: Logger;
  readonly #metrics: AwsJobsMetrics;
  readonly #concurrency: number;
  #running = false;
  #timer: TimerHandle | null = null;
  #round: Promise<unknown> | null = null;
  #abort = new AbortController();

  constructor(dependencies: JobStatusPollerDependencies) {
    this.#iot = dependencies.iot;
    this.#store = dependencies.trackingStore;
    this.#dispatcher = dependencies.dispatcher;
    this.#options = dependencies.options;
    this.#credentials = dependencies.credentials;
    this.#clock = dependencies.clock ?? systemClock;
    this.#scheduler = dependencies.scheduler ?? systemScheduler;
    this.#logger = (dependencies.logger ?? silentLogger).child({ component: "aws-jobs-status-poller" });
    this.#metrics = dependencies.metrics ?? new AwsJobsMetrics();
    this.#concurrency = Math.max(1, dependencies.concurrency ?? 8);
  }

  /** Runs a round now, then one every `StatusPollIntervalSeconds` after the previous one ends. */
  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#abort = new AbortController();
    this.#schedule(0);
  }

  /** Stops the timer, aborts AWS calls in flight and waits for the current round to end. */
  async stop(): Promise<void> {
    this.#running = false;
    if (this.#timer) this.#scheduler.clearTimeout(this.#timer);
    this.#timer = null;
    this.#abort.abort(new Error("status poller stopped"));
    await this.#round?.catch(() => {});
  }

  /** One round: claims and handles due open records batch after batch until none is due. */
  async pollOnce(): Promise<PollRoundSummary> {
    if (this.#credentials && !this.#credentials.isReady()) {
      this.#logger.debug({}, "credential gate closed; round skipped");
      return { claimed: 0, closed: 0, resumed: 0, errors: 0, skipped: true };
    }
    const signal = this.#abort.signal;
    const totals = { claimed: 0, closed: 0, resumed: 0, errors: 0 };
    const limit = this.#options.statusPollBatchSize;
    while (!signal.aborted) {
      const now = this.#clock.now();
      const batch = await this.#store.claimDue({
        now,
        limit,
        nextPollAt: new Date(now.getTime() + this.#options.statusPollIntervalSeconds * 1000),
      });
      totals.claimed += batch.length;
      await this.#each(batch, async (job) => {
        try {
          const result = await this.#poll(job, signal);
          if (result === "closed") totals.closed++;
          if (result === "resumed") totals.resumed++;
        } catch (error) {
          totals.errors++;
          this.#logger.warn(
            { jobId: job.jobId, error: awsErrorName(error), message: (error as Error)?.message },
            "could not poll a tracked job; it is looked at again next round",
          );
        }
      });
      if (batch.length < limit) break;
    }
    if (totals.claimed > 0) this.#logger.debug(totals, "status poll round done");
    return { ...totals, skipped: false };
  }

  async #poll(job: TrackedJob, signal: AbortSignal): Promise<"closed" | "resumed" | "open"> {
    const now = this.#clock.now();
    const expired = job.expiresAt.getTime() <= now.getTime();
    if (job.status === TrackedJobStatus.Dispatching) {
      if (expired) return (await this.#close(job, this.#expiredOutcome(job, null, now))) ? "closed" : "open";
      const resumed = await this.#dispatcher.resume(job, signal);
      return resumed === "closed" ? "closed" : resumed === "dispatched" ? "resumed" : "open";
    }

    let observation: Observation | null = null;
    try {
      observation =
        job.targetKind === CommandTargetKind.Thing && job.thingName
          ? await this.#describeExecution(job, signal)
          : await this.#describeGroupJob(job, signal);
    } catch (error) {
      // No execution yet (or the job was deleted): keep tracking until it shows up or expires.
      if (awsErrorName(error) !== "ResourceNotFoundException" && !expired) throw error;
    }

    if (observation?.closeAs) {
      return (await this.#close(job, {
        status: observation.closeAs,
        endStatus: observation.status,
        executionStatus: observation.status,
        statusDetails: observation.details,
        reason: observation.reason,
        occurredAt: observation.at ?? now,
        at: now,
      }))
        ? "closed"
        : "open";
    }
    if (expired)
      return (await this.#close(job, this.#expiredOutcome(job, observation, now))) ? "closed" : "open";
    if (observation) {
      await this.#store.recordProgress(job.jobId, {
        executionStatus: observation.status,
        statusDetails: observation.details,
        at: now,
      });
    }
    return "open";
  }

  async #describeExecution(job: TrackedJob, signal: AbortSignal): Promise<Observation> {
    const { execution } = await this.#iot.call(
      new DescribeJobExecutionCommand({ jobId: job.jobId, thingName: job.thingName ?? "" }),
      { tenantId: job.tenantId, signal },
    );
    const status = execution?.status ?? "UNKNOWN";
    const details = nonEmpty(execution?.statusDetails?.detailsMap);
    const closeAs = TERMINAL_EXECUTION_STATUSES.get(status) ?? null;
    return {
      status,
      details,
      at: execution?.lastUpdatedAt,
      closeAs,
      reason:
        closeAs && status !== SUCCEEDED ? (reasonFromDetails(details) ?? this.#explain(status, job)) : null,
    };
  }

  /** Group targets: the job's own status and its per-status thing counts. */
  async #describeGroupJob(job: TrackedJob, signal: AbortSignal): Promise<Observation> {
    const described = await this.#iot.call(new DescribeJobCommand({ jobId: job.jobId }), {
      tenantId: job.tenantId,
      signal,
    });
    const status = described.job?.status ?? "UNKNOWN";
    const p = described.job?.jobProcessDetails ?? {};
    const counts: Record<string, number> = {
      succeeded: p.numberOfSucceededThings ?? 0,
      failed: p.numberOfFailedThings ?? 0,
      rejected: p.numberOfRejectedThings ?? 0,
      timedOut: p.numberOfTimedOutThings ?? 0,
      canceled: p.numberOfCanceledThings ?? 0,
      removed: p.numberOfRemovedThings ?? 0,
      queued: p.numberOfQueuedThings ?? 0,
      inProgress: p.numberOfInProgressThings ?? 0,
    };
    const details = Object.fromEntries(
      Object.entries(counts)
        .filter(([, n]) => n > 0)
        .map(([k, n]) => [k, String(n)]),
    );
    const unsuccessful = Object.entries(counts)
      .filter(([k]) => !["succeeded", "queued", "inProgress"].includes(k))
      .reduce((sum, [, n]) => sum + n, 0);
    let closeAs: TrackedJobStatus | null = null;
    if (TERMINAL_JOB_STATUSES.has(status)) {
      closeAs =
        status === "COMPLETED"
          ? unsuccessful === 0
            ? TrackedJobStatus.Succeeded
            : TrackedJobStatus.Failed
          : TrackedJobStatus.Canceled;
    }
    return {
      status,
      details,
      at: described.job?.completedAt ?? described.job?.lastUpdatedAt,
      closeAs,
      reason:
        closeAs === TrackedJobStatus.Failed
          ? `${unsuccessful} of ${unsuccessful + (counts.succeeded ?? 0)} things did not succeed`
          : closeAs === TrackedJobStatus.Canceled
            ? `the job was ${status.toLowerCase()}`
            : null,
    };
  }

  #expiredOutcome(job: TrackedJob, observation: Observation | null, now: Date): Outcome {
    const last = observation?.status ?? job.executionStatus;
    return {
      status: TrackedJobStatus.Expired,
      endStatus: BridgeFailureStatus.Expired,
      executionStatus: last,
      statusDetails: observation?.details ?? job.statusDetails,
      reason:
        `expired: no terminal execution status within JobTrackingTtlHours (${this.#options.jobTrackingTtlHours} h)` +
        (last ? `; last execution status ${last}` : "; the job was never seen with an execution"),
      occurredAt: now,
      at: now,
    };
  }

  #explain(status: string, job: TrackedJob): string {
    switch (status) {
      case "FAILED":
        return "the device reported FAILED";
      case "REJECTED":
        return "the device rejected the job";
      case "TIMED_OUT":
        return `the execution timed out (in progress longer than ${this.#options.inProgressTimeoutMinutes} min, or its step timeout)`;
      case "CANCELED":
        return job.cancelRequestedAt ? "canceled on request" : "the job was canceled";
      case "REMOVED":
        return "the thing was removed from the job's targets";
      default:
        return status;
    }
  }

  async #close(job: TrackedJob, outcome: Outcome): Promise<boolean> {
    const closed = await closeWithOutcome(this.#store, this.#metrics, job, outcome);
    if (closed) {
      this.#logger.info(
        { jobId: job.jobId, status: outcome.status, endStatus: outcome.endStatus },
        "device command ended",
      );
    }
    return closed;
  }

  async #each(jobs: readonly TrackedJob[], work: (job: TrackedJob) => Promise<void>): Promise<void> {
    let next = 0;
    const worker = async () => {
      while (next < jobs.length) {
        const job = jobs[next++];
        if (job) await work(job);
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.#concurrency, jobs.length) }, worker));
  }

  #schedule(ms: number): void {
    if (!this.#running) return;
    this.#timer = this.#scheduler.setTimeout(() => {
      this.#timer = null;
      const round = this.pollOnce()
        .catch((error: unknown) =>
          this.#logger.error({ message: (error as Error)?.message }, "status poll round failed"),
        )
        .finally(() => {
          this.#round = null;
          this.#schedule(this.#options.statusPollIntervalSeconds * 1000);
        });
      this.#round = round;
    }, ms);
  }
}

function nonEmpty(map: Record<string, string> | undefined): Record<string, string> | null {
  return map && Object.keys(map).length > 0 ? { ...map } : null;
}
