/**
 * `IoT:Aws:Provisioning`: what the provisioning saga, the decommission and the reconciler need.
 * Validated at start-up: a missing `DevicePolicyName` or a bad value stops the host with an
 * `OptionsValidationError` naming the key and what is allowed.
 */
import {
  defineOptionsSection,
  integerOption,
  optionalStringOption,
  parseOptionsSection,
} from "@granit/iot-aws";
import { z } from "zod";

/** The configuration section of this package. */
export const AWS_PROVISIONING_SECTION = "IoT:Aws:Provisioning";

/** The secret name of a device when `SecretNameTemplate` is not set. */
export const DEFAULT_SECRET_NAME_TEMPLATE = "iot/devices/{thingName}/key";

const POLICY_NAME = /^[\w+=,.@-]{1,128}$/;
const SECRET_NAME_CHARS = /^[A-Za-z0-9/_+=.@-]+$/;
const THING_NAME_PLACEHOLDER = "{thingName}";

const devicePolicyName = z.preprocess(
  (value) => (typeof value === "string" ? value.trim() : value),
  z
    .string({
      error: (issue) =>
        issue.input === undefined || issue.input === null
          ? "is required: the name of the IoT policy attached to every device certificate (create it with ensureDevicePolicy)"
          : `must be an IoT policy name; got ${JSON.stringify(issue.input)}`,
    })
    .min(1, {
      error:
        "is required: the name of the IoT policy attached to every device certificate (create it with ensureDevicePolicy)",
    })
    .regex(POLICY_NAME, { error: "must be an IoT policy name: 1–128 of letters, digits and _+=,.@-" }),
);

const secretNameTemplate = z
  .string({ error: "must be text containing {thingName}" })
  .trim()
  .default(DEFAULT_SECRET_NAME_TEMPLATE)
  .superRefine((template, ctx) => {
    const problem = secretTemplateProblem(template);
    if (problem) ctx.addIssue({ code: "custom", message: problem, input: template });
  });

const recoveryWindow = z.preprocess(
  (value) =>
    value === undefined || value === null || (typeof value === "string" && value.trim() === "")
      ? null
      : typeof value === "string" && /^\s*\d+\s*$/.test(value)
        ? Number(value)
        : value,
  z
    .number({ error: "must be an integer from 7 to 30, or empty to delete secrets without recovery" })
    .int({ error: "must be an integer from 7 to 30, or empty to delete secrets without recovery" })
    .min(7, { error: "must be an integer from 7 to 30, or empty to delete secrets without recovery" })
    .max(30, { error: "must be an integer from 7 to 30, or empty to delete secrets without recovery" })
    .nullable(),
);

/** Schema of `IoT:Aws:Provisioning` (PascalCase keys, as operators write them). */
export const awsProvisioningOptionsSchema = defineOptionsSection({
  DevicePolicyName: devicePolicyName,
  SecretNameTemplate: secretNameTemplate,
  SecretKmsKeyId: optionalStringOption(),
  SecretRecoveryWindowInDays: recoveryWindow,
  AdoptionScanMaxCertificates: integerOption({ min: 10, max: 100_000, default: 1000 }),
  AdoptionScanMarginSeconds: integerOption({ min: 0, max: 3600, default: 300 }),
  TeardownMaxWaitSeconds: integerOption({ min: 1, max: 900, default: 60 }),
  TeardownBaseDelayMilliseconds: integerOption({ min: 10, max: 10_000, default: 500 }),
  ReconcileGraceSeconds: integerOption({ min: 0, max: 604_800, default: 3600 }),
});

/** Parsed `IoT:Aws:Provisioning`. */
export interface AwsProvisioningOptions {
  /**
   * The IoT policy attached to every device certificate (required). Create it with
   * `ensureDevicePolicy` (or Terraform / CloudFormation) from `devicePolicyDocument`.
   */
  readonly devicePolicyName: string;
  /**
   * Name of a device's Secrets Manager secret; `{thingName}` is replaced by the thing name. Only
   * `[A-Za-z0-9/_+=.@-]`; must not end with `{thingName}` (AWS: a name ending in `-` + 6 characters
   * is mistaken for an ARN suffix). @default "iot/devices/{thingName}/key"
   */
  readonly secretNameTemplate: string;
  /** KMS key (id, ARN or alias) that encrypts the device secrets; `null` = `aws/secretsmanager`. @default null */
  readonly secretKmsKeyId: string | null;
  /**
   * Days (7–30) a decommissioned device's secret stays recoverable; `null` deletes it at once
   * (`ForceDeleteWithoutRecovery`). With a window, re-provisioning the same serial fails until the
   * window ends or the secret is restored. @default null
   */
  readonly secretRecoveryWindowInDays: number | null;
  /**
   * Replay after a crash: how many certificates (newest first) the saga inspects looking for one
   * made from the escrowed key before it requests another (10–100000). @default 1000
   */
  readonly adoptionScanMaxCertificates: number;
  /** Replay: the scan goes back to the recorded request time minus this margin (clock skew), 0–3600. @default 300 */
  readonly adoptionScanMarginSeconds: number;
  /** Teardown: how long to keep retrying a delete refused because a detach has not propagated, 1–900. @default 60 */
  readonly teardownMaxWaitSeconds: number;
  /** Teardown: first retry delay of such a delete (doubles, jittered), 10–10000. @default 500 */
  readonly teardownBaseDelayMilliseconds: number;
  /**
   * Reconcile: things and certificates younger than this are never reported as orphans (a saga may
   * be about to record them), 0–604800. @default 3600
   */
  readonly reconcileGraceSeconds: number;
}

/** Validates `IoT:Aws:Provisioning`; throws `OptionsValidationError` naming the key and what is allowed. */
export function parseAwsProvisioningOptions(raw: unknown): AwsProvisioningOptions {
  return parseOptionsSection(awsProvisioningOptionsSchema, raw, AWS_PROVISIONING_SECTION);
}

/** The secret name of a thing under `template`. */
export function secretNameOf(template: string, thingName: string): string {
  return template.replaceAll(THING_NAME_PLACEHOLDER, thingName);
}

function secretTemplateProblem(template: string): string | undefined {
  if (!template.includes(THING_NAME_PLACEHOLDER)) return "must contain {thingName}";
  if (template.endsWith(THING_NAME_PLACEHOLDER)) {
    return "must not end with {thingName}: AWS mistakes a secret name ending in '-' and 6 characters for an ARN suffix (add e.g. /key)";
  }
  const sample = secretNameOf(template, `t${"0".repeat(32)}-${"S".repeat(94)}`);
  if (!SECRET_NAME_CHARS.test(sample)) {
    return "may contain only letters, digits and /_+=.@- besides {thingName}";
  }
  if (sample.length > 512)
    return "is too long: the secret name of the longest thing name exceeds 512 characters";
  return undefined;
}
