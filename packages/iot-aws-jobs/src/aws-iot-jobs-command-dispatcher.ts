/**
 * `DeviceCommandDispatcher` backed by AWS IoT Jobs. A command becomes the job
 * `{JobIdPrefix}-{correlationId}` with the document `{"operation","correlationId","parameters"}`.
 *
 * Idempotent on the correlation id, and safe across crashes and hosts:
 *
 * 1. the tracking record is inserted first (`Dispatching`), keyed uniquely by job id and correlation id —
 *    a second dispatch of the same correlation id finds it and returns the same job;
 * 2. `CreateJob`; a `ResourceAlreadyExistsException` (a crash after `CreateJob`, or a concurrent
 *    dispatch) is confirmed with `DescribeJob` — the job's description names the correlation id and
 *    the command hash — and adopted; a job that is not this command is a `JobIdConflictError`;
 * 3. the record becomes `Dispatched`.
 *
 * A crash between 2 and 3 leaves a `Dispatching` record: the next redelivery, or the status poller
 * once the record is due, runs 2–3 again and ends with exactly one job. When AWS refuses the job for
 * good (4xx), nothing exists in AWS, so the record is removed and `JobDispatchRejectedError` thrown.
 * Throttling and 5xx are retried by the call policy; if its budget runs out the record stays
 * `Dispatching` for the poller. While the credential gate is closed nothing is written or sent.
 *
 * @see https://docs.aws.amazon.com/iot/latest/apireference/API_CreateJob.html
 */
import {
  CancelJobCommand,
  CreateDynamicThingGroupCommand,
  CreateJobCommand,
  DescribeJobCommand,
  DescribeThingGroupCommand,
} from "@aws-sdk/client-iot";
import {
  type Clock,
  type DeviceCommand,
  type DeviceCommandDispatcher,
  type DeviceCommandTarget,
  type DispatchResult,
  InvalidStatusTransitionError,
  type Logger,
  parseTenantId,
  type ReadinessGate,
  silentLogger,
  systemClock,
  uuidv7,
} from "@granit/iot";
import {
  AwsCredentialsNotReadyError,
  type AwsServiceCaller,
  awsErrorName,
  CommandTargetKind,
  classifyAwsError,
  type JobTrackingStore,
  type TrackedJob,
  TrackedJobStatus,
} from "@granit/iot-aws";
import { AwsJobsMetrics } from "./aws-jobs-metrics.ts";
import type { AwsJobsOptions } from "./aws-jobs-options.ts";
import {
  CommandCorrelationConflictError,
  DynamicThingGroupConflictError,
  JobDispatchRejectedError,
  JobIdConflictError,
} from "./errors.ts";
import { dynamicThingGroupName, resolveTarget } from "./internal/command-targets.ts";
import { BridgeFailureStatus } from "./internal/execution-status.ts";
import { commandHash, jobDescription, prepareCommand } from "./internal/job-document.ts";
import { closeWithOutcome } from "./internal/outcome.ts";

/**
 * A `Dispatching` record younger than this is a dispatch still in flight (waiting for a `CreateJob`
 * token or retrying), not a crashed one: the poller leaves it alone until then.
 */
export const DISPATCH_RECOVERY_DELAY_MS = 120_000;

/** Seams for crash tests. */
export interface AwsJobsTestHooks {
  /**
   * Runs right after `CreateJob` succeeded, before the tracking record says so. A promise that never
   * settles stands for the process dying exactly there: nothing after it runs.
   */
  readonly afterCreateJob?: ((jobId: string) => Promise<void> | void) | undefined;
}

/** What the dispatcher needs. */
export interface AwsIoTJobsCommandDispatcherDependencies {
  /** The IoT control plane under the call policy: `policy.forClient(new IoTClient({ maxAttempts: 1 }), "iot")`. */
  readonly iot: AwsServiceCaller;
  readonly trackingStore: JobTrackingStore;
  readonly options: AwsJobsOptions;
  /** The credential gate; while closed, dispatch and cancel refuse before writing anything. */
  readonly credentials?: ReadinessGate | undefined;
  /** @default systemClock */
  readonly clock?: Clock | undefined;
  /** @default silentLogger */
  readonly logger?: Logger | undefined;
  /** @default new counters on the global `granit.iot.aws.jobs` meter */
  readonly metrics?: AwsJobsMetrics | undefined;
  readonly hooks?: AwsJobsTestHooks | undefined;
}

