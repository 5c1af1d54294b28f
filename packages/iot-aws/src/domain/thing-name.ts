import { isUuid, type TenantId } from "@granit/iot";
import { InvalidThingNameError } from "../errors.ts";

/** AWS limit on thing names (bytes of UTF-8; our alphabet is ASCII, so characters). */
export const THING_NAME_MAX_LENGTH = 128;
/** `t` + 32 hex + `-` leaves 94 characters for the serial number. */
export const THING_NAME_SERIAL_MAX_LENGTH = 94;
/** The tenant part used for host devices (no tenant). */
export const HOST_TENANT_HEX = "0".repeat(32);

const PREFIX_LENGTH = 34; // "t" + 32 hex + "-"
const TENANT_HEX = /^[0-9a-f]{32}$/;
const SERIAL = /^[A-Za-z0-9][A-Za-z0-9_-]*$/;

/**
 * The AWS thing name of a device: `t{tenantId as 32 lowercase hex}-{serial}`, e.g.
 * `t11111111222233334444555555555555-SN-001`. Host devices (no tenant) use the all-zero tenant.
 *
 * The tenant prefix keeps names of different tenants from colliding in the account-wide thing
 * namespace and lets per-tenant IoT policies match `client/t{tenantHex}-*`. At most 128 characters
 * (so the serial is at most 94), serial `[A-Za-z0-9][A-Za-z0-9_-]*` (AWS also allows `:`; we don't).
 * The all-zero tenant always parses back as the host (`tenantId === null`).
 *
 * @see https://docs.aws.amazon.com/iot/latest/apireference/API_CreateThing.html
 */
export class ThingName {
  readonly value: string;
  /** The tenant encoded in the name, as a lowercase UUID; `null` for host devices. */
  readonly tenantId: TenantId | null;
  readonly serialNumber: string;

  private constructor(value: string, tenantId: TenantId | null, serialNumber: string) {
    this.value = value;
    this.tenantId = tenantId;
    this.serialNumber = serialNumber;
  }

  /** Builds the name of a device from its tenant (`null` = host) and serial number. */
  static from(tenantId: TenantId | null, serialNumber: unknown): ThingName {
    let tenantHex = HOST_TENANT_HEX;
    if (tenantId !== null) {
      if (!isUuid(tenantId)) {
        throw new InvalidThingNameError("tenantId", tenantId, "the tenant id must be a UUID or null (host)");
      }
      tenantHex = tenantId.replaceAll("-", "").toLowerCase();
    }
    checkSerial(serialNumber);
    return ThingName.parse(`t${tenantHex}-${serialNumber}`);
  }

  /** Parses a thing name; throws `InvalidThingNameError` naming the first rule it breaks. */
  static parse(value: unknown): ThingName {
    if (typeof value !== "string") {
      throw new InvalidThingNameError("type", value, "a thing name must be a string");
    }
    if (value.length > THING_NAME_MAX_LENGTH) {
      throw new InvalidThingNameError(
        "maxLength",
        value,
        `must be at most ${THING_NAME_MAX_LENGTH} characters (the serial at most ${THING_NAME_SERIAL_MAX_LENGTH}); got ${value.length}`,
      );
    }
    if (!value.startsWith("t")) {
      throw new InvalidThingNameError("prefix", value, "must start with 't' followed by the tenant id");
    }
    const tenantHex = value.slice(1, 33);
    if (!TENANT_HEX.test(tenantHex)) {
      throw new InvalidThingNameError(
        "tenantHex",
        value,
        "characters 2–33 must be the tenant id as 32 lowercase hex digits (no dashes)",
      );
    }
    if (value[33] !== "-") {
      throw new InvalidThingNameError("separator", value, "the tenant id must be followed by '-'");
    }
    const serial = value.slice(PREFIX_LENGTH);
    checkSerial(serial, value);
    return new ThingName(value, tenantHex === HOST_TENANT_HEX ? null : hexToUuid(tenantHex), serial);
  }

  /** Like `parse`, but returns `null` instead of throwing. */
  static tryParse(value: unknown): ThingName | null {
    try {
      return ThingName.parse(value);
    } catch (error) {
      if (error instanceof InvalidThingNameError) return null;
      throw error;
    }
  }

  /** The `t{tenantHex}-` prefix shared by every thing of one tenant (for per-tenant IoT policies). */
  static tenantPrefix(tenantId: TenantId | null): string {
    return `t${tenantId === null ? HOST_TENANT_HEX : tenantId.replaceAll("-", "").toLowerCase()}-`;
  }

  equals(other: ThingName | string | null | undefined): boolean {
    return other !== null && other !== undefined && String(other) === this.value;
  }

  toString(): string {
    return this.value;
  }

  toJSON(): string {
    return this.value;
  }
}

function checkSerial(serial: unknown, whole: unknown = serial): void {
  if (typeof serial !== "string" || serial.length === 0) {
    throw new InvalidThingNameError("serialRequired", whole, "the serial number part must not be empty");
  }
  if (serial.length > THING_NAME_SERIAL_MAX_LENGTH) {
    throw new InvalidThingNameError(
      "serialMaxLength",
      whole,
      `the serial number must be at most ${THING_NAME_SERIAL_MAX_LENGTH} characters; got ${serial.length}`,
    );
  }
  if (!SERIAL.test(serial)) {
    throw new InvalidThingNameError(
      "serialPattern",
      whole,
      "the serial number must start with a letter or digit and contain only letters, digits, '_' and '-'",
    );
  }
}

function hexToUuid(hex: string): string {
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
