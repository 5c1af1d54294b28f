/**
 * Secrets Manager (awsJson1_1): CreateSecret, GetSecretValue, DescribeSecret, PutSecretValue,
 * DeleteSecret, RestoreSecret, ListSecrets.
 *
 * Idempotency is per version: "If a version with this value already exists and the version
 * SecretString and SecretBinary values are the same as those in the request, then the request is
 * ignored ... different ... the request fails because you cannot modify an existing version."
 * Deleting with a recovery window keeps the name reserved until the window ends (on the injected
 * clock); ForceDeleteWithoutRecovery removes it at once.
 * @see https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_CreateSecret.html
 */
import { randomInt, randomUUID } from "node:crypto";
import { type EmulatorContext, seconds } from "../context.ts";
import { AwsError } from "../errors.ts";
import { type OperationRequest, ok } from "../operation.ts";
import { optionalBoolean, optionalNumber, optionalString } from "../protocol/input.ts";
import { pageSize, paginate } from "../protocol/paging.ts";
import type { SecretRecord, SecretVersionRecord } from "../state.ts";

const SECRET_NAME = /^[A-Za-z0-9/_+=.@-]+$/;
const SUFFIX_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
const CURRENT = "AWSCURRENT";
const PREVIOUS = "AWSPREVIOUS";
const DAY_MS = 86_400_000;

const notFound = (message = "Secrets Manager can't find the specified secret.") =>
  new AwsError("ResourceNotFoundException", 400, message);
const invalidRequest = (message: string) => new AwsError("InvalidRequestException", 400, message);
const invalidParameter = (message: string) => new AwsError("InvalidParameterException", 400, message);
const markedForDeletion = () =>
  invalidRequest("You can't perform this operation on the secret because it was marked for deletion.");

/** Drops secrets whose recovery window has ended. */
function purgeExpired(ctx: EmulatorContext): void {
  const now = ctx.now();
  for (const [name, secret] of ctx.state.secrets) {
    if (secret.deletedDate !== undefined && secret.deletedDate <= now) ctx.state.secrets.delete(name);
  }
}

/** Finds a secret by name, full ARN or partial ARN (without the random suffix). */
function findSecret(ctx: EmulatorContext, id: string): SecretRecord | undefined {
  purgeExpired(ctx);
  if (!id.startsWith("arn:")) return ctx.state.secrets.get(id);
  for (const secret of ctx.state.secrets.values()) {
    if (secret.arn === id || secret.arn.slice(0, -7) === id) return secret;
  }
  return undefined;
}

function requireSecret(ctx: EmulatorContext, input: Record<string, unknown>): SecretRecord {
  const id = optionalString(input, "SecretId", invalidParameter);
  if (!id) throw invalidParameter("SecretId is required");
  const secret = findSecret(ctx, id);
  if (!secret) throw notFound();
  return secret;
}

interface Value {
  secretString?: string;
  secretBinary?: string;
}

function secretValueOf(input: Record<string, unknown>): Value | undefined {
  const secretString = optionalString(input, "SecretString", invalidParameter);
  const secretBinary = optionalString(input, "SecretBinary", invalidParameter);
  if (secretString !== undefined && secretBinary !== undefined) {
    throw invalidParameter(
      "You can't specify both a binary secret value and a string secret value in the same secret.",
    );
  }
  if (secretString !== undefined) return { secretString };
  if (secretBinary !== undefined) return { secretBinary };
  return undefined;
}

function sameValue(version: SecretVersionRecord, value: Value | undefined): boolean {
  return version.secretString === value?.secretString && version.secretBinary === value?.secretBinary;
}

function token(input: Record<string, unknown>): string {
  const value = optionalString(input, "ClientRequestToken", invalidParameter);
  if (value === undefined) return randomUUID();
  if (value.length < 32 || value.length > 64)
    throw invalidParameter("ClientRequestToken must be 32-64 characters long.");
  return value;
}

/** Adds a version carrying `stages`, moving those labels (and AWSCURRENT → AWSPREVIOUS) off older versions. */
function addVersion(
  ctx: EmulatorContext,
  secret: SecretRecord,
  id: string,
  value: Value,
  stages: string[],
): SecretVersionRecord {
  if (stages.includes(CURRENT)) {
    const previousCurrent = [...secret.versions.values()].find((v) => v.stages.includes(CURRENT));
    for (const v of secret.versions.values()) v.stages = v.stages.filter((s) => s !== PREVIOUS);
    if (previousCurrent)
      previousCurrent.stages = [...previousCurrent.stages.filter((s) => s !== CURRENT), PREVIOUS];
  }
  for (const v of secret.versions.values())
    v.stages = v.stages.filter((s) => s === PREVIOUS || !stages.includes(s));
  const version: SecretVersionRecord = { id, stages: [...stages], createdAt: ctx.now(), ...value };
  secret.versions.set(id, version);
  secret.lastChangedAt = ctx.now();
  return version;
}

