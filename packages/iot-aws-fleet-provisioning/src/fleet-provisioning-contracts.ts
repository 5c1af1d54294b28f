/**
 * The wire contracts of `/verify` and `/registered`: zod schemas for shape and types (unknown fields
 * refused), then the domain parsers for the rules (serial alphabet, thing name, ARNs, model,
 * firmware), so a 400 lists every offending field at once with a stable `rule`.
 *
 * Thing names and ARNs that are malformed are 400s here; a well-formed thing name that names
 * another tenant or serial is the service's 422 (`ThingNameMismatchError`).
 */
import {
  DomainValidationError,
  type FieldViolation,
  type FirmwareVersion,
  type HardwareModel,
  LABEL_MAX_LENGTH,
  parseFirmwareVersion,
  parseHardwareModel,
  parseSerialNumber,
  SERIAL_NUMBER_MAX_LENGTH,
  type TenantId,
} from "@granit/iot";
import {
  InvalidArnError,
  InvalidThingNameError,
  PROVISIONING_TEMPLATE_NAME,
  parseCertificateArn,
  parseSecretArn,
  parseThingArn,
  type ThingArn,
  ThingName,
} from "@granit/iot-aws";
import { z } from "zod";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const CERTIFICATE_ID = /^[0-9a-fA-F]{64}$/;
/** At most this many template parameters are forwarded to `/verify`. */
export const MAX_TEMPLATE_PARAMETERS = 50;

const serialNumber = z.string().max(SERIAL_NUMBER_MAX_LENGTH);
const tenantId = z.string().regex(UUID, "must be a UUID").nullable().optional();
const claimCertificateId = z
  .string()
  .regex(CERTIFICATE_ID, "must be an AWS IoT certificate id (64 hex characters)")
  .nullable()
  .optional();
const arn = z.string().min(1).max(2048);

/** `POST /verify` body. */
export const verifyRequestSchema = z.strictObject({
  serialNumber,
  claimCertificateId,
  templateName: z
    .string()
    .regex(PROVISIONING_TEMPLATE_NAME, "must be a template name: 1–36 letters, digits, '_' or '-'")
    .nullable()
    .optional(),
  parameters: z
    .record(z.string().min(1).max(128), z.string().max(2048))
    .refine((p) => Object.keys(p).length <= MAX_TEMPLATE_PARAMETERS, {
      message: `at most ${MAX_TEMPLATE_PARAMETERS} parameters`,
    })
    .optional(),
  tenantId,
});

/** `POST /registered` body. */
export const registerRequestSchema = z.strictObject({
  serialNumber,
  thingName: z.string().max(256),
  thingArn: arn,
  certificateArn: arn,
  certificateSecretArn: arn.nullable().optional(),
  model: z.string().max(256),
  firmwareVersion: z.string().max(256),
  label: z.string().max(LABEL_MAX_LENGTH).nullable().optional(),
  claimCertificateId,
  tenantId,
});

/** A validated `/verify` request. `tenantId` is `undefined` when the body did not name one. */
export interface VerifyRequest {
  readonly serialNumber: string;
  readonly claimCertificateId: string | null;
  readonly templateName: string | null;
  readonly parameters: Readonly<Record<string, string>>;
  readonly tenantId: TenantId | null | undefined;
}

/** A validated `/registered` request. */
export interface RegisterRequest {
  readonly serialNumber: string;
  readonly thingName: ThingName;
  readonly thingArn: ThingArn;
  readonly certificateArn: string;
  readonly certificateSecretArn: string | null;
  readonly model: HardwareModel;
  readonly firmwareVersion: FirmwareVersion;
  readonly label: string | null;
  readonly claimCertificateId: string | null;
  readonly tenantId: TenantId | null | undefined;
}

/** `/verify` 200 body. */
export interface VerifyAllowed {
  readonly allowProvisioning: true;
  /** Template parameters AWS merges over the device's (`ThingName` always). */
  readonly parameterOverrides: Readonly<Record<string, string>>;
}

/** `/verify` 403 verdict. */
export interface VerifyDenied {
  readonly allowProvisioning: false;
  readonly reason: string;
  readonly detail: string;
}

export type VerifyResult = VerifyAllowed | VerifyDenied;

/** `/registered` 200 body. */
export interface RegisterResult {
  readonly deviceId: string;
  readonly bindingId: string;
  readonly thingName: string;
  /** True when the device and its binding were already recorded (an idempotent replay). */
  readonly alreadyProvisioned: boolean;
}

