/**
 * Errors of `@granit/iot-aws-provisioning`. Every error carries a stable `name` (branch on it, never
 * on the message), a message that says what to do, and the original `cause`. No message ever holds
 * key material: AWS error messages and ARNs only.
 *
 * Retryable errors (`retryable: true`) are thrown to the message bus, which redelivers later; the
 * binding stays at its checkpoint. Causes a retry cannot cure never surface as exceptions from the
 * saga: they become `Failed` with an actionable `failureReason`.
 */
import { GranitIoTAwsError } from "@granit/iot-aws";

/** Base class of every error raised by `@granit/iot-aws-provisioning`. */
export class GranitIoTAwsProvisioningError extends GranitIoTAwsError {
  override readonly name: string = "GranitIoTAwsProvisioningError";
  /** True when the same work may succeed later without anyone changing anything. */
  readonly retryable: boolean = false;
}

/**
 * Another saga run, decommission or repair holds the device (on this host or another one). Nothing
 * was done; the bus redelivers later.
 */
export class BindingBusyError extends GranitIoTAwsProvisioningError {
  override readonly name = "BindingBusyError";
  override readonly retryable = true;
  readonly deviceId: string;

  constructor(deviceId: string) {
    super(
      `Device '${deviceId}' is being worked on by another provisioning run or decommission; nothing was done. ` +
        "The message is redelivered later.",
    );
    this.deviceId = deviceId;
  }
}

/**
 * The device's thing name is still bound to another live binding (an older device with the same
 * tenant and serial whose decommission has not finished). Retried until that decommission is done.
 */
export class ThingNameTakenError extends GranitIoTAwsProvisioningError {
  override readonly name = "ThingNameTakenError";
  override readonly retryable = true;
  readonly thingName: string;

  constructor(thingName: string, options?: ErrorOptions) {
    super(
      `Thing name '${thingName}' is still bound to another device (its decommission has not finished). ` +
        "Provisioning is retried; if it persists, decommission the other device or run reconcile.",
      options,
    );
    this.thingName = thingName;
  }
}

/**
 * Tearing a device down did not finish within `TeardownMaxWaitSeconds` (AWS propagates detachments
 * asynchronously). Everything done so far stays done; the bus redelivers and the teardown resumes.
 */
export class TeardownIncompleteError extends GranitIoTAwsProvisioningError {
  override readonly name = "TeardownIncompleteError";
  override readonly retryable = true;
  readonly operation: string;
  readonly resource: string;

  constructor(operation: string, resource: string, waitedMs: number, options?: ErrorOptions) {
    super(
      `${operation} of '${resource}' was still refused after ${Math.round(waitedMs)} ms (AWS propagates detachments ` +
        "asynchronously). The teardown resumes on redelivery; raise IoT:Aws:Provisioning:TeardownMaxWaitSeconds if this repeats.",
      options,
    );
    this.operation = operation;
    this.resource = resource;
  }
}

/**
 * `CreateCertificateFromCsr` failed in a way that does not tell whether AWS created the certificate
 * (a 5xx, a timeout, a dropped connection). Not retried blindly — a retry would mint a second
 * certificate: the saga first looks for a certificate made from the escrowed key.
 */
export class CertificateRequestOutcomeUnknownError extends GranitIoTAwsProvisioningError {
  override readonly name = "CertificateRequestOutcomeUnknownError";
  override readonly retryable = true;

  constructor(options?: ErrorOptions) {
    super(
      "CreateCertificateFromCsr failed without telling whether the certificate was created; " +
        "the saga looks for a certificate made from the escrowed key before asking again.",
      options,
    );
  }
}

/**
 * A step met a state a retry cannot change (missing IoT policy, access denied, secret scheduled
 * for deletion, ...). The saga records it as the binding's `failureReason` (`Failed`) instead of
 * throwing; the operator fixes the cause and calls `retryProvisioning`.
 */
export class ProvisioningStepFailedError extends GranitIoTAwsProvisioningError {
  override readonly name = "ProvisioningStepFailedError";
  /** What an operator reads on the binding: the cause and what to do. */
  readonly reason: string;

  constructor(reason: string, options?: ErrorOptions) {
    super(reason, options);
    this.reason = reason;
  }
}

/**
 * The Secrets Manager secret of the rotating credential mode does not hold what the loader needs.
 * Names the missing fields, never their values.
 */
export class CredentialSecretInvalidError extends GranitIoTAwsProvisioningError {
  override readonly name = "CredentialSecretInvalidError";
  readonly secretArn: string;

  constructor(secretArn: string, problem: string, options?: ErrorOptions) {
    super(
      `The credential secret '${secretArn}' ${problem}. Store JSON {"accessKeyId": "...", "secretAccessKey": "...", ` +
        `"sessionToken": "..." (optional)} in it (IoT:Aws:Credentials:FleetCredentialSecretArn).`,
      options,
    );
    this.secretArn = secretArn;
  }
}