/** Who asked for a command (audit). */
export interface DispatchOptions {
  readonly requestedBy?: string | null | undefined;
  readonly signal?: AbortSignal | undefined;
}

/** The tracking record of a dispatched command and whether it existed before this call. */
export interface TrackedDispatch {
  readonly job: TrackedJob;
  readonly reused: boolean;
}

/** Result of the poller's attempt to finish a crashed dispatch. */
export type ResumeResult = "dispatched" | "closed" | "skipped";

export class AwsIoTJobsCommandDispatcher implements DeviceCommandDispatcher {
  readonly dispatcherName = "AwsIoTJobs";
  readonly #iot: AwsServiceCaller;
  readonly #store: JobTrackingStore;
  readonly #options: AwsJobsOptions;
  readonly #credentials: ReadinessGate | undefined;
  readonly #clock: Clock;
  readonly #logger: Logger;
  readonly #metrics: AwsJobsMetrics;
  readonly #hooks: AwsJobsTestHooks;

  constructor(dependencies: AwsIoTJobsCommandDispatcherDependencies) {
    this.#iot = dependencies.iot;
    this.#store = dependencies.trackingStore;
    this.#options = dependencies.options;
    this.#credentials = dependencies.credentials;
    this.#clock = dependencies.clock ?? systemClock;
    this.#logger = (dependencies.logger ?? silentLogger).child({ component: "aws-jobs-dispatcher" });
    this.#metrics = dependencies.metrics ?? new AwsJobsMetrics();
    this.#hooks = dependencies.hooks ?? {};
  }

  /** The core port: the job id, and whether the command had been dispatched before. */
  async dispatch(command: DeviceCommand, target: DeviceCommandTarget): Promise<DispatchResult> {
    const { job, reused } = await this.dispatchTracked(command, target);
    return { jobId: job.jobId, reused };
  }

