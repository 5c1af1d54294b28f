import { createHash } from "node:crypto";
import type { DomainEvent } from "@granit/iot";

/** A JSON value as the Device Shadow stores it. */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };
export type JsonObject = { [key: string]: JsonValue };

/**
 * The desired state of a device's shadow differs from its reported state (AWS → Granit).
 * Published by the shadow package (delta poller, or a later MQTT delta subscriber) on the durable
 * bus; consumed by the jobs package, which turns it into an IoT Job.
 *
 * `delta` is the shadow's `state.delta` as JSON (nested objects and arrays kept, never flattened).
 * `desiredTimestamps` maps each delta leaf path (`"firmware"`, `"config.interval"`) to the epoch
 * seconds of its desired metadata. `fingerprint` identifies this desired state: the same delta
 * values and desired timestamps give the same fingerprint even when the shadow `version` moved
 * (a reported-only update bumps the version), so consumers de-duplicate on the fingerprint, not
 * on the version.
 *
 * @see https://docs.aws.amazon.com/iot/latest/developerguide/device-shadow-document.html
 */
export interface DeviceDesiredStateChangedEvent extends DomainEvent {
  readonly type: "DeviceDesiredStateChangedEvent";
  readonly deviceId: string;
  readonly thingName: string;
  readonly delta: JsonObject;
  readonly shadowVersion: number;
  readonly desiredTimestamps: Readonly<Record<string, number>>;
  readonly fingerprint: string;
}

/** JSON with object keys sorted at every level: equal values give equal text. */
export function canonicalJson(value: JsonValue): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (value !== null && typeof value === "object") {
    return `{${Object.keys(value)
      .sort()
      .map((key) => `${JSON.stringify(key)}:${canonicalJson(value[key] as JsonValue)}`)
      .join(",")}}`;
  }
  return JSON.stringify(value);
}

/** SHA-256 (hex) of the canonical delta and its desired timestamps; see `DeviceDesiredStateChangedEvent`. */
export function desiredStateFingerprint(
  delta: JsonObject,
  desiredTimestamps: Readonly<Record<string, number>>,
): string {
  return createHash("sha256")
    .update(canonicalJson(delta))
    .update("\n")
    .update(canonicalJson({ ...desiredTimestamps }))
    .digest("hex");
}
