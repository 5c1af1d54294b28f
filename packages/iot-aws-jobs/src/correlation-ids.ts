/**
 * Deterministic correlation ids. A redelivered event or a retried API call must land on the same
 * correlation id — hence the same job id — so the ids are derived, never random: SHA-256 over a
 * domain label and the parts, the first 16 bytes shaped as an RFC 9562 version-8 ("custom") UUID.
 */
import { createHash } from "node:crypto";
import type { TenantId } from "@granit/iot";

/** A UUID-shaped id (version 8, RFC 9562 variant) from SHA-256 of the length-prefixed parts. */
export function deterministicUuid(...parts: readonly string[]): string {
  const hash = createHash("sha256");
  for (const part of parts) hash.update(`${part.length}:${part}\n`);
  const bytes = hash.digest().subarray(0, 16);
  bytes[6] = ((bytes[6] ?? 0) & 0x0f) | 0x80;
  bytes[8] = ((bytes[8] ?? 0) & 0x3f) | 0x80;
  const hex = bytes.toString("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/**
 * The correlation id of the job that applies one desired state to one device:
 * SHA-256(device id ‖ desired-state fingerprint). The fingerprint (`desiredStateFingerprint`) covers
 * the delta values and their desired-metadata timestamps, so a reported-only shadow update (the
 * version moves, the delta does not) keeps the id — the same job — while setting desired again,
 * even to an earlier value, gets new timestamps and a new job.
 */
export function desiredStateCorrelationId(deviceId: string, fingerprint: string): string {
  return deterministicUuid("granit.iot.aws.jobs/desired-state", deviceId.toLowerCase(), fingerprint);
}

/**
 * The correlation id of an API command sent with an idempotency key: the same key for the same
 * device and tenant always maps to the same command.
 */
export function idempotentCommandCorrelationId(
  tenantId: TenantId | null,
  deviceId: string,
  idempotencyKey: string,
): string {
  return deterministicUuid(
    "granit.iot.aws.jobs/api",
    tenantId ?? "host",
    deviceId.toLowerCase(),
    idempotencyKey,
  );
}
