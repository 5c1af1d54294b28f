import { isArn } from "../domain/arn.ts";
import {
  defineOptionsSection,
  integerOption,
  optionalStringOption,
  parseOptionsSection,
} from "../options/parse-options-section.ts";

/** The configuration section of the credential provider. */
export const AWS_IOT_CREDENTIALS_SECTION = "IoT:Aws:Credentials";

/** Schema of `IoT:Aws:Credentials` (PascalCase keys, as operators write them). */
export const awsIoTCredentialOptionsSchema = defineOptionsSection({
  FleetCredentialSecretArn: optionalStringOption((value) =>
    isArn("secret", value)
      ? undefined
      : "must be a Secrets Manager secret ARN (arn:aws:secretsmanager:<region>:<account>:secret:<name>), or empty for IAM-role mode",
  ),
  RotationCheckIntervalMinutes: integerOption({ min: 1, max: 240, default: 5 }),
  InitialFetchTimeoutSeconds: integerOption({ min: 1, max: 60, default: 15 }),
});

/** Parsed `IoT:Aws:Credentials`. */
export interface AwsIoTCredentialOptions {
  /**
   * The secret holding the fleet's AWS keys as JSON `{accessKeyId, secretAccessKey, sessionToken?}`.
   * Unset (`null`) selects IAM-role mode: the AWS SDK default credential chain authenticates.
   * @default null
   */
  readonly fleetCredentialSecretArn: string | null;
  /** Rotating mode: how often the secret is re-read, 1–240. @default 5 */
  readonly rotationCheckIntervalMinutes: number;
  /** Rotating mode: bound on each fetch (the first one gates readiness), 1–60. @default 15 */
  readonly initialFetchTimeoutSeconds: number;
}

/** Validates `IoT:Aws:Credentials`; throws `OptionsValidationError` naming the key and its allowed range. */
export function parseAwsIoTCredentialOptions(raw: unknown): AwsIoTCredentialOptions {
  return parseOptionsSection(awsIoTCredentialOptionsSchema, raw, AWS_IOT_CREDENTIALS_SECTION);
}