/** Parses a `/verify` body; `DomainValidationError` listing every offending field. */
export function parseVerifyRequest(body: unknown): VerifyRequest {
  const data = parseShape(verifyRequestSchema, body);
  const violations: FieldViolation[] = [];
  collect(violations, () => parseSerialNumber(data.serialNumber));
  if (violations.length > 0) throw new DomainValidationError(violations);
  return {
    serialNumber: data.serialNumber,
    claimCertificateId: data.claimCertificateId?.toLowerCase() ?? null,
    templateName: data.templateName ?? null,
    parameters: data.parameters ?? {},
    tenantId: data.tenantId === undefined ? undefined : (data.tenantId?.toLowerCase() ?? null),
  };
}

/** Parses a `/registered` body; `DomainValidationError` listing every offending field. */
export function parseRegisterRequest(body: unknown): RegisterRequest {
  const data = parseShape(registerRequestSchema, body);
  const violations: FieldViolation[] = [];
  const serial = collect(violations, () => parseSerialNumber(data.serialNumber));
  const thingName = collect(violations, () => ThingName.parse(data.thingName));
  const thingArn = collect(violations, () => parseThingArn(data.thingArn), "thingArn");
  const certificateArn = collect(
    violations,
    () => parseCertificateArn(data.certificateArn),
    "certificateArn",
  );
  const secretArn = collect(
    violations,
    () => (data.certificateSecretArn ? parseSecretArn(data.certificateSecretArn) : null),
    "certificateSecretArn",
  );
  const model = collect(violations, () => parseHardwareModel(data.model));
  const firmware = collect(violations, () => parseFirmwareVersion(data.firmwareVersion, "firmwareVersion"));
  if (violations.length > 0) throw new DomainValidationError(violations);
  return {
    serialNumber: serial as string,
    thingName: thingName as ThingName,
    thingArn: thingArn as ThingArn,
    certificateArn: (certificateArn as { arn: string }).arn,
    certificateSecretArn: secretArn?.arn ?? null,
    model: model as HardwareModel,
    firmwareVersion: firmware as FirmwareVersion,
    label: data.label ? data.label : null,
    claimCertificateId: data.claimCertificateId?.toLowerCase() ?? null,
    tenantId: data.tenantId === undefined ? undefined : (data.tenantId?.toLowerCase() ?? null),
  };
}

function parseShape<T>(schema: z.ZodType<T>, body: unknown): T {
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    throw DomainValidationError.single("body", "type", "must be a JSON object");
  }
  const result = schema.safeParse(body);
  if (result.success) return result.data;
  throw new DomainValidationError(result.error.issues.flatMap((issue) => toViolations(issue, body)));
}

const RULES: Readonly<Record<string, string>> = {
  too_big: "maxLength",
  too_small: "minLength",
  invalid_format: "format",
  invalid_value: "enum",
  custom: "invalid",
};

function toViolations(issue: z.core.$ZodIssue, body: object): FieldViolation[] {
  const path = issue.path.map(String);
  const field = path.length > 0 ? path.join(".") : "body";
  if (issue.code === "unrecognized_keys") {
    return issue.keys.map((key) => ({
      field: path.length > 0 ? `${field}.${key}` : key,
      rule: "unknown",
      message: "is not a known field",
    }));
  }
  if (issue.code === "invalid_type" && valueAt(body, path) === undefined) {
    return [{ field, rule: "required", message: "is required" }];
  }
  const rule = issue.code === "invalid_type" ? "type" : (RULES[issue.code] ?? issue.code);
  return [{ field, rule, message: issue.message }];
}

function valueAt(body: object, path: readonly string[]): unknown {
  let value: unknown = body;
  for (const key of path) {
    if (typeof value !== "object" || value === null || !Object.hasOwn(value, key)) return undefined;
    value = (value as Record<string, unknown>)[key];
  }
  return value;
}

/** Runs one parser, turning its domain / thing-name / ARN error into violations. */
function collect<T>(violations: FieldViolation[], parse: () => T, field?: string): T | undefined {
  try {
    return parse();
  } catch (error) {
    if (error instanceof DomainValidationError) violations.push(...error.violations);
    else if (error instanceof InvalidThingNameError) {
      violations.push({ field: "thingName", rule: error.rule, message: detailOf(error) });
    } else if (error instanceof InvalidArnError) {
      violations.push({ field: field ?? `${error.kind}Arn`, rule: error.rule, message: detailOf(error) });
    } else throw error;
    return undefined;
  }
}

/** The part of the error message after the echoed value (values are never repeated back). */
function detailOf(error: Error): string {
  const index = error.message.lastIndexOf(": ");
  return index >= 0 ? error.message.slice(index + 2) : error.message;
}
