/**
 * `IoT:Aws:Jobs`: the configuration of the IoT Jobs dispatcher and its status poller, with the
 * seed's names and defaults plus the in-progress timeout and the cancel mode.
 */
import {
  booleanOption,
  defineOptionsSection,
  integerOption,
  parseOptionsSection,
  stringOption,
} from "@granit/iot-aws";

/** The configuration section of this package. */
export const AWS_JOBS_SECTION = "IoT:Aws:Jobs";

/**
 * Longest `JobIdPrefix`: a job id is `{prefix}-{correlation id}`, AWS allows 64 characters, and the
 * correlation ids the bridge mints are 36-character UUIDs (64 − 1 − 36 = 27).
 */
export const JOB_ID_PREFIX_MAX_LENGTH = 27;

/** Schema of `IoT:Aws:Jobs` (PascalCase keys, strict: unknown keys are refused). */
export const awsJobsOptionsSchema = defineOptionsSection({
  JobIdPrefix: stringOption({
    default: "granit",
    pattern: /^[a-zA-Z0-9_-]{1,27}$/,
    hint: "1–27 characters of [a-zA-Z0-9_-] (job ids are {prefix}-{36-character correlation id}, at most 64)",
  }),
  JobTrackingTtlHours: integerOption({ min: 1, max: 720, default: 72 }),
  StatusPollIntervalSeconds: integerOption({ min: 15, max: 3600, default: 300 }),
  StatusPollBatchSize: integerOption({ min: 1, max: 1000, default: 100 }),
  InProgressTimeoutMinutes: integerOption({ min: 1, max: 10_080, default: 60 }),
  ForceCancel: booleanOption(false),
});

/** Parsed `IoT:Aws:Jobs`. */
export interface AwsJobsOptions {
  /** First part of every job id (`{prefix}-{correlationId}`), 1–27 of `[a-zA-Z0-9_-]`. @default "granit" */
  readonly jobIdPrefix: string;
  /** How long a dispatched command is tracked before it is closed as `Expired`, 1–720. @default 72 */
  readonly jobTrackingTtlHours: number;
  /** How often each open command's execution is described, 15–3600. @default 300 */
  readonly statusPollIntervalSeconds: number;
  /** Open commands claimed per poller round trip, 1–1000. @default 100 */
  readonly statusPollBatchSize: number;
  /**
   * `timeoutConfig.inProgressTimeoutInMinutes` of every job: an execution IN_PROGRESS longer than this
   * becomes TIMED_OUT (a device that died mid-job does not hold it forever), 1–10080.
   * @default 60
   * @see https://docs.aws.amazon.com/iot/latest/developerguide/iot-jobs-lifecycle.html
   */
  readonly inProgressTimeoutMinutes: number;
  /**
   * `CancelJob` with `force`: also cancel executions already IN_PROGRESS (the device may be
   * mid-operation). Without it only QUEUED executions are canceled.
   * @default false
   * @see https://docs.aws.amazon.com/iot/latest/apireference/API_CancelJob.html
   */
  readonly forceCancel: boolean;
}

/** Validates `IoT:Aws:Jobs`; throws `OptionsValidationError` naming the key and what is allowed. */
export function parseAwsJobsOptions(raw: unknown): AwsJobsOptions {
  return parseOptionsSection(awsJobsOptionsSchema, raw, AWS_JOBS_SECTION);
}

/** Every default of `IoT:Aws:Jobs`. */
export function defaultAwsJobsOptions(): AwsJobsOptions {
  return parseAwsJobsOptions({});
}
