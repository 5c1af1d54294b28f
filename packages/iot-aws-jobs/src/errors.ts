/**
 * Errors of the IoT Jobs bridge. Each has a stable `name` (callers and the HTTP layer branch on it),
 * a message that says what to do, and the original `cause`. Input that breaks a rule is the core's
 * `DomainValidationError`; a closed credential gate is `AwsCredentialsNotReadyError` and spent
 * retries `AwsCallRetriesExhaustedError` (both from `@granit/iot-aws`, both transient).
 */
import { GranitIoTAwsError } from "@granit/iot-aws";

/** Base class of every error raised by `@granit/iot-aws-jobs`. */
export class GranitIoTAwsJobsError extends GranitIoTAwsError {
  override readonly name: string = "GranitIoTAwsJobsError";
}

/**
 * A command reused a correlation id (idempotency key) already taken by a different command (other
 * operation, parameters, target or tenant). Never merged silently: use a new correlation id (HTTP 409).
 */
export class CommandCorrelationConflictError extends GranitIoTAwsJobsError {
  override readonly name = "CommandCorrelationConflictError";
  readonly correlationId: string;
  readonly existingCommandId: string;

  constructor(correlationId: string, existingCommandId: string) {
    super(
      `Correlation id '${correlationId}' already belongs to command '${existingCommandId}', which has a different ` +
        "operation, parameters, target or tenant. Send a new command with a new correlation (idempotency) key.",
    );
    this.correlationId = correlationId;
    this.existingCommandId = existingCommandId;
  }
}

/**
 * AWS already holds a job with this id and it is not this command (its description names another
 * correlation id or parameters): another system uses the same `JobIdPrefix`. Change
 * `IoT:Aws:Jobs:JobIdPrefix` for this deployment.
 */
export class JobIdConflictError extends GranitIoTAwsJobsError {
  override readonly name = "JobIdConflictError";
  readonly jobId: string;

  constructor(jobId: string, found: string | undefined) {
    super(
      `AWS already has a job '${jobId}' that this bridge did not create for this command (its description is ` +
        `${found === undefined ? "empty" : `'${found.slice(0, 200)}'`}). Another system shares the job id prefix: ` +
        "set IoT:Aws:Jobs:JobIdPrefix to a prefix of its own.",
    );
    this.jobId = jobId;
  }
}

/**
 * AWS refused to create the job for good (`InvalidRequestException`, a missing thing or group,
 * `LimitExceededException`, ...): no job exists and nothing is tracked. `awsErrorName` is AWS's error
 * code; fix the command or its target and send it again.
 */
export class JobDispatchRejectedError extends GranitIoTAwsJobsError {
  override readonly name = "JobDispatchRejectedError";
  readonly jobId: string;
  readonly awsErrorName: string;

  constructor(jobId: string, awsErrorName: string, cause: unknown) {
    const detail = cause instanceof Error ? cause.message : String(cause);
    super(
      `AWS refused to create job '${jobId}' (${awsErrorName}: ${detail.slice(0, 300)}). Fix the command or its target and send it again.`,
      {
        cause,
      },
    );
    this.jobId = jobId;
    this.awsErrorName = awsErrorName;
  }
}

/**
 * The dynamic thing group a query maps to (`granit-dynamic-{hash}`) exists with another query:
 * someone else created a group under that name. Rename or delete that group.
 */
export class DynamicThingGroupConflictError extends GranitIoTAwsJobsError {
  override readonly name = "DynamicThingGroupConflictError";
  readonly thingGroupName: string;

  constructor(thingGroupName: string, query: string) {
    super(
      `Thing group '${thingGroupName}' exists but is not the dynamic group of query '${query.slice(0, 200)}'. ` +
        "Delete or rename that group so the bridge can create its own.",
    );
    this.thingGroupName = thingGroupName;
  }
}