/**
 * Checks a replayed ClientRequestToken: same value → "the request is ignored" (the existing version);
 * different value → "the request fails because you cannot modify an existing version", which AWS
 * answers with ResourceExistsException (a declared error of CreateSecret and PutSecretValue; moto and
 * LocalStack answer the same, with this message).
 * @see https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_PutSecretValue.html
 */
function replayedVersion(
  secret: SecretRecord,
  id: string,
  value: Value | undefined,
): SecretVersionRecord | undefined {
  const existing = secret.versions.get(id);
  if (!existing) return undefined;
  if (!sameValue(existing, value)) {
    throw new AwsError(
      "ResourceExistsException",
      400,
      `You can't use ClientRequestToken ${id} because that value is already in use for a version of secret ${secret.arn}.`,
    );
  }
  return existing;
}

function createSecret({ ctx, input }: OperationRequest) {
  const name = optionalString(input, "Name", invalidParameter) ?? "";
  if (name.length < 1 || name.length > 512 || !SECRET_NAME.test(name)) {
    throw invalidParameter(`Invalid name ${name}: use 1-512 letters, digits and /_+=.@-`);
  }
  const value = secretValueOf(input);
  const versionId = token(input);
  const existing = findSecret(ctx, name);
  if (existing) {
    if (existing.deletedDate !== undefined) {
      throw invalidRequest(
        `You can't create this secret because a secret with this name is already scheduled for deletion.`,
      );
    }
    const replay = replayedVersion(existing, versionId, value);
    if (replay) return ok({ ARN: existing.arn, Name: existing.name, VersionId: replay.id });
    throw new AwsError(
      "ResourceExistsException",
      400,
      `The operation failed because the secret ${name} already exists.`,
    );
  }
  let suffix = "";
  for (let i = 0; i < 6; i++) suffix += SUFFIX_CHARS[randomInt(SUFFIX_CHARS.length)];
  const now = ctx.now();
  const secret: SecretRecord = {
    name,
    arn: `arn:aws:secretsmanager:${ctx.region}:${ctx.accountId}:secret:${name}-${suffix}`,
    tags: Array.isArray(input.Tags) ? (input.Tags as SecretRecord["tags"]) : [],
    createdAt: now,
    lastChangedAt: now,
    versions: new Map(),
  };
  const description = optionalString(input, "Description", invalidParameter);
  const kmsKeyId = optionalString(input, "KmsKeyId", invalidParameter);
  if (description !== undefined) secret.description = description;
  if (kmsKeyId !== undefined) secret.kmsKeyId = kmsKeyId;
  ctx.state.secrets.set(name, secret);
  if (!value) return ok({ ARN: secret.arn, Name: name });
  const version = addVersion(ctx, secret, versionId, value, [CURRENT]);
  return ok({ ARN: secret.arn, Name: name, VersionId: version.id });
}

/** @see https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_GetSecretValue.html */
function getSecretValue({ ctx, input }: OperationRequest) {
  const secret = requireSecret(ctx, input);
  if (secret.deletedDate !== undefined) throw markedForDeletion();
  const versionId = optionalString(input, "VersionId", invalidParameter);
  const stage =
    optionalString(input, "VersionStage", invalidParameter) ??
    (versionId === undefined ? CURRENT : undefined);
  let version = versionId === undefined ? undefined : secret.versions.get(versionId);
  if (versionId === undefined)
    version = [...secret.versions.values()].find((v) => stage !== undefined && v.stages.includes(stage));
  if (!version || (stage !== undefined && !version.stages.includes(stage))) {
    throw notFound(
      `Secrets Manager can't find the specified secret value for ${versionId === undefined ? `staging label: ${stage}` : `VersionId: ${versionId}`}`,
    );
  }
  secret.lastAccessedAt = Math.floor(ctx.now() / DAY_MS) * DAY_MS;
  return ok({
    ARN: secret.arn,
    Name: secret.name,
    VersionId: version.id,
    SecretString: version.secretString,
    SecretBinary: version.secretBinary,
    VersionStages: version.stages,
    CreatedDate: seconds(version.createdAt),
  });
}

function versionsToStages(secret: SecretRecord): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const v of secret.versions.values()) if (v.stages.length > 0) out[v.id] = [...v.stages];
  return out;
}

function describe(secret: SecretRecord) {
  return {
    ARN: secret.arn,
    Name: secret.name,
    Description: secret.description,
    KmsKeyId: secret.kmsKeyId,
    LastChangedDate: seconds(secret.lastChangedAt),
    LastAccessedDate: secret.lastAccessedAt === undefined ? undefined : seconds(secret.lastAccessedAt),
    DeletedDate: secret.deletedDate === undefined ? undefined : seconds(secret.deletedDate),
    Tags: secret.tags.length > 0 ? secret.tags : undefined,
    CreatedDate: seconds(secret.createdAt),
  };
}

function describeSecret({ ctx, input }: OperationRequest) {
  const secret = requireSecret(ctx, input);
  return ok({ ...describe(secret), VersionIdsToStages: versionsToStages(secret) });
}

