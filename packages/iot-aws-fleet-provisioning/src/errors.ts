/**
 * Errors of `@granit/iot-aws-fleet-provisioning`. Each has a stable `name` (the HTTP layer maps on
 * it), a message that says what to do, and never any key material. Input rule breaks reuse the
 * core's `DomainValidationError`.
 */
import { GranitIoTError } from "@granit/iot";
import type { DenyReason } from "./deny-reason.ts";

/** Base class of every error raised by this package. */
export class GranitFleetProvisioningError extends GranitIoTError {
  override readonly name: string = "GranitFleetProvisioningError";
}

/** Why a fleet request was not authenticated (the `reason` tag of `auth_failures`). */
export const FleetAuthFailure = {
  MissingCredential: "missing_credential",
  MalformedCredential: "malformed_credential",
  UnknownKey: "unknown_key",
  RevokedKey: "revoked_key",
  StaleTimestamp: "stale_timestamp",
  BadSignature: "bad_signature",
  Replayed: "replayed",
} as const;

export type FleetAuthFailure = (typeof FleetAuthFailure)[keyof typeof FleetAuthFailure];

/**
 * A fleet request without a valid signature (HTTP 401). `reason` is logged and counted; the client
 * only learns the reasons that leak nothing (missing, malformed, stale).
 */
export class FleetAuthenticationError extends GranitFleetProvisioningError {
  override readonly name = "FleetAuthenticationError";
  readonly reason: FleetAuthFailure;
  readonly keyId: string | null;
  /** The key's tenant when the key was known (for the metric tag). */
  readonly tenantId: string | null | undefined;

  constructor(
    reason: FleetAuthFailure,
    detail: string,
    context: { keyId?: string | null; tenantId?: string | null } = {},
  ) {
    super(detail);
    this.reason = reason;
    this.keyId = context.keyId ?? null;
    this.tenantId = context.tenantId;
  }
}

/** The body names a tenant other than the fleet key's (HTTP 403). Nothing was written. */
export class FleetTenantMismatchError extends GranitFleetProvisioningError {
  override readonly name = "FleetTenantMismatchError";
  constructor() {
    super(
      "The body names another tenant than the fleet key's. The tenant always comes from the key: omit tenantId or send the key's own.",
    );
  }
}

/** `/registered` refused a denied serial (HTTP 403, `reason` = `serial_denied`). Nothing was written. */
export class FleetRegistrationDeniedError extends GranitFleetProvisioningError {
  override readonly name = "FleetRegistrationDeniedError";
  readonly reason: DenyReason;
  constructor(reason: DenyReason, detail: string) {
    super(detail);
    this.reason = reason;
  }
}

/** What made a registration conflict with the stored state. */
export type RegistrationConflict =
  | "other_tenant"
  | "device_decommissioned"
  | "binding_exists"
  | "thing_name_taken";

/**
 * `/registered` conflicts with what is stored (HTTP 409): the serial belongs to another tenant, the
 * device is decommissioned, the device already has a binding that is not this fleet-provisioned
 * thing (the provisioning saga owns it), or another device holds the thing name. Nothing was
 * written; an operator must reconcile the AWS thing with the device.
 */
export class FleetRegistrationConflictError extends GranitFleetProvisioningError {
  override readonly name = "FleetRegistrationConflictError";
  readonly reason: RegistrationConflict;
  constructor(reason: RegistrationConflict, detail: string, options?: ErrorOptions) {
    super(detail, options);
    this.reason = reason;
  }
}

/** Which rule a well-formed thing name / ARN broke against the request (HTTP 422). */
export type ThingNameMismatchRule = "tenant" | "serialNumber" | "thingArn";

/**
 * The thing name is well-formed but does not name this tenant's device with this serial (or the
 * thing ARN names another thing) — HTTP 422 with `rule`. Malformed names are a 400.
 */
export class ThingNameMismatchError extends GranitFleetProvisioningError {
  override readonly name = "ThingNameMismatchError";
  readonly rule: ThingNameMismatchRule;
  readonly field: string;
  constructor(field: string, rule: ThingNameMismatchRule, detail: string) {
    super(detail);
    this.field = field;
    this.rule = rule;
  }
}

/** The master key or a stored ciphertext could not be used (configuration or tampering). */
export class FleetKeyCipherError extends GranitFleetProvisioningError {
  override readonly name = "FleetKeyCipherError";
}
