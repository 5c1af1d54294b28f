import { DomainValidationError } from "../errors.ts";

/**
 * A semver-like firmware version: 1 to 4 numeric parts (`1`, `1.5`, `1.5.0`, `1.5.0.12`), an
 * optional `v` prefix, an optional pre-release (`-rc.1`) and build (`+abc`) suffix; at most 64 characters.
 */
export type FirmwareVersion = string & { readonly __brand: "FirmwareVersion" };

export const FIRMWARE_VERSION_MAX_LENGTH = 64;
const FIRMWARE_PATTERN = /^v?\d+(\.\d+){0,3}(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$/;

export function parseFirmwareVersion(value: unknown, field = "firmware"): FirmwareVersion {
  if (typeof value !== "string" || value.length === 0) {
    throw DomainValidationError.single(field, "required", "must be a non-empty string");
  }
  if (value.length > FIRMWARE_VERSION_MAX_LENGTH) {
    throw DomainValidationError.single(
      field,
      "maxLength",
      `must be at most ${FIRMWARE_VERSION_MAX_LENGTH} characters`,
    );
  }
  if (!FIRMWARE_PATTERN.test(value)) {
    throw DomainValidationError.single(
      field,
      "semver",
      "must look like a version number, e.g. 1.4.2 or 2.0.0-rc.1",
    );
  }
  return value as FirmwareVersion;
}
