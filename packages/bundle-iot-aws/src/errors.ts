/**
 * Errors of the bundle: one base class, named subclasses with a stable `name` and a message that
 * says what to do.
 */
import { GranitIoTError } from "@granit/iot";

/** Base class of every error `@granit/bundle-iot-aws` throws. */
export class GranitBundleIoTAwsError extends GranitIoTError {
  override readonly name: string = "GranitBundleIoTAwsError";
}

/**
 * The AWS account id is not known yet (it is read with STS `GetCallerIdentity` once the credentials
 * are ready), so the device policy document — whose ARNs name the account — cannot be built.
 */
export class AwsAccountUnknownError extends GranitBundleIoTAwsError {
  override readonly name = "AwsAccountUnknownError";

  constructor(detail: string, options?: { cause?: unknown }) {
    super(
      `The AWS account id is not known (${detail}); pass aws.accountId (host: IoT:Aws:AccountId) or let the bridge's identity call sts:GetCallerIdentity.`,
      options,
    );
  }
}
