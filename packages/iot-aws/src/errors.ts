/**
 * Errors of the AWS bridge core. Every error carries a stable `name` (callers branch on it, never on
 * the message), a message that says what to do, and the original `cause`. Rule breaks of the binding
 * aggregate itself reuse the core's `DomainValidationError` / `InvalidStatusTransitionError`.
 */
import { GranitIoTError } from "@granit/iot";

/** Base class of every error raised by `@granit/iot-aws`. */
export class GranitIoTAwsError extends GranitIoTError {
  override readonly name: string = "GranitIoTAwsError";
}

/** Which rule of the thing-name format an input broke. */
export type ThingNameRule =
  | "type"
  | "maxLength"
  | "prefix"
  | "tenantHex"
  | "separator"
  | "tenantId"
  | "serialRequired"
  | "serialMaxLength"
  | "serialPattern";

/** A thing name (or its tenant / serial parts) that breaks the `t{32 hex}-{serial}` format (HTTP 400/422). */
export class InvalidThingNameError extends GranitIoTAwsError {
  override readonly name = "InvalidThingNameError";
  readonly rule: ThingNameRule;
  readonly value: unknown;

  constructor(rule: ThingNameRule, value: unknown, message: string) {
    super(`Invalid thing name ${describeValue(value)}: ${message}`);
    this.rule = rule;
    this.value = value;
  }
}

/** Which ARN the parser was asked for. */
export type ArnKind = "thing" | "certificate" | "secret";

/** An ARN that is not the expected kind of AWS resource ARN (HTTP 400/422). */
export class InvalidArnError extends GranitIoTAwsError {
  override readonly name = "InvalidArnError";
  readonly kind: ArnKind;
  readonly rule: string;
  readonly value: unknown;

  constructor(kind: ArnKind, rule: string, value: unknown, message: string) {
    super(`Invalid ${kind} ARN ${describeValue(value)}: ${message}`);
    this.kind = kind;
    this.rule = rule;
    this.value = value;
  }
}

/**
 * A replayed saga step carried a different value than the one already recorded (e.g. a second
 * certificate ARN for a binding that already holds one). Replays must be exact; a different value
 * means two AWS resources exist for one device and an operator (or the reconciler) must decide.
 */
export class BindingCheckpointConflictError extends GranitIoTAwsError {
  override readonly name = "BindingCheckpointConflictError";
  readonly field: string;
  readonly recorded: string | null;
  readonly attempted: string;

  constructor(bindingId: string, field: string, recorded: string | null, attempted: string) {
    super(
      `Binding '${bindingId}' already recorded ${field} '${recorded}'; refusing to replace it with '${attempted}'. ` +
        "Reconcile the AWS resources of this device before retrying.",
    );
    this.field = field;
    this.recorded = recorded;
    this.attempted = attempted;
  }
}

/**
 * The credential gate is closed (rotating mode before its first successful fetch): no AWS request
 * was sent. Retry later; `/health/ready` reports the same gate.
 */
export class AwsCredentialsNotReadyError extends GranitIoTAwsError {
  override readonly name = "AwsCredentialsNotReadyError";
  readonly gate: string;

  constructor(gate: string, detail?: string, options?: ErrorOptions) {
    super(
      `AWS credentials are not ready (${gate}${detail ? `: ${detail}` : ""}); refusing to call AWS. ` +
        "Check IoT:Aws:Credentials:FleetCredentialSecretArn and the credential loader; the call can be retried once /health/ready reports ready.",
      options,
    );
    this.gate = gate;
  }
}

/**
 * An AWS call kept failing with retryable errors (throttling, 5xx, timeouts, connection resets)
 * until the retry budget was spent. `cause` is the last AWS error. Transient by nature: let the
 * message bus redeliver later.
 */
export class AwsCallRetriesExhaustedError extends GranitIoTAwsError {
  override readonly name = "AwsCallRetriesExhaustedError";
  readonly service: string;
  readonly operation: string;
  readonly attempts: number;
  readonly elapsedMs: number;
  /** `name` of the last AWS error (e.g. `ThrottlingException`). */
  readonly lastErrorName: string;

  constructor(
    init: { service: string; operation: string; attempts: number; elapsedMs: number },
    cause: unknown,
  ) {
    const lastErrorName = errorName(cause);
    super(
      `${init.service}:${init.operation} still failed after ${init.attempts} attempts over ${Math.round(init.elapsedMs)} ms ` +
        `(last error ${lastErrorName}); the retry budget is spent. Retry later or raise the quota / IoT:Aws:Calls limits.`,
      { cause },
    );
    this.service = init.service;
    this.operation = init.operation;
    this.attempts = init.attempts;
    this.elapsedMs = init.elapsedMs;
    this.lastErrorName = lastErrorName;
  }
}

function errorName(error: unknown): string {
  if (error && typeof error === "object") {
    const name = (error as { name?: unknown }).name;
    if (typeof name === "string") return name;
  }
  return typeof error;
}

function describeValue(value: unknown): string {
  if (typeof value !== "string") return `(${value === null ? "null" : typeof value})`;
  return value.length > 160 ? `'${value.slice(0, 160)}…' (${value.length} chars)` : `'${value}'`;
}
