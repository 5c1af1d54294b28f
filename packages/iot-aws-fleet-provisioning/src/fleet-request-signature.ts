/**
 * The request-signing scheme of the fleet endpoints (`/verify`, `/registered`), shared by the server
 * and the Lambda handlers. Imports nothing but `node:crypto`, so the Lambda entry point stays free
 * of the host and of every database package.
 *
 * ```
 * Authorization: GRANIT-HMAC-SHA256 KeyId=<key id>, Timestamp=<ISO-8601 UTC or epoch seconds>, Signature=<hex>
 * Signature     = hex(HMAC-SHA256(key = UTF-8 bytes of the fleet key secret, stringToSign))
 * stringToSign  = METHOD + "\n" + path + "\n" + Timestamp + "\n" + hex(SHA-256(raw body bytes))
 * ```
 *
 * `path` is the URL path the server receives (no query string), e.g.
 * `/api/iot/fleet-provisioning/verify`. The timestamp is the exact text of the header.
 */
import { createHash, createHmac } from "node:crypto";

/** The `Authorization` scheme name. */
export const FLEET_SIGNATURE_ALGORITHM = "GRANIT-HMAC-SHA256";
/** Fleet key ids: 1–64 of `[A-Za-z0-9_-]`. */
export const FLEET_KEY_ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,3})?Z$/;
const EPOCH_SECONDS = /^\d{9,11}(?:\.\d{1,3})?$/;
const SIGNATURE = /^[0-9a-f]{64}$/;
const MAX_HEADER_LENGTH = 512;

/** What a signature covers. */
export interface FleetSignatureInput {
  readonly method: string;
  readonly path: string;
  readonly timestamp: string;
  readonly body: Uint8Array | string;
}

/** The parts of a well-formed `Authorization` header. */
export interface FleetAuthorization {
  readonly keyId: string;
  readonly timestamp: string;
  /** 64 lowercase hex characters. */
  readonly signature: string;
}

/** Hex SHA-256 of the raw body bytes (a string is taken as UTF-8). */
export function sha256Hex(body: Uint8Array | string): string {
  return createHash("sha256").update(body).digest("hex");
}

/** The exact text that is signed. */
export function fleetStringToSign(input: FleetSignatureInput): string {
  return `${input.method.toUpperCase()}\n${input.path}\n${input.timestamp}\n${sha256Hex(input.body)}`;
}

/** Hex HMAC-SHA256 of the string to sign under `secret`. */
export function computeFleetSignature(secret: string, input: FleetSignatureInput): string {
  return createHmac("sha256", secret).update(fleetStringToSign(input)).digest("hex");
}

/**
 * The `Authorization` header for one request. Sign every attempt afresh (a retry with the same
 * signature is refused as a replay); the default timestamp is now, in milliseconds.
 */
export function fleetAuthorizationHeader(request: {
  readonly keyId: string;
  readonly secret: string;
  readonly method: string;
  readonly path: string;
  readonly body: Uint8Array | string;
  readonly timestamp?: string;
}): string {
  const timestamp = request.timestamp ?? new Date().toISOString();
  const signature = computeFleetSignature(request.secret, { ...request, timestamp });
  return `${FLEET_SIGNATURE_ALGORITHM} KeyId=${request.keyId}, Timestamp=${timestamp}, Signature=${signature}`;
}

/**
 * Parses an `Authorization` header; `null` when it is absent, too long, of another scheme, or
 * misses / repeats / malforms one of `KeyId`, `Timestamp`, `Signature`. Parameter order is free.
 */
export function parseFleetAuthorization(header: unknown): FleetAuthorization | null {
  if (typeof header !== "string" || header.length > MAX_HEADER_LENGTH) return null;
  const space = header.indexOf(" ");
  if (space < 0 || header.slice(0, space).toUpperCase() !== FLEET_SIGNATURE_ALGORITHM) return null;
  const params = new Map<string, string>();
  for (const part of header.slice(space + 1).split(",")) {
    const item = part.trim();
    const equals = item.indexOf("=");
    if (equals <= 0) return null;
    const name = item.slice(0, equals).toLowerCase();
    if (params.has(name)) return null;
    params.set(name, item.slice(equals + 1));
  }
  const keyId = params.get("keyid");
  const timestamp = params.get("timestamp");
  const signature = params.get("signature")?.toLowerCase();
  if (params.size !== 3 || keyId === undefined || timestamp === undefined || signature === undefined) {
    return null;
  }
  if (
    !FLEET_KEY_ID_PATTERN.test(keyId) ||
    !SIGNATURE.test(signature) ||
    parseFleetTimestamp(timestamp) === null
  ) {
    return null;
  }
  return { keyId, timestamp, signature };
}

/** Milliseconds since the epoch of a signed timestamp (ISO-8601 UTC or epoch seconds), else `null`. */
export function parseFleetTimestamp(value: string): number | null {
  if (ISO_UTC.test(value)) {
    const ms = Date.parse(value);
    return Number.isNaN(ms) ? null : ms;
  }
  if (EPOCH_SECONDS.test(value)) return Math.round(Number(value) * 1000);
  return null;
}