  /** `dispatch`, returning the tracking record (the host API answers with it). */
  async dispatchTracked(
    command: DeviceCommand,
    target: DeviceCommandTarget,
    options: DispatchOptions = {},
  ): Promise<TrackedDispatch> {
    const operationTag = typeof command.operation === "string" ? command.operation : "unknown";
    try {
      this.#ensureGate();
    } catch (error) {
      this.#metrics.dispatchError(command.tenantId ?? null, operationTag, awsErrorName(error));
      throw error;
    }
    const prepared = prepareCommand(command, this.#options.jobIdPrefix);
    const resolved = resolveTarget(target);
    const tenantId = parseTenantId(command.tenantId);
    const parametersHash = commandHash({
      tenantId,
      operation: prepared.operation,
      parameters: prepared.parameters,
      targetKind: resolved.kind,
      target: resolved.target,
    });
    const now = this.#clock.now();
    const { created, job } = await this.#store.begin({
      commandId: uuidv7(now.getTime()),
      jobId: prepared.jobId,
      correlationId: prepared.correlationId,
      tenantId,
      deviceId: resolved.deviceId,
      thingName: resolved.thingName,
      targetKind: resolved.kind,
      target: resolved.target,
      operation: prepared.operation,
      parameters: prepared.parameters,
      parametersHash,
      requestedBy: options.requestedBy ?? null,
      createdAt: now,
      nextPollAt: new Date(
        now.getTime() + Math.max(DISPATCH_RECOVERY_DELAY_MS, this.#options.statusPollIntervalSeconds * 1000),
      ),
      expiresAt: new Date(now.getTime() + this.#options.jobTrackingTtlHours * 3_600_000),
    });
    if (!created) {
      if (job.correlationId !== prepared.correlationId || job.parametersHash !== parametersHash) {
        this.#metrics.dispatchError(tenantId, prepared.operation, "CommandCorrelationConflictError");
        throw new CommandCorrelationConflictError(prepared.correlationId, job.commandId);
      }
      if (job.status !== TrackedJobStatus.Dispatching) {
        this.#metrics.reused(tenantId, prepared.operation);
        this.#logger.debug({ jobId: job.jobId, status: job.status }, "command already dispatched; same job");
        return { job, reused: true };
      }
      this.#logger.info({ jobId: job.jobId }, "finishing a dispatch that did not record its job");
    }
    let createdNow: boolean;
    try {
      createdNow = await this.#createAndRecord(job, prepared.document, options.signal);
    } catch (error) {
      this.#metrics.dispatchError(tenantId, prepared.operation, awsErrorName(error));
      if (isAwsRefusal(error) || error instanceof JobIdConflictError) {
        // AWS holds no job of ours under this id: forget the record so a fixed command can be sent again.
        await this.#store.discard(job.jobId);
        if (error instanceof JobIdConflictError || error instanceof DynamicThingGroupConflictError)
          throw error;
        throw new JobDispatchRejectedError(job.jobId, awsErrorName(error), error);
      }
      throw error;
    }
    const stored = (await this.#store.findByJobId(job.jobId)) ?? job;
    return { job: stored, reused: !created || !createdNow };
  }

  /**
   * Finishes a `Dispatching` record the poller found due (its dispatcher crashed, or its retries ran
   * out): `CreateJob` again, adopting the job if it exists. If AWS refuses for good the record closes
   * as `Failed` with `DISPATCH_REJECTED` and a `DeviceCommandFailedEvent`, since no caller is waiting.
   */
  async resume(job: TrackedJob, signal?: AbortSignal): Promise<ResumeResult> {
    if (job.status !== TrackedJobStatus.Dispatching || !this.#gateOpen()) return "skipped";
    const document = JSON.stringify({
      operation: job.operation,
      correlationId: job.correlationId,
      parameters: job.parameters,
    });
    try {
      await this.#createAndRecord(job, document, signal);
      return "dispatched";
    } catch (error) {
      this.#metrics.dispatchError(job.tenantId, job.operation, awsErrorName(error));
      if (!isAwsRefusal(error) && !(error instanceof JobIdConflictError)) throw error;
      const now = this.#clock.now();
      await closeWithOutcome(this.#store, this.#metrics, job, {
        status: TrackedJobStatus.Failed,
        endStatus: BridgeFailureStatus.DispatchRejected,
        executionStatus: null,
        statusDetails: { error: awsErrorName(error) },
        reason: `AWS refused to create the job: ${errorMessage(error)}`.slice(0, 1000),
        occurredAt: now,
        at: now,
      });
      return "closed";
    }
  }

  /**
   * Asks AWS to cancel a dispatched command's job (`CancelJob`, `force` per `ForceCancel`). The
   * record is made due at once; the poller then sees `CANCELED` (or the outcome the device reached
   * first) and publishes it. A job that already ended is left to the poller too.
   */
  async cancel(job: TrackedJob, signal?: AbortSignal): Promise<TrackedJob> {
    if (job.status !== TrackedJobStatus.Dispatched) {
      throw new InvalidStatusTransitionError("device command", "cancel", job.status, [
        TrackedJobStatus.Dispatched,
      ]);
    }
    this.#ensureGate();
    try {
      await this.#iot.call(
        new CancelJobCommand({
          jobId: job.jobId,
          force: this.#options.forceCancel,
          reasonCode: "GRANIT_CANCEL",
          comment: "Canceled through the Granit device commands API.",
        }),
        { tenantId: job.tenantId, signal },
      );
    } catch (error) {
      const name = awsErrorName(error);
      // Already COMPLETED (or gone): nothing to cancel; the poller reports what really happened.
      if (name !== "InvalidStateTransitionException" && name !== "ResourceNotFoundException") throw error;
      this.#logger.info({ jobId: job.jobId, error: name }, "job already ended; cancel request recorded only");
    }
    await this.#store.requestCancel(job.jobId, this.#clock.now());
    return (await this.#store.findByJobId(job.jobId)) ?? job;
  }

  /** CreateJob (or adopt the existing job), then mark the record Dispatched. True when this call created the job. */
  async #createAndRecord(
    job: TrackedJob,
    document: string,
    signal: AbortSignal | undefined,
  ): Promise<boolean> {
    const { jobArn, created } = await this.#createJob(job, document, signal);
    if (created) this.#metrics.dispatched(job.tenantId, job.operation);
    else this.#metrics.reused(job.tenantId, job.operation);
    const at = this.#clock.now();
    await this.#store.markDispatched(job.jobId, {
      jobArn,
      at,
      nextPollAt: new Date(at.getTime() + this.#options.statusPollIntervalSeconds * 1000),
    });
    this.#logger.debug({ jobId: job.jobId, created }, "job dispatched");
    return created;
  }

