import { DomainValidationError } from "../errors.ts";

/**
 * A device serial number: 1–94 characters, a letter or digit first, then letters, digits, `_` or `-`.
 * The bound and the alphabet are those of the AWS thing name that embeds it
 * (`t{32 hex}-{serial}` ≤ 128 characters), so every valid serial maps to a valid thing name.
 */
export type DeviceSerialNumber = string & { readonly __brand: "DeviceSerialNumber" };

export const SERIAL_NUMBER_MAX_LENGTH = 94;
const SERIAL_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_-]*$/;

export function parseSerialNumber(value: unknown, field = "serialNumber"): DeviceSerialNumber {
  if (typeof value !== "string" || value.length === 0) {
    throw DomainValidationError.single(field, "required", "must be a non-empty string");
  }
  if (value.length > SERIAL_NUMBER_MAX_LENGTH) {
    throw DomainValidationError.single(
      field,
      "maxLength",
      `must be at most ${SERIAL_NUMBER_MAX_LENGTH} characters`,
    );
  }
  if (!SERIAL_PATTERN.test(value)) {
    throw DomainValidationError.single(
      field,
      "pattern",
      "must start with a letter or digit and contain only letters, digits, '_' and '-'",
    );
  }
  return value as DeviceSerialNumber;
}
