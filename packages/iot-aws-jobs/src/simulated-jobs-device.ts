/**
 * A device that runs its jobs through the IoT Jobs data plane, as a real device would over HTTPS:
 * `StartNextPendingJobExecution` (QUEUED → IN_PROGRESS, with the job document), a decision, then
 * `UpdateJobExecution` with the outcome and `statusDetails`. For tests, benches and the host's
 * simulated fleet; pass an `IoTJobsDataPlaneClient` pointed at the `iot:Jobs` endpoint (or the emulator).
 *
 * @see https://docs.aws.amazon.com/iot/latest/developerguide/jobs-devices.html
 */
import {
  type IoTJobsDataPlaneClient,
  StartNextPendingJobExecutionCommand,
  UpdateJobExecutionCommand,
} from "@aws-sdk/client-iot-jobs-data-plane";

/** A job as the device received it. */
export interface SimulatedJob {
  readonly jobId: string;
  readonly operation: string | null;
  readonly correlationId: string | null;
  readonly parameters: Readonly<Record<string, unknown>>;
  readonly executionNumber: number | undefined;
  readonly versionNumber: number | undefined;
}

/**
 * What the device does with a job: report `SUCCEEDED`, `FAILED` or `REJECTED` (with details), or
 * `IGNORE` it — leave it IN_PROGRESS and never answer, like a device that died mid-job.
 */
export type SimulatedJobDecision =
  | {
      readonly status: "SUCCEEDED" | "FAILED" | "REJECTED";
      readonly statusDetails?: Readonly<Record<string, string>> | undefined;
    }
  | { readonly status: "IGNORE" };

/** One job the device took and what it answered. */
export interface SimulatedJobRun {
  readonly job: SimulatedJob;
  readonly decision: SimulatedJobDecision;
  /** When `UpdateJobExecution` returned (ms since the epoch, `Date.now()`); `null` for IGNORE. */
  readonly answeredAt: number | null;
}

export interface SimulatedJobsDeviceOptions {
  readonly client: IoTJobsDataPlaneClient;
  readonly thingName: string;
  /** @default every job SUCCEEDED with `{ result: "applied" }` */
  readonly decide?: ((job: SimulatedJob) => SimulatedJobDecision | Promise<SimulatedJobDecision>) | undefined;
}

export class SimulatedJobsDevice {
  readonly thingName: string;
  readonly #client: IoTJobsDataPlaneClient;
  readonly #decide: (job: SimulatedJob) => SimulatedJobDecision | Promise<SimulatedJobDecision>;

  constructor(options: SimulatedJobsDeviceOptions) {
    this.thingName = options.thingName;
    this.#client = options.client;
    this.#decide = options.decide ?? (() => ({ status: "SUCCEEDED", statusDetails: { result: "applied" } }));
  }

  /**
   * Takes the next pending job and answers it; `null` when nothing is pending. An IN_PROGRESS job the
   * device ignored comes back first (AWS hands out the execution in progress before queued ones).
   */
  async runNext(): Promise<SimulatedJobRun | null> {
    const { execution } = await this.#client.send(
      new StartNextPendingJobExecutionCommand({
        thingName: this.thingName,
        statusDetails: { step: "started" },
      }),
    );
    if (!execution?.jobId) return null;
    const job = toSimulatedJob(execution.jobId, execution.jobDocument, execution);
    const decision = await this.#decide(job);
    if (decision.status === "IGNORE") return { job, decision, answeredAt: null };
    await this.#client.send(
      new UpdateJobExecutionCommand({
        thingName: this.thingName,
        jobId: job.jobId,
        status: decision.status,
        statusDetails: { ...decision.statusDetails },
        expectedVersion: job.versionNumber,
      }),
    );
    return { job, decision, answeredAt: Date.now() };
  }

  /** Runs jobs until none is pending or one is ignored (at most `max`). */
  async runAll(max = 100): Promise<SimulatedJobRun[]> {
    const runs: SimulatedJobRun[] = [];
    for (let i = 0; i < max; i++) {
      const run = await this.runNext();
      if (!run) break;
      runs.push(run);
      if (run.decision.status === "IGNORE") break;
    }
    return runs;
  }
}

function toSimulatedJob(
  jobId: string,
  jobDocument: string | undefined,
  execution: { executionNumber?: number | undefined; versionNumber?: number | undefined },
): SimulatedJob {
  let document: { operation?: unknown; correlationId?: unknown; parameters?: unknown } = {};
  try {
    document = JSON.parse(jobDocument ?? "{}");
  } catch {
    // not a Granit job document: the decision sees no operation
  }
  return {
    jobId,
    operation: typeof document.operation === "string" ? document.operation : null,
    correlationId: typeof document.correlationId === "string" ? document.correlationId : null,
    parameters:
      document.parameters && typeof document.parameters === "object"
        ? (document.parameters as Record<string, unknown>)
        : {},
    executionNumber: execution.executionNumber,
    versionNumber: execution.versionNumber,
  };
}