  async #createJob(
    job: TrackedJob,
    document: string,
    signal: AbortSignal | undefined,
  ): Promise<{ jobArn: string | null; created: boolean }> {
    const context = { tenantId: job.tenantId, signal };
    const dynamic = job.targetKind === CommandTargetKind.DynamicThingGroup;
    const targetArn = dynamic ? await this.#ensureDynamicThingGroup(job.target, context) : job.target;
    let jobArn: string | undefined;
    try {
      const output = await this.#iot.call(
        new CreateJobCommand({
          jobId: job.jobId,
          targets: [targetArn],
          document,
          description: jobDescription(job.operation, job.correlationId, job.parametersHash),
          targetSelection: dynamic ? "CONTINUOUS" : "SNAPSHOT",
          timeoutConfig: { inProgressTimeoutInMinutes: this.#options.inProgressTimeoutMinutes },
        }),
        context,
      );
      jobArn = output.jobArn;
    } catch (error) {
      if (awsErrorName(error) !== "ResourceAlreadyExistsException") throw error;
      return this.#adoptExistingJob(job, context);
    }
    await this.#hooks.afterCreateJob?.(job.jobId);
    return { jobArn: jobArn ?? null, created: true };
  }

  /** The job id is taken: adopt the job only if its description names this very command. */
  async #adoptExistingJob(
    job: TrackedJob,
    context: { tenantId: string | null; signal: AbortSignal | undefined },
  ): Promise<{ jobArn: string | null; created: boolean }> {
    const described = await this.#iot.call(new DescribeJobCommand({ jobId: job.jobId }), context);
    const expected = jobDescription(job.operation, job.correlationId, job.parametersHash);
    if (described.job?.description !== expected)
      throw new JobIdConflictError(job.jobId, described.job?.description);
    this.#logger.info({ jobId: job.jobId }, "job already existed for this command; adopted");
    return { jobArn: described.job?.jobArn ?? null, created: false };
  }

  /** `granit-dynamic-{hash}`: described, or created (`CreateDynamicThingGroup`) on first use. */
  async #ensureDynamicThingGroup(
    query: string,
    context: { tenantId: string | null; signal: AbortSignal | undefined },
  ): Promise<string> {
    const thingGroupName = dynamicThingGroupName(query);
    const describe = async () => {
      const group = await this.#iot.call(new DescribeThingGroupCommand({ thingGroupName }), context);
      if (group.queryString !== undefined && group.queryString !== query) {
        throw new DynamicThingGroupConflictError(thingGroupName, query);
      }
      if (!group.thingGroupArn) throw new Error(`DescribeThingGroup ${thingGroupName} returned no ARN`);
      return group.thingGroupArn;
    };
    try {
      return await describe();
    } catch (error) {
      if (awsErrorName(error) !== "ResourceNotFoundException") throw error;
    }
    try {
      const created = await this.#iot.call(
        new CreateDynamicThingGroupCommand({ thingGroupName, queryString: query }),
        context,
      );
      if (!created.thingGroupArn)
        throw new Error(`CreateDynamicThingGroup ${thingGroupName} returned no ARN`);
      this.#logger.info({ thingGroupName }, "dynamic thing group created");
      return created.thingGroupArn;
    } catch (error) {
      if (awsErrorName(error) !== "ResourceAlreadyExistsException") throw error;
      return describe(); // another dispatcher created it meanwhile
    }
  }

  #gateOpen(): boolean {
    return this.#credentials?.isReady() ?? true;
  }

  #ensureGate(): void {
    const gate = this.#credentials;
    if (gate && !gate.isReady()) throw new AwsCredentialsNotReadyError(gate.name, gate.describe?.());
  }
}

/** AWS answered and refused for good (4xx, not throttling): it created nothing. */
function isAwsRefusal(error: unknown): boolean {
  if (error instanceof DynamicThingGroupConflictError) return true;
  const status = (error as { $metadata?: { httpStatusCode?: unknown } } | null)?.$metadata?.httpStatusCode;
  return (
    typeof status === "number" && status >= 400 && status < 500 && classifyAwsError(error) === "permanent"
  );
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
