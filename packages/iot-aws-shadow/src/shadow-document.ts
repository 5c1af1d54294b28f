/**
 * The Device Shadow documents AWS returns, parsed into one total shape. `GetThingShadow` gives
 * `payload` as bytes; any part of the document may be missing (`state`, `desired`, `reported`,
 * `delta`, `metadata`), and values are any JSON — nested objects, arrays, `null`. Missing parts become
 * empty objects, values stay JSON (never flattened to strings). Only bytes that are not a JSON object
 * raise `MalformedShadowDocumentError`.
 *
 * Also parses the message AWS publishes on `$aws/things/{thing}/shadow/update/delta`, whose `state` *is*
 * the delta and whose `metadata` is the desired metadata, for an event-driven delta source.
 *
 * @see https://docs.aws.amazon.com/iot/latest/developerguide/device-shadow-document.html
 */
import type { JsonObject, JsonValue } from "@granit/iot-aws";
import { MalformedShadowDocumentError } from "./errors.ts";

/** A classic or named shadow as `GetThingShadow` returns it, every part defaulted. */
export interface ShadowDocument {
  readonly state: {
    readonly desired: JsonObject;
    readonly reported: JsonObject;
    /** Desired leaves that differ from reported (AWS computes it); `{}` when in sync. */
    readonly delta: JsonObject;
  };
  /** Per-leaf `{ timestamp }` (epoch seconds) mirroring the state's shape; arrays get one entry per element. */
  readonly metadata: { readonly desired: JsonObject; readonly reported: JsonObject };
  /** Increments on every accepted update (reported-only ones too); 0 when absent. */
  readonly version: number;
  /** Epoch seconds when AWS produced the document; `null` when absent. */
  readonly timestamp: number | null;
}

/** A message of `$aws/things/{thing}/shadow/update/delta`: the delta and its desired metadata. */
export interface ShadowDeltaMessage {
  readonly delta: JsonObject;
  readonly desiredMetadata: JsonObject;
  readonly version: number;
  readonly timestamp: number | null;
}

const decoder = new TextDecoder("utf-8", { fatal: true });

export function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Turns whatever a transport handed over (bytes, text, parsed JSON, nothing) into a JSON object. */
function readJsonObject(payload: unknown): JsonObject {
  if (payload === undefined || payload === null) return {};
  let text: string;
  if (payload instanceof Uint8Array) {
    if (payload.byteLength === 0) return {};
    try {
      text = decoder.decode(payload);
    } catch (error) {
      throw new MalformedShadowDocumentError("json", "the payload is not UTF-8", { cause: error });
    }
  } else if (typeof payload === "string") {
    text = payload;
  } else {
    // Already parsed (e.g. by an MQTT client): a JSON round trip keeps only JSON values.
    text = JSON.stringify(payload) ?? "";
  }
  if (text.trim() === "") return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new MalformedShadowDocumentError("json", "the payload is not JSON", { cause: error });
  }
  if (!isJsonObject(parsed)) {
    throw new MalformedShadowDocumentError(
      "shape",
      `the payload is JSON ${Array.isArray(parsed) ? "array" : parsed === null ? "null" : typeof parsed}`,
    );
  }
  return parsed;
}

const objectAt = (value: JsonValue | undefined): JsonObject => (isJsonObject(value) ? value : {});

function versionOf(value: JsonValue | undefined): number {
  return typeof value === "number" && Number.isSafeInteger(value) && value >= 0 ? value : 0;
}

function timestampOf(value: JsonValue | undefined): number | null {
  return typeof value === "number" && Number.isFinite(value) ? value : null;
}

/**
 * Parses a `GetThingShadow` / `UpdateThingShadow` payload. Total except for bytes that are not a JSON
 * object (`MalformedShadowDocumentError`).
 */
export function parseShadowDocument(payload: unknown): ShadowDocument {
  const doc = readJsonObject(payload);
  const state = objectAt(doc.state);
  const metadata = objectAt(doc.metadata);
  return {
    state: {
      desired: objectAt(state.desired),
      reported: objectAt(state.reported),
      delta: objectAt(state.delta),
    },
    metadata: { desired: objectAt(metadata.desired), reported: objectAt(metadata.reported) },
    version: versionOf(doc.version),
    timestamp: timestampOf(doc.timestamp),
  };
}

/**
 * Parses a message of `$aws/things/{thing}/shadow/update/delta` (`state` is the delta, `metadata` the
 * desired metadata of its leaves).
 * @see https://docs.aws.amazon.com/iot/latest/developerguide/device-shadow-mqtt.html#update-delta-pub-sub-topic
 */
export function parseShadowDeltaMessage(payload: unknown): ShadowDeltaMessage {
  const doc = readJsonObject(payload);
  return {
    delta: objectAt(doc.state),
    desiredMetadata: objectAt(doc.metadata),
    version: versionOf(doc.version),
    timestamp: timestampOf(doc.timestamp),
  };
}

/**
 * The desired metadata timestamp (epoch seconds) of every leaf of `delta`, keyed by its dotted path
 * (`"firmware"`, `"config.interval"`). Nested metadata mirrors the state; an array's metadata is one
 * entry per element, so an array leaf takes the latest of its elements' timestamps. Leaves without
 * metadata are left out.
 */
export function desiredTimestampsOf(delta: JsonObject, desiredMetadata: JsonObject): Record<string, number> {
  const out: Record<string, number> = {};
  collect(delta, desiredMetadata, "", out);
  return out;
}

function collect(
  delta: JsonObject,
  metadata: JsonValue | undefined,
  prefix: string,
  out: Record<string, number>,
) {
  for (const [key, value] of Object.entries(delta)) {
    const path = prefix === "" ? key : `${prefix}.${key}`;
    const meta = isJsonObject(metadata) ? metadata[key] : undefined;
    if (isJsonObject(value) && Object.keys(value).length > 0 && !isLeafMetadata(meta)) {
      collect(value, meta, path, out);
    } else {
      const timestamp = latestTimestamp(meta);
      if (timestamp !== null) out[path] = timestamp;
    }
  }
}

/** `{ "timestamp": 1700000000 }`: the metadata of one scalar leaf. */
function isLeafMetadata(value: JsonValue | undefined): value is { timestamp: number } {
  return isJsonObject(value) && typeof value.timestamp === "number";
}

/** The latest timestamp anywhere in a metadata subtree (leaf, array of element metadata, or object). */
function latestTimestamp(value: JsonValue | undefined): number | null {
  if (isLeafMetadata(value)) return value.timestamp;
  const children = Array.isArray(value) ? value : isJsonObject(value) ? Object.values(value) : [];
  let latest: number | null = null;
  for (const child of children) {
    const timestamp = latestTimestamp(child);
    if (timestamp !== null && (latest === null || timestamp > latest)) latest = timestamp;
  }
  return latest;
}
