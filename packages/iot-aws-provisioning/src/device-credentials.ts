/**
 * What the saga stores in a device's Secrets Manager secret (`SecretNameTemplate`), and how a device
 * factory reads it back. Canonical JSON (keys sorted), so the same content is always the same bytes
 * and a replayed write with the same `ClientRequestToken` is "the same value" for AWS.
 *
 * 1. Escrow (`KeyEscrowed`), version id = the binding id: the private key and the CSR, written
 *    before any certificate exists.
 * 2. Complete (`SecretStored`), version id = the certificate id: the same plus the certificate ARN,
 *    id and PEM — everything a device factory flashes onto the device.
 *
 * @see https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_PutSecretValue.html
 */
import { canonicalJson } from "@granit/iot-aws";

/** The `schema` field of every payload this package writes. */
export const DEVICE_CREDENTIALS_SCHEMA = "granit.iot.device-credentials/v1";

/** Escrow payload: the device's key, before a certificate exists. */
export interface EscrowedDeviceKey {
  readonly schema: typeof DEVICE_CREDENTIALS_SCHEMA;
  /** The binding that generated the key; a replay reuses a key only when this is its own id. */
  readonly bindingId: string;
  readonly thingName: string;
  /** PKCS#8 PEM, ECDSA P-256. */
  readonly privateKeyPem: string;
  readonly certificateSigningRequestPem: string;
}

/** Complete payload: what a device needs to connect to AWS IoT Core (mutual TLS, client id = thing name). */
export interface DeviceCredentials extends EscrowedDeviceKey {
  readonly certificateArn: string;
  readonly certificateId: string;
  readonly certificatePem: string;
}

/** The JSON written to Secrets Manager (canonical: sorted keys, no whitespace). */
export function serializeDeviceCredentials(value: EscrowedDeviceKey | DeviceCredentials): string {
  return canonicalJson({ ...value });
}

/**
 * Reads a secret value written by this package; `null` when it is not one (a foreign or malformed
 * secret). Check `isCompleteDeviceCredentials` before using the certificate fields.
 */
export function parseDeviceCredentials(
  secretString: string | null,
): EscrowedDeviceKey | DeviceCredentials | null {
  if (!secretString) return null;
  let value: unknown;
  try {
    value = JSON.parse(secretString);
  } catch {
    return null;
  }
  if (!value || typeof value !== "object") return null;
  const v = value as Record<string, unknown>;
  const text = (key: string) => typeof v[key] === "string" && (v[key] as string).length > 0;
  if (v.schema !== DEVICE_CREDENTIALS_SCHEMA) return null;
  if (
    !text("bindingId") ||
    !text("thingName") ||
    !text("privateKeyPem") ||
    !text("certificateSigningRequestPem")
  ) {
    return null;
  }
  const escrow: EscrowedDeviceKey = {
    schema: DEVICE_CREDENTIALS_SCHEMA,
    bindingId: v.bindingId as string,
    thingName: v.thingName as string,
    privateKeyPem: v.privateKeyPem as string,
    certificateSigningRequestPem: v.certificateSigningRequestPem as string,
  };
  if (!text("certificateArn") || !text("certificateId") || !text("certificatePem")) return escrow;
  return {
    ...escrow,
    certificateArn: v.certificateArn as string,
    certificateId: v.certificateId as string,
    certificatePem: v.certificatePem as string,
  };
}

/** True when the payload holds the certificate too (written at `SecretStored`). */
export function isCompleteDeviceCredentials(
  value: EscrowedDeviceKey | DeviceCredentials | null,
): value is DeviceCredentials {
  return value !== null && "certificateArn" in value;
}
