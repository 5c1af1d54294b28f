/**
 * How the saga reads AWS errors: which ones a retry may cure (throw to the bus), which ones need an
 * operator (binding → `Failed` with a reason that says what to do), and the few that mean "already
 * done" during teardown. Reads SDK v3 error fields only (`name`, `message`, `$metadata`).
 */
import {
  AwsCallRetriesExhaustedError,
  AwsCredentialsNotReadyError,
  awsErrorName,
  classifyAwsError,
} from "@granit/iot-aws";
import { GranitIoTAwsProvisioningError, ProvisioningStepFailedError } from "../errors.ts";
import { redact } from "./redact.ts";

interface ErrorShape {
  readonly name?: unknown;
  readonly message?: unknown;
  readonly $metadata?: unknown;
}

export function awsErrorNamed(error: unknown, ...names: string[]): boolean {
  return names.includes(awsErrorName(error));
}

function messageOf(error: unknown): string {
  const message = (error as ErrorShape | null)?.message;
  return typeof message === "string" ? message : "";
}

/** An error answered by an AWS service (as opposed to our code, the network or the database). */
function isAwsServiceError(error: unknown): boolean {
  return !!error && typeof error === "object" && (error as ErrorShape).$metadata !== undefined;
}

/** Secrets Manager: the name is held by a secret scheduled for deletion (recovery window). */
export function isScheduledForDeletion(error: unknown): boolean {
  return (
    awsErrorNamed(error, "InvalidRequestException") &&
    /(scheduled|marked) for deletion|deleted/i.test(messageOf(error))
  );
}

/**
 * Secrets Manager refused a write because the ClientRequestToken (version id) is in use, or the name
 * is taken: AWS answers ResourceExistsException; some implementations InvalidRequestException.
 */
export function isVersionOrNameTaken(error: unknown): boolean {
  if (awsErrorNamed(error, "ResourceExistsException")) return true;
  return (
    awsErrorNamed(error, "InvalidRequestException") &&
    !isScheduledForDeletion(error) &&
    /ClientRequestToken|existing version|already/i.test(messageOf(error))
  );
}

/** Teardown: a delete refused because a detachment has not propagated yet (AWS detaches asynchronously). */
export function isStillAttached(error: unknown): boolean {
  if (awsErrorNamed(error, "DeleteConflictException")) return true;
  if (awsErrorNamed(error, "InvalidRequestException") && /attached/i.test(messageOf(error))) return true;
  return awsErrorNamed(error, "CertificateStateException") && /attached/i.test(messageOf(error));
}

/** True when a later delivery may succeed without anyone changing anything. */
export function isRetryable(error: unknown): boolean {
  if (error instanceof GranitIoTAwsProvisioningError) return error.retryable;
  if (error instanceof AwsCallRetriesExhaustedError || error instanceof AwsCredentialsNotReadyError)
    return true;
  if (awsErrorNamed(error, "AbortError", "ConcurrencyConflictError")) return true;
  if (awsErrorNamed(error, "ExpiredTokenException", "RequestExpired", "InvalidSignatureException"))
    return true;
  if (!isAwsServiceError(error)) return true; // our database, the network: transient until proven otherwise
  return classifyAwsError(error) !== "permanent";
}

const ACCESS_DENIED = new Set([
  "AccessDeniedException",
  "AccessDenied",
  "UnauthorizedException",
  "UnrecognizedClientException",
  "InvalidClientTokenId",
  "NotAuthorized",
]);

const KMS_ERRORS = new Set([
  "DecryptionFailure",
  "EncryptionFailure",
  "KMSAccessDeniedException",
  "KMSDisabledException",
  "KMSInvalidStateException",
  "KMSNotFoundException",
]);

/**
 * The operator-facing reason for an error a retry cannot cure, or `null` when a retry may cure it
 * (the caller then lets the bus redeliver). Never contains key material.
 */
export function failureReasonOf(
  error: unknown,
  context: { operation: string | undefined; thingName: string; policyName: string },
): string | null {
  if (error instanceof ProvisioningStepFailedError) return redact(error.reason);
  if (isRetryable(error)) return null;
  const name = awsErrorName(error);
  const op = context.operation ?? "an AWS call";
  const aws = `${name}: ${redact(messageOf(error)).slice(0, 300)}`;
  const service = op.endsWith("Secret") || op.endsWith("SecretValue") ? "secretsmanager" : "iot";
  if (ACCESS_DENIED.has(name)) {
    return `AWS refused ${op} for the bridge's identity (${aws}). Allow ${service}:${op} in its IAM policy, then retry the binding.`;
  }
  if (KMS_ERRORS.has(name) || (service === "secretsmanager" && /KMS|kms key/i.test(messageOf(error)))) {
    return `Secrets Manager could not use the KMS key for the device secret (${aws}). Check IoT:Aws:Provisioning:SecretKmsKeyId and the key's policy, then retry the binding.`;
  }
  if (op === "AttachPolicy" && name === "ResourceNotFoundException") {
    return `IoT policy '${context.policyName}' does not exist (${aws}). Create it (ensureDevicePolicy) or fix IoT:Aws:Provisioning:DevicePolicyName, then retry the binding.`;
  }
  if (name === "LimitExceededException") {
    return `AWS limit reached on ${op} (${aws}) — e.g. 10 policies per certificate or the account's certificate quota. Free or raise the limit, then retry the binding.`;
  }
  if (name === "ResourceNotFoundException") {
    return `A resource of thing '${context.thingName}' was deleted outside the bridge (${op}: ${aws}). Decommission the device, or restore the resource and retry the binding.`;
  }
  if (
    op === "CreateThing" &&
    (name === "InvalidRequestException" || name === "ResourceAlreadyExistsException")
  ) {
    return `AWS refused to create thing '${context.thingName}' (${aws}). If a thing of that name exists with another configuration, delete or rename it, then retry the binding.`;
  }
  if (isScheduledForDeletion(error)) {
    return `The device secret of '${context.thingName}' is scheduled for deletion (${aws}). Restore it (RestoreSecret) or wait until its recovery window ends, then retry the binding.`;
  }
  return `AWS answered ${aws} to ${op}. Fix the cause, then retry the binding.`;
}
