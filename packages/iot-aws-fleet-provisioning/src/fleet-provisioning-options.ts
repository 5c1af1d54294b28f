/**
 * The `IoT:Aws:FleetProvisioning` configuration section (env `IoT__Aws__FleetProvisioning__…`),
 * validated at start-up: an out-of-range value stops the host with the full key and what is allowed.
 */
import {
  type CamelCasedOptions,
  defineOptionsSection,
  integerOption,
  optionalStringOption,
  parseOptionsSection,
} from "@granit/iot-aws";
import { z } from "zod";

export const FLEET_PROVISIONING_SECTION = "IoT:Aws:FleetProvisioning";

/** A 256-bit key as 64 hex digits or base64 / base64url of 32 bytes; `null` when malformed. */
export function decodeMasterKey(text: string): Buffer | null {
  const value = text.trim();
  if (/^[0-9a-fA-F]{64}$/.test(value)) return Buffer.from(value, "hex");
  if (/^[A-Za-z0-9+/_-]{43}={0,1}$/.test(value)) {
    const bytes = Buffer.from(value.replaceAll("-", "+").replaceAll("_", "/"), "base64");
    return bytes.length === 32 ? bytes : null;
  }
  return null;
}

const MASTER_KEY_HINT =
  "must be 32 random bytes as base64 or 64 hex digits (generate one with `openssl rand -base64 32`)";

/**
 * A list of strings: a JSON array, one comma-separated string (environment variables), or an
 * index-keyed section (`DeniedSerialNumbers__0=…`, as the host's configuration tree holds lists).
 */
function stringListOption(item: z.ZodType<string>, hint: string) {
  const error = (issue: { input?: unknown }) => `must be ${hint}; got ${JSON.stringify(issue.input)}`;
  return z
    .preprocess(
      (value) => {
        if (value === null || value === undefined) return [];
        if (typeof value === "string") {
          return value
            .split(",")
            .map((s) => s.trim())
            .filter((s) => s.length > 0);
        }
        if (typeof value === "object" && !Array.isArray(value)) {
          const entries = Object.entries(value);
          if (entries.every(([key]) => /^\d+$/.test(key))) {
            return entries.sort(([a], [b]) => Number(a) - Number(b)).map(([, item]) => item);
          }
        }
        return value;
      },
      z.array(item, { error }).max(100_000, { error }),
    )
    .default([]);
}

/** The schema of `IoT:Aws:FleetProvisioning` (PascalCase keys, as configured). */
export const fleetProvisioningOptionsSchema = defineOptionsSection({
  /** Days before a claim certificate expires that `ClaimCertificateExpiringEvent` is raised. @default 30 */
  ExpiryWarningWindowDays: integerOption({ min: 1, max: 180, default: 30 }),
  /** Hours between two rotation-check sweeps (one host sweeps per interval). @default 24 */
  RotationCheckIntervalHours: integerOption({ min: 1, max: 168, default: 24 }),
  /** Rows per page the rotation check reads. @default 1000 */
  RotationCheckBatchSize: integerOption({ min: 1, max: 10_000, default: 1000 }),
  /** Serial numbers `/verify` always denies (`serial_denied`), compared case-insensitively. @default [] */
  DeniedSerialNumbers: stringListOption(
    z.string().trim().min(1).max(128),
    "a list of serial numbers (or one comma-separated string)",
  ),
  /** A file with more denied serials, one per line (`#` starts a comment); re-read when it changes. */
  DeniedSerialNumbersFile: optionalStringOption(),
  /**
   * The 256-bit master key that encrypts fleet-key secrets at rest (AES-256-GCM). Required to
   * create or verify fleet keys; pass it as a secret (env), never in a committed file.
   */
  MasterKey: optionalStringOption((value) => (decodeMasterKey(value) ? undefined : MASTER_KEY_HINT)),
  /** Former master keys, still accepted for decryption while secrets are re-encrypted. @default [] */
  PreviousMasterKeys: stringListOption(
    z.string().refine((v) => decodeMasterKey(v) !== null, { message: MASTER_KEY_HINT }),
    "a list of master keys",
  ),
  /** Accepted clock difference between the signer and the host, either way. @default 300 */
  SignatureToleranceSeconds: integerOption({ min: 30, max: 900, default: 300 }),
  /**
   * How long a decrypted fleet key, and a claim certificate `/verify` read, stay cached per host
   * (0 = always read): bounds how long a revocation / deactivation made on another host takes. @default 10
   */
  CredentialCacheSeconds: integerOption({ min: 0, max: 300, default: 10 }),
  /** Largest request body the fleet endpoints read; larger ones get 413. @default 16384 */
  BodyLimitBytes: integerOption({ min: 1024, max: 1_048_576, default: 16_384 }),
});

export type FleetProvisioningOptions = CamelCasedOptions<z.output<typeof fleetProvisioningOptionsSchema>>;

/**
 * Defaults with the canonical key spelling, for `ConfigSectionRegistry.register(path, parser,
 * defaults)`: configuration keys match case-insensitively and the first spelling seen wins.
 */
export const FLEET_PROVISIONING_DEFAULTS: Readonly<Record<string, unknown>> = Object.freeze({
  ExpiryWarningWindowDays: 30,
  RotationCheckIntervalHours: 24,
  RotationCheckBatchSize: 1000,
  DeniedSerialNumbers: null,
  DeniedSerialNumbersFile: null,
  MasterKey: null,
  PreviousMasterKeys: null,
  SignatureToleranceSeconds: 300,
  CredentialCacheSeconds: 10,
  BodyLimitBytes: 16_384,
});

/**
 * Validates `IoT:Aws:FleetProvisioning` (absent = every default). Usable as the host's section
 * parser: `defaultConfigSections().register(FLEET_PROVISIONING_SECTION, parseFleetProvisioningOptions)`.
 */
export function parseFleetProvisioningOptions(raw?: unknown): FleetProvisioningOptions {
  return parseOptionsSection(fleetProvisioningOptionsSchema, raw, FLEET_PROVISIONING_SECTION);
}
