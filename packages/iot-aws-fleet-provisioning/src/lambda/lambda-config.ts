/**
 * Configuration of the Lambda handlers from environment variables (AWS Lambda's usual way). Only
 * what the handlers need; nothing here reaches the host's configuration.
 *
 * | variable | default | meaning |
 * |---|---|---|
 * | `GRANIT_FLEET_URL` | required | base URL of the fleet endpoints, e.g. `https://iot.example.com/api/iot/fleet-provisioning` |
 * | `GRANIT_FLEET_KEY_ID` | required | the tenant's fleet key id |
 * | `GRANIT_FLEET_KEY_SECRET` | — | the fleet key secret, or: |
 * | `GRANIT_FLEET_KEY_SECRET_ARN` | — | a Secrets Manager secret holding it (plain, or JSON `{"secret": "…"}`) |
 * | `GRANIT_FLEET_TIMEOUT_MS` | 2500 | budget of one hook call, 100–3000 (AWS allows the hook 5 s in all) |
 * | `GRANIT_FLEET_SERIAL_PARAMETER` | `SerialNumber` | the template parameter holding the serial |
 * | `GRANIT_FLEET_MODEL_ATTRIBUTE` | `model` | thing attribute read by the forwarder |
 * | `GRANIT_FLEET_FIRMWARE_ATTRIBUTE` | `firmwareVersion` | thing attribute read by the forwarder |
 * | `GRANIT_FLEET_CLAIM_ATTRIBUTE` | `claimCertificateId` | thing attribute read by the forwarder |
 * | `GRANIT_FLEET_LABEL_ATTRIBUTE` | `label` | thing attribute read by the forwarder |
 * | `GRANIT_FLEET_DEFAULT_MODEL` / `GRANIT_FLEET_DEFAULT_FIRMWARE` | — | used when the attribute is absent |
 * | `GRANIT_FLEET_PRINCIPAL_WAIT_MS` | 5000 | how long the forwarder waits for the certificate to be attached |
 */

/** A missing or invalid variable; the hook denies, the forwarder fails (Lambda retries / DLQ). */
export class FleetLambdaConfigError extends Error {
  override readonly name = "FleetLambdaConfigError";
}

/** Names of the thing attributes the registration forwarder reads. */
export interface ThingAttributeNames {
  readonly model: string;
  readonly firmwareVersion: string;
  readonly claimCertificateId: string;
  readonly label: string;
}

export interface FleetLambdaConfig {
  readonly url: string;
  readonly keyId: string;
  readonly secret: string | null;
  readonly secretArn: string | null;
  readonly timeoutMs: number;
  readonly serialParameter: string;
  readonly attributes: ThingAttributeNames;
  readonly defaultModel: string | null;
  readonly defaultFirmwareVersion: string | null;
  readonly principalWaitMs: number;
}

/** The longest a hook call may take: well under AWS's 5 s, leaving room for the Lambda's own start. */
export const MAX_HOOK_TIMEOUT_MS = 3000;

export const DEFAULT_THING_ATTRIBUTES: ThingAttributeNames = Object.freeze({
  model: "model",
  firmwareVersion: "firmwareVersion",
  claimCertificateId: "claimCertificateId",
  label: "label",
});

/** Reads and checks the variables; throws `FleetLambdaConfigError` naming the first bad one. */
export function fleetLambdaConfigFromEnv(
  env: Readonly<Record<string, string | undefined>> = process.env,
): FleetLambdaConfig {
  const text = (name: string): string | null => {
    const value = env[name]?.trim();
    return value ? value : null;
  };
  const required = (name: string): string => {
    const value = text(name);
    if (!value) throw new FleetLambdaConfigError(`${name} is required.`);
    return value;
  };
  const integer = (name: string, fallback: number, min: number, max: number): number => {
    const value = text(name);
    if (value === null) return fallback;
    const n = Number(value);
    if (!Number.isInteger(n) || n < min || n > max) {
      throw new FleetLambdaConfigError(`${name} must be an integer from ${min} to ${max}.`);
    }
    return n;
  };
  const url = required("GRANIT_FLEET_URL");
  try {
    const parsed = new URL(url);
    if (parsed.protocol !== "https:" && parsed.protocol !== "http:") throw new Error("scheme");
  } catch {
    throw new FleetLambdaConfigError("GRANIT_FLEET_URL must be an http(s) URL.");
  }
  const secret = text("GRANIT_FLEET_KEY_SECRET");
  const secretArn = text("GRANIT_FLEET_KEY_SECRET_ARN");
  if (!secret && !secretArn) {
    throw new FleetLambdaConfigError("Set GRANIT_FLEET_KEY_SECRET or GRANIT_FLEET_KEY_SECRET_ARN.");
  }
  return {
    url: url.replace(/\/+$/, ""),
    keyId: required("GRANIT_FLEET_KEY_ID"),
    secret,
    secretArn,
    timeoutMs: integer("GRANIT_FLEET_TIMEOUT_MS", 2500, 100, MAX_HOOK_TIMEOUT_MS),
    serialParameter: text("GRANIT_FLEET_SERIAL_PARAMETER") ?? "SerialNumber",
    attributes: {
      model: text("GRANIT_FLEET_MODEL_ATTRIBUTE") ?? DEFAULT_THING_ATTRIBUTES.model,
      firmwareVersion: text("GRANIT_FLEET_FIRMWARE_ATTRIBUTE") ?? DEFAULT_THING_ATTRIBUTES.firmwareVersion,
      claimCertificateId: text("GRANIT_FLEET_CLAIM_ATTRIBUTE") ?? DEFAULT_THING_ATTRIBUTES.claimCertificateId,
      label: text("GRANIT_FLEET_LABEL_ATTRIBUTE") ?? DEFAULT_THING_ATTRIBUTES.label,
    },
    defaultModel: text("GRANIT_FLEET_DEFAULT_MODEL"),
    defaultFirmwareVersion: text("GRANIT_FLEET_DEFAULT_FIRMWARE"),
    principalWaitMs: integer("GRANIT_FLEET_PRINCIPAL_WAIT_MS", 5000, 0, 60_000),
  };
}
