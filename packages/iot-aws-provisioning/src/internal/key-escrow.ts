/**
 * Escrow of the device key in Secrets Manager, before any certificate exists: the one place a key is
 * generated, and the rule that makes a replay reuse it — a secret whose payload names this binding
 * holds *the* key of this binding; nobody generates a second one.
 *
 * Writes carry `ClientRequestToken` = the binding id, and the same run always sends the same bytes,
 * so an SDK-level retry of a write that did reach AWS is "the same version" (ignored). A refused
 * write (token or name taken — ResourceExistsException on AWS, InvalidRequestException elsewhere)
 * is never answered with a new key: the secret is read again, current version and the version of
 * our token, and our key is taken from there.
 *
 * @see https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_CreateSecret.html
 */
import type { AwsThingBinding } from "@granit/iot-aws";
import {
  DEVICE_CREDENTIALS_SCHEMA,
  type EscrowedDeviceKey,
  parseDeviceCredentials,
  serializeDeviceCredentials,
} from "../device-credentials.ts";
import { ProvisioningStepFailedError } from "../errors.ts";
import { secretNameOf } from "../options.ts";
import type { CallContext, SecretValue } from "./aws-api.ts";
import { isScheduledForDeletion, isVersionOrNameTaken } from "./aws-errors.ts";
import { type GeneratedDeviceKey, generateDeviceKey } from "./device-key.ts";
import type { ProvisioningRuntime } from "./runtime.ts";

/** The escrowed key and where it lives. */
export interface EscrowedKey {
  readonly secretArn: string;
  readonly key: EscrowedDeviceKey;
  /** True when this call wrote the secret (false: a replay found our key already there). */
  readonly written: boolean;
  /** The key's public half (DER SPKI) when this call generated it; a reused key derives it again. */
  readonly publicKeySpki?: Buffer;
}

export function secretNameOfBinding(runtime: ProvisioningRuntime, binding: AwsThingBinding): string {
  return secretNameOf(runtime.options.secretNameTemplate, binding.thingName.value);
}

function ours(binding: AwsThingBinding, value: SecretValue | null): EscrowedDeviceKey | null {
  const payload = parseDeviceCredentials(value?.secretString ?? null);
  return payload && payload.bindingId === binding.id && payload.thingName === binding.thingName.value
    ? payload
    : null;
}

function scheduledForDeletion(
  binding: AwsThingBinding,
  name: string,
  cause: unknown,
): ProvisioningStepFailedError {
  return new ProvisioningStepFailedError(
    `The device secret '${name}' of thing '${binding.thingName.value}' is scheduled for deletion (a previous device with this serial was decommissioned with a recovery window). Restore it (RestoreSecret) or wait until the window ends, then retry the binding.`,
    { cause },
  );
}

/** What a look at the device secret found: its current version, and our key if it holds one. */
export interface SecretLookup {
  readonly current: SecretValue | null;
  readonly key: EscrowedDeviceKey | null;
}

/** Reads the secret (current version, then the version our token wrote); our key or `null`. */
export async function readOurs(
  runtime: ProvisioningRuntime,
  binding: AwsThingBinding,
  secretId: string,
  ctx: CallContext,
): Promise<SecretLookup> {
  let current: SecretValue | null;
  try {
    current = await runtime.api.getSecretValue(secretId, ctx);
  } catch (error) {
    if (isScheduledForDeletion(error)) throw scheduledForDeletion(binding, secretId, error);
    throw error;
  }
  const key = ours(binding, current);
  if (key || !current) return { current, key };
  const byToken = await runtime.api.getSecretValue(secretId, ctx, binding.id);
  return { current, key: ours(binding, byToken) };
}

/**
 * Makes sure the secret holds a key of this binding and returns it: reuses one already there,
 * otherwise generates a key pair + CSR and writes it (CreateSecret, or PutSecretValue over a
 * leftover secret of an earlier device with the same thing name). `ahead` carries work started
 * while the thing step ran: a drafted key pair + CSR (used only when no key of this binding exists
 * yet) and the first look at the secret (a read, so starting it early changes nothing on a crash).
 */
export async function escrowKey(
  runtime: ProvisioningRuntime,
  binding: AwsThingBinding,
  ctx: CallContext,
  ahead: { readonly draft?: Promise<GeneratedDeviceKey>; readonly lookup?: Promise<SecretLookup> } = {},
): Promise<EscrowedKey> {
  const name = secretNameOfBinding(runtime, binding);
  let fresh: EscrowedDeviceKey | undefined;
  let publicKeySpki: Buffer | undefined;
  for (let round = 0; round < 3; round++) {
    const { current, key } =
      round === 0 && ahead.lookup ? await ahead.lookup : await readOurs(runtime, binding, name, ctx);
    if (round === 0) runtime.crashPoint("key:after-lookup", binding.deviceId);
    if (key && current) return { secretArn: current.arn, key, written: false };
    // Generated once per run: every write of this run carries the same bytes under the same token.
    if (!fresh) {
      const generated = await (ahead.draft ?? generateDeviceKey(binding.thingName.value));
      publicKeySpki = generated.publicKeySpki;
      fresh = {
        schema: DEVICE_CREDENTIALS_SCHEMA,
        bindingId: binding.id,
        thingName: binding.thingName.value,
        privateKeyPem: generated.privateKeyPem,
        certificateSigningRequestPem: generated.certificateSigningRequestPem,
      };
    }
    const secretString = serializeDeviceCredentials(fresh);
    try {
      const secretArn = current
        ? await runtime.api.putSecretValue({ secretId: current.arn, secretString, token: binding.id }, ctx)
        : await runtime.api.createSecret(
            { name, secretString, token: binding.id, kmsKeyId: runtime.options.secretKmsKeyId },
            ctx,
          );
      return { secretArn, key: fresh, written: true, publicKeySpki };
    } catch (error) {
      if (isScheduledForDeletion(error)) throw scheduledForDeletion(binding, name, error);
      if (!isVersionOrNameTaken(error)) throw error;
      runtime.logger.warn(
        { deviceId: binding.deviceId, bindingId: binding.id, secretName: name, round },
        "device secret changed under the saga; reading it again",
      );
    }
  }
  throw new Error(`The device secret '${name}' keeps changing under the saga; retrying later.`);
}

/** The key escrowed for this binding (the recorded secret), or a `ProvisioningStepFailedError`. */
export async function loadEscrowedKey(
  runtime: ProvisioningRuntime,
  binding: AwsThingBinding,
  ctx: CallContext,
): Promise<{ current: SecretValue; key: EscrowedDeviceKey }> {
  const secretId = binding.certificateSecretArn ?? secretNameOfBinding(runtime, binding);
  const { current, key } = await readOurs(runtime, binding, secretId, ctx);
  if (!current || !key) {
    throw new ProvisioningStepFailedError(
      `The escrowed key of thing '${binding.thingName.value}' is no longer in its secret '${secretId}' (deleted or overwritten outside the bridge). Decommission the device and provision it again.`,
    );
  }
  return { current, key };
}
