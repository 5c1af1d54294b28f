/**
 * Turning a `DeviceCommand` into what `CreateJob` needs: the validated job id, the job document
 * `{"operation","correlationId","parameters"}`, the description that identifies the command on AWS,
 * and the hash that tells one command from another under the same correlation id.
 * @see https://docs.aws.amazon.com/iot/latest/apireference/API_CreateJob.html
 */
import { createHash } from "node:crypto";
import { DomainValidationError, type FieldViolation, type TenantId } from "@granit/iot";
import { canonicalJson, type JsonObject, type JsonValue } from "@granit/iot-aws";

/** AWS: "Alpha-numeric characters, "-" and "_" are valid", 1–64. */
const JOB_ID = /^[a-zA-Z0-9_-]{1,64}$/;
const CORRELATION_ID = /^[a-zA-Z0-9_-]{1,63}$/;
/** Operation names: dotted identifiers such as `firmware.update`, `shadow.applyDesiredState`. */
export const OPERATION_PATTERN = /^[A-Za-z][A-Za-z0-9._:-]{0,127}$/;
/** Job documents are limited to 32 KB. */
export const MAX_JOB_DOCUMENT_BYTES = 32_768;

/** A command checked and normalised (parameters round-tripped through JSON). */
export interface PreparedCommand {
  readonly jobId: string;
  readonly correlationId: string;
  readonly operation: string;
  readonly parameters: JsonObject;
  readonly document: string;
}

/** Validates the command and builds its job id and document; `DomainValidationError` lists every problem. */
export function prepareCommand(
  command: { correlationId: unknown; operation: unknown; parameters: unknown },
  jobIdPrefix: string,
): PreparedCommand {
  const violations: FieldViolation[] = [];
  const correlationId = typeof command.correlationId === "string" ? command.correlationId : "";
  const jobId = `${jobIdPrefix}-${correlationId}`;
  if (!CORRELATION_ID.test(correlationId)) {
    violations.push({
      field: "correlationId",
      rule: "pattern",
      message: "must be 1–63 characters of [a-zA-Z0-9_-] (it becomes part of the AWS job id)",
    });
  } else if (!JOB_ID.test(jobId)) {
    violations.push({
      field: "correlationId",
      rule: "maxLength",
      message: `makes the job id '${jobId.slice(0, 80)}' longer than AWS's 64 characters`,
    });
  }
  const operation = typeof command.operation === "string" ? command.operation : "";
  if (!OPERATION_PATTERN.test(operation)) {
    violations.push({
      field: "operation",
      rule: "pattern",
      message: "must start with a letter, then up to 127 of [A-Za-z0-9._:-] (e.g. firmware.update)",
    });
  }
  let parameters: JsonObject = {};
  try {
    parameters = toJsonObject(command.parameters);
  } catch (error) {
    violations.push({ field: "parameters", rule: "json", message: (error as Error).message });
  }
  const document = JSON.stringify({ operation, correlationId, parameters });
  if (Buffer.byteLength(document) > MAX_JOB_DOCUMENT_BYTES) {
    violations.push({
      field: "parameters",
      rule: "maxSize",
      message: `make the job document ${Buffer.byteLength(document)} bytes; AWS accepts at most ${MAX_JOB_DOCUMENT_BYTES}`,
    });
  }
  if (violations.length > 0) throw new DomainValidationError(violations);
  return { jobId, correlationId, operation, parameters, document };
}

function toJsonObject(value: unknown): JsonObject {
  if (value === undefined || value === null) return {};
  if (typeof value !== "object" || Array.isArray(value)) throw new Error("must be a JSON object");
  let text: string;
  try {
    text = JSON.stringify(value);
  } catch (error) {
    throw new Error(`is not JSON-serialisable (${(error as Error).message})`);
  }
  return JSON.parse(text) as JsonObject;
}

/** SHA-256 (hex) of what makes two commands the same: tenant, operation, parameters and target. */
export function commandHash(input: {
  readonly tenantId: TenantId | null;
  readonly operation: string;
  readonly parameters: JsonObject;
  readonly targetKind: string;
  readonly target: string;
}): string {
  const canonical: JsonValue = {
    tenantId: input.tenantId,
    operation: input.operation,
    parameters: input.parameters,
    targetKind: input.targetKind,
    target: input.target,
  };
  return createHash("sha256").update(canonicalJson(canonical)).digest("hex");
}

/**
 * The job's description: names the command so a `ResourceAlreadyExistsException` can be checked
 * with `DescribeJob` (which returns the description, not the document) — same correlation id and
 * same hash means the job is this command.
 */
export function jobDescription(operation: string, correlationId: string, parametersHash: string): string {
  return `Granit device command ${operation} correlation=${correlationId} sha256=${parametersHash}`;
}