/** @see https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_PutSecretValue.html */
function putSecretValue({ ctx, input }: OperationRequest) {
  const secret = requireSecret(ctx, input);
  if (secret.deletedDate !== undefined) throw markedForDeletion();
  const value = secretValueOf(input);
  if (!value) throw invalidParameter("You must provide either SecretString or SecretBinary.");
  const versionId = token(input);
  const stagesInput = input.VersionStages;
  const stages = Array.isArray(stagesInput) && stagesInput.length > 0 ? stagesInput.map(String) : [CURRENT];
  const replay = replayedVersion(secret, versionId, value);
  const version = replay ?? addVersion(ctx, secret, versionId, value, stages);
  return ok({ ARN: secret.arn, Name: secret.name, VersionId: version.id, VersionStages: version.stages });
}

/**
 * RecoveryWindowInDays (7-30, default 30) schedules the deletion; ForceDeleteWithoutRecovery deletes
 * now — "If you forcibly delete an already deleted or nonexistent secret, the operation does not
 * return ResourceNotFoundException."
 * @see https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_DeleteSecret.html
 */
function deleteSecret({ ctx, input }: OperationRequest) {
  const force = optionalBoolean(input, "ForceDeleteWithoutRecovery", invalidParameter) ?? false;
  const window = optionalNumber(input, "RecoveryWindowInDays", invalidParameter);
  if (force && window !== undefined) {
    throw invalidParameter(
      "You can't use ForceDeleteWithoutRecovery in conjunction with RecoveryWindowInDays.",
    );
  }
  if (window !== undefined && (!Number.isInteger(window) || window < 7 || window > 30)) {
    throw invalidParameter("RecoveryWindowInDays value must be between 7 and 30 days (inclusive).");
  }
  const id = optionalString(input, "SecretId", invalidParameter) ?? "";
  const secret = findSecret(ctx, id);
  const now = ctx.now();
  if (!secret) {
    if (force) return ok({ Name: id, DeletionDate: seconds(now) });
    throw notFound();
  }
  if (force) {
    ctx.state.secrets.delete(secret.name);
    return ok({ ARN: secret.arn, Name: secret.name, DeletionDate: seconds(now) });
  }
  if (secret.deletedDate !== undefined) throw markedForDeletion();
  secret.deletedDate = now + (window ?? 30) * DAY_MS;
  return ok({ ARN: secret.arn, Name: secret.name, DeletionDate: seconds(secret.deletedDate) });
}

function restoreSecret({ ctx, input }: OperationRequest) {
  const secret = requireSecret(ctx, input);
  delete secret.deletedDate;
  return ok({ ARN: secret.arn, Name: secret.name });
}

/** Filters: `name` (prefix), `description`, `tag-key`, `tag-value`, `all`. */
function matches(secret: SecretRecord, filters: unknown): boolean {
  if (!Array.isArray(filters)) return true;
  return filters.every((f: { Key?: string; Values?: string[] }) => {
    const values = f.Values ?? [];
    const test = (text: string | undefined) =>
      values.some((v) => text?.toLowerCase().startsWith(v.toLowerCase()));
    switch (f.Key) {
      case "name":
        return test(secret.name);
      case "description":
        return test(secret.description);
      case "tag-key":
        return secret.tags.some((t) => test(t.Key));
      case "tag-value":
        return secret.tags.some((t) => test(t.Value));
      case "all":
        return (
          test(secret.name) ||
          test(secret.description) ||
          secret.tags.some((t) => test(t.Key) || test(t.Value))
        );
      default:
        throw invalidParameter(`Invalid filter key ${String(f.Key)}`);
    }
  });
}

function listSecrets({ ctx, input }: OperationRequest) {
  purgeExpired(ctx);
  const includeDeleted = optionalBoolean(input, "IncludePlannedDeletion", invalidParameter) ?? false;
  const descending = optionalString(input, "SortOrder", invalidParameter) === "desc";
  const all = [...ctx.state.secrets.values()]
    .filter((s) => (includeDeleted || s.deletedDate === undefined) && matches(s, input.Filters))
    .sort((a, b) => (descending ? b.createdAt - a.createdAt : a.createdAt - b.createdAt));
  const size = pageSize(optionalNumber(input, "MaxResults", invalidParameter), 100, 100, invalidParameter);
  const page = paginate(
    all,
    optionalString(input, "NextToken", invalidParameter),
    size,
    (m) => new AwsError("InvalidNextTokenException", 400, m),
  );
  return ok({
    SecretList: page.items.map((s) => ({ ...describe(s), SecretVersionsToStages: versionsToStages(s) })),
    NextToken: page.nextToken,
  });
}

export const SECRETS_OPERATIONS = {
  CreateSecret: createSecret,
  GetSecretValue: getSecretValue,
  DescribeSecret: describeSecret,
  PutSecretValue: putSecretValue,
  DeleteSecret: deleteSecret,
  RestoreSecret: restoreSecret,
  ListSecrets: listSecrets,
} as const;
