import { type ArnKind, InvalidArnError } from "../errors.ts";

/**
 * Parsers for the three ARNs the bridge stores: thing, certificate and Secrets Manager secret.
 * Every AWS partition is accepted (`aws`, `aws-cn`, `aws-us-gov`, the isolated `aws-iso*` ones and
 * `aws-eusc`) — the original only accepted `aws`, which rejected every China and GovCloud device.
 *
 * @see https://docs.aws.amazon.com/IAM/latest/UserGuide/reference-arns.html
 */

/** The AWS partitions an ARN may name. */
export const AWS_PARTITIONS: ReadonlySet<string> = new Set([
  "aws",
  "aws-cn",
  "aws-us-gov",
  "aws-iso",
  "aws-iso-b",
  "aws-iso-e",
  "aws-iso-f",
  "aws-eusc",
]);

/** What every parsed ARN carries. */
export interface ParsedArn {
  readonly arn: string;
  readonly partition: string;
  readonly region: string;
  readonly accountId: string;
}

export interface ThingArn extends ParsedArn {
  readonly thingName: string;
}

export interface CertificateArn extends ParsedArn {
  /** 64 hex characters: what `UpdateCertificate` / `DeleteCertificate` take. */
  readonly certificateId: string;
}

export interface SecretArn extends ParsedArn {
  /** The secret's name without the 6-character random suffix AWS appends (`-AbC123`). */
  readonly secretName: string;
  /** The last ARN component as AWS wrote it, suffix included. */
  readonly resource: string;
}

const REGION = /^[a-z]{2}(-[a-z]+)+-\d{1,2}$/;
const ACCOUNT = /^\d{12}$/;
const THING_NAME = /^[A-Za-z0-9:_-]{1,128}$/;
const CERTIFICATE_ID = /^[0-9a-fA-F]{64}$/;
const SECRET_RESOURCE = /^[A-Za-z0-9/_+=.@-]{1,512}$/;
const SECRET_SUFFIX = /-[A-Za-z0-9]{6}$/;

/** Parses `arn:{partition}:iot:{region}:{account}:thing/{thingName}`. */
export function parseThingArn(value: unknown): ThingArn {
  const base = parseBase("thing", value, "iot", "thing/");
  if (!THING_NAME.test(base.resource)) {
    throw new InvalidArnError("thing", "resource", value, "the thing name must be 1–128 of [A-Za-z0-9:_-]");
  }
  return { ...base.arn, thingName: base.resource };
}

/** Parses `arn:{partition}:iot:{region}:{account}:cert/{64 hex certificate id}`. */
export function parseCertificateArn(value: unknown): CertificateArn {
  const base = parseBase("certificate", value, "iot", "cert/");
  if (!CERTIFICATE_ID.test(base.resource)) {
    throw new InvalidArnError(
      "certificate",
      "resource",
      value,
      "the certificate id must be 64 hex characters",
    );
  }
  return { ...base.arn, certificateId: base.resource };
}

/** Parses `arn:{partition}:secretsmanager:{region}:{account}:secret:{name}-{6 chars}`. */
export function parseSecretArn(value: unknown): SecretArn {
  const base = parseBase("secret", value, "secretsmanager", "secret:");
  if (!SECRET_RESOURCE.test(base.resource)) {
    throw new InvalidArnError(
      "secret",
      "resource",
      value,
      "the secret name must contain only letters, digits and /_+=.@-",
    );
  }
  const secretName = SECRET_SUFFIX.test(base.resource) ? base.resource.slice(0, -7) : base.resource;
  return { ...base.arn, secretName, resource: base.resource };
}

/** True when `value` parses as an ARN of `kind`. */
export function isArn(kind: ArnKind, value: unknown): boolean {
  try {
    if (kind === "thing") parseThingArn(value);
    else if (kind === "certificate") parseCertificateArn(value);
    else parseSecretArn(value);
    return true;
  } catch (error) {
    if (error instanceof InvalidArnError) return false;
    throw error;
  }
}

function parseBase(
  kind: ArnKind,
  value: unknown,
  service: string,
  resourcePrefix: string,
): { arn: ParsedArn; resource: string } {
  if (typeof value !== "string" || value.trim().length === 0) {
    throw new InvalidArnError(kind, "required", value, "must be a non-empty string");
  }
  if (value.length > 2048)
    throw new InvalidArnError(kind, "maxLength", value, "must be at most 2048 characters");
  const parts = value.split(":");
  const [scheme, partition, arnService, region, accountId] = parts;
  if (parts.length < 6 || scheme !== "arn") {
    throw new InvalidArnError(
      kind,
      "format",
      value,
      "must look like arn:partition:service:region:account:resource",
    );
  }
  if (partition === undefined || !AWS_PARTITIONS.has(partition)) {
    throw new InvalidArnError(
      kind,
      "partition",
      value,
      `unknown partition '${partition}'; expected one of ${[...AWS_PARTITIONS].join(", ")}`,
    );
  }
  if (arnService !== service) {
    throw new InvalidArnError(
      kind,
      "service",
      value,
      `the service must be '${service}', not '${arnService}'`,
    );
  }
  if (region === undefined || !REGION.test(region)) {
    throw new InvalidArnError(kind, "region", value, `'${region}' is not an AWS region such as us-east-1`);
  }
  if (accountId === undefined || !ACCOUNT.test(accountId)) {
    throw new InvalidArnError(kind, "account", value, "the account id must be 12 digits");
  }
  const resource = parts.slice(5).join(":");
  if (!resource.startsWith(resourcePrefix) || resource.length === resourcePrefix.length) {
    throw new InvalidArnError(
      kind,
      "resourceType",
      value,
      `the resource must start with '${resourcePrefix}'`,
    );
  }
  return {
    arn: { arn: value, partition, region, accountId },
    resource: resource.slice(resourcePrefix.length),
  };
}
