/**
 * Errors of the Device core. Every error carries a stable `name` (callers and the HTTP layer map on
 * it, never on the message), a message that tells the user what to do, and the original `cause`.
 */

/** Base class of every error raised by `@granit/iot`. */
export class GranitIoTError extends Error {
  override readonly name: string = "GranitIoTError";
}

/** One broken rule on one input field, e.g. `{ field: "serialNumber", rule: "pattern" }`. */
export interface FieldViolation {
  readonly field: string;
  readonly rule: string;
  readonly message: string;
}

/**
 * Input that breaks a domain rule. Carries every violation found, so an API can answer with all the
 * offending fields at once (HTTP 400).
 */
export class DomainValidationError extends GranitIoTError {
  override readonly name = "DomainValidationError";
  readonly violations: readonly FieldViolation[];

  constructor(violations: readonly FieldViolation[], options?: ErrorOptions) {
    super(violations.map((v) => `${v.field}: ${v.message}`).join("; "), options);
    this.violations = violations;
  }

  static single(field: string, rule: string, message: string): DomainValidationError {
    return new DomainValidationError([{ field, rule, message }]);
  }
}

/**
 * A lifecycle operation that the aggregate's current status does not allow (HTTP 409).
 * The message names the current and the expected status.
 */
export class InvalidStatusTransitionError extends GranitIoTError {
  override readonly name = "InvalidStatusTransitionError";
  readonly operation: string;
  readonly currentStatus: string;
  readonly expectedStatuses: readonly string[];

  constructor(entity: string, operation: string, currentStatus: string, expectedStatuses: readonly string[]) {
    super(
      `Cannot ${operation} a ${entity} in '${currentStatus}' status. Expected ${expectedStatuses
        .map((s) => `'${s}'`)
        .join(" or ")}.`,
    );
    this.operation = operation;
    this.currentStatus = currentStatus;
    this.expectedStatuses = expectedStatuses;
  }
}

/**
 * A write based on a stale read: someone else changed the row since it was loaded (HTTP 409).
 * Reload and apply the change again.
 */
export class ConcurrencyConflictError extends GranitIoTError {
  override readonly name = "ConcurrencyConflictError";
  readonly entity: string;
  readonly id: string;
  readonly expectedVersion: number;

  constructor(entity: string, id: string, expectedVersion: number, options?: ErrorOptions) {
    super(
      `${entity} '${id}' was modified by someone else (expected version ${expectedVersion}). Reload it and retry.`,
      options,
    );
    this.entity = entity;
    this.id = id;
    this.expectedVersion = expectedVersion;
  }
}

/** The entity does not exist, is soft-deleted, or belongs to another tenant (HTTP 404). */
export class EntityNotFoundError extends GranitIoTError {
  override readonly name = "EntityNotFoundError";
  readonly entity: string;
  readonly id: string;

  constructor(entity: string, id: string) {
    super(`${entity} '${id}' was not found.`);
    this.entity = entity;
    this.id = id;
  }
}

/** A unique key is already taken, e.g. the serial number within a tenant (HTTP 409). */
export class DuplicateKeyError extends GranitIoTError {
  override readonly name = "DuplicateKeyError";
  readonly entity: string;
  readonly key: string;

  constructor(entity: string, key: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.entity = entity;
    this.key = key;
  }
}

/**
 * A configuration value out of its allowed range or of the wrong type. `key` is the full
 * configuration path as an operator writes it (`IoT:Aws:Shadow:PollIntervalSeconds`); the message
 * says what is allowed. Start-up stops on it.
 */
export class OptionsValidationError extends GranitIoTError {
  override readonly name = "OptionsValidationError";
  readonly key: string;

  constructor(key: string, message: string, options?: ErrorOptions) {
    super(`${key}: ${message}`, options);
    this.key = key;
  }
}
