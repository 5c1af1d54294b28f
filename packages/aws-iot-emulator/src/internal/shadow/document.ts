/**
 * Applying an update request to a shadow document: merge at every level, `null` deletes a key (and
 * `desired: null` / `reported: null` removes the section), per-leaf metadata `{timestamp}` in epoch
 * seconds, and the limits AWS enforces — at most 6 levels of nesting, no `null` inside arrays, and
 * 8 KB for the merged desired + reported state (metadata excluded).
 * @see https://docs.aws.amazon.com/iot/latest/developerguide/device-shadow-document.html
 */
import { AwsError, invalidRequest } from "../errors.ts";
import { isPlainObject, type JsonObject } from "./delta.ts";

const MAX_DEPTH = 6;
const MAX_STATE_BYTES = 8 * 1024;
const MAX_CLIENT_TOKEN_BYTES = 64;

export interface UpdateRequest {
  /** undefined = not in the request; null = remove the section. */
  readonly desired: JsonObject | null | undefined;
  readonly reported: JsonObject | null | undefined;
  readonly clientToken: string | undefined;
  readonly version: number | undefined;
}

/** Parses and validates an UpdateThingShadow payload. */
export function parseUpdateRequest(payload: Buffer): UpdateRequest {
  let doc: unknown;
  try {
    doc = JSON.parse(payload.toString("utf8"));
  } catch {
    throw invalidRequest("Payload contains invalid json");
  }
  if (!isPlainObject(doc)) throw invalidRequest("Payload contains invalid json");
  const state = doc.state;
  if (!isPlainObject(state)) throw invalidRequest("Missing required node: state");
  const section = (name: "desired" | "reported"): JsonObject | null | undefined => {
    const value = state[name];
    if (value === undefined || value === null) return value;
    if (!isPlainObject(value)) throw invalidRequest(`Invalid JSON: state.${name} must be an object`);
    if (depthOf(value) > MAX_DEPTH)
      throw invalidRequest(`JSON contains too many levels of nesting; maximum is ${MAX_DEPTH}`);
    checkArrays(value);
    return value;
  };
  const clientToken = doc.clientToken;
  if (
    clientToken !== undefined &&
    (typeof clientToken !== "string" || Buffer.byteLength(clientToken) > MAX_CLIENT_TOKEN_BYTES)
  ) {
    throw invalidRequest("Invalid clientToken");
  }
  const version = doc.version;
  if (version !== undefined && (typeof version !== "number" || !Number.isInteger(version))) {
    throw invalidRequest("Invalid version");
  }
  return { desired: section("desired"), reported: section("reported"), clientToken, version };
}

/** Object/array nesting levels; `{a: 1}` is 1. */
function depthOf(value: unknown): number {
  if (Array.isArray(value)) return 1 + Math.max(0, ...value.map(depthOf));
  if (isPlainObject(value)) return 1 + Math.max(0, ...Object.values(value).map(depthOf));
  return 0;
}

/** "Arrays can't have null values." */
function checkArrays(value: unknown): void {
  if (Array.isArray(value)) {
    for (const item of value) {
      if (item === null) throw invalidRequest("Arrays in a shadow document cannot contain null values");
      checkArrays(item);
    }
  } else if (isPlainObject(value)) {
    for (const item of Object.values(value)) checkArrays(item);
  }
}

/**
 * Merges `patch` into `target` and stamps `meta` alongside. Returns false when the section ended up
 * empty (so the caller drops it).
 */
export function mergeSection(
  target: JsonObject,
  meta: JsonObject,
  patch: JsonObject,
  timestamp: number,
): boolean {
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) {
      delete target[key];
      delete meta[key];
    } else if (isPlainObject(value)) {
      if (!isPlainObject(target[key])) {
        target[key] = {};
        meta[key] = {};
      }
      if (!isPlainObject(meta[key]) || isLeafMetadata(meta[key])) meta[key] = {};
      const child = target[key] as JsonObject;
      mergeSection(child, meta[key] as JsonObject, value, timestamp);
      if (Object.keys(child).length === 0 && Object.keys(value).length > 0) {
        delete target[key];
        delete meta[key];
      }
    } else {
      target[key] = structuredClone(value);
      meta[key] = { timestamp };
    }
  }
  return Object.keys(target).length > 0;
}

function isLeafMetadata(value: unknown): boolean {
  return isPlainObject(value) && typeof value.timestamp === "number" && Object.keys(value).length === 1;
}

/** Metadata echoed in the update response: one `{timestamp}` per leaf of the request. */
export function metadataOfPatch(patch: JsonObject, timestamp: number): JsonObject {
  const out: JsonObject = {};
  for (const [key, value] of Object.entries(patch)) {
    out[key] = isPlainObject(value) ? metadataOfPatch(value, timestamp) : { timestamp };
  }
  return out;
}

/** 8 KB applies to the merged desired + reported state, not to the request. */
export function checkSize(desired: JsonObject | undefined, reported: JsonObject | undefined): void {
  const size =
    Buffer.byteLength(JSON.stringify(desired ?? {})) + Buffer.byteLength(JSON.stringify(reported ?? {}));
  if (size > MAX_STATE_BYTES) {
    throw new AwsError("RequestEntityTooLargeException", 413, "The payload exceeds the maximum size allowed");
  }
}
