/**
 * Tearing down a device's AWS resources, from any binding state (Pending, Failed, half-provisioned,
 * Active) and idempotently (a second run, or a run after a crash half-way, finds less to do and ends
 * in the same state): for each certificate of the thing — DetachThingPrincipal → DetachPolicy →
 * UpdateCertificate(INACTIVE) → DeleteCertificate — then DeleteSecret, then DeleteThing. "Not
 * found" everywhere means "already done".
 *
 * AWS detaches asynchronously ("it might take several seconds for the detachment to propagate"), so
 * the deletes that a lingering attachment blocks are retried with jittered backoff up to
 * `TeardownMaxWaitSeconds`; past that a `TeardownIncompleteError` lets the bus redeliver.
 *
 * @see https://docs.aws.amazon.com/iot/latest/apireference/API_DetachThingPrincipal.html
 * @see https://docs.aws.amazon.com/iot/latest/apireference/API_DeleteCertificate.html
 */
import { type AwsThingBinding, parseCertificateArn, parseSecretArn } from "@granit/iot-aws";
import { TeardownIncompleteError } from "../errors.ts";
import { secretNameOf } from "../options.ts";
import type { CallContext } from "./aws-api.ts";
import { awsErrorNamed, isScheduledForDeletion, isStillAttached } from "./aws-errors.ts";
import { findCertificatesToTearDown } from "./certificate-search.ts";
import { certificateCommonName, certificateHasKey, publicKeyOfPrivateKey } from "./device-key.ts";
import { loadEscrowedKey, secretNameOfBinding } from "./key-escrow.ts";
import { type ProvisioningRuntime, sleep } from "./runtime.ts";

/** What to tear down: a binding's resources, or a bare thing the reconciler found without binding. */
export interface TeardownTarget {
  readonly thingName: string;
  /** For the crash hook and logs; `null` for a thing without binding. */
  readonly deviceId: string | null;
  readonly binding: AwsThingBinding | null;
}

/** What a teardown removed (for logs and the reconcile report). */
export interface TeardownSummary {
  readonly certificatesDeleted: number;
  readonly principalsDetached: number;
}

const MAX_BACKOFF_MS = 5000;

export async function teardown(
  rt: ProvisioningRuntime,
  target: TeardownTarget,
  ctx: CallContext,
): Promise<TeardownSummary> {
  const { binding, thingName } = target;
  const crash = (point: Parameters<ProvisioningRuntime["crashPoint"]>[0]) =>
    rt.crashPoint(point, target.deviceId ?? thingName);
  const owned = new Set<string>();
  if (binding?.certificateArn) owned.add(binding.certificateArn);

  const principals = ((await rt.api.listThingPrincipals(thingName, ctx)) ?? []).filter(isCertificateArn);
  const unknown = principals.filter((p) => !owned.has(p));
  const searchRequested =
    binding !== null && binding.certificateRequestedAt !== null && !binding.certificateArn;
  const spki = binding && (unknown.length > 0 || searchRequested) ? await keyOf(rt, binding, ctx) : null;

  const foreign: string[] = [];
  for (const principal of unknown) {
    const described = await rt.api.describeCertificate(parseCertificateArn(principal).certificateId, ctx);
    if (!described) continue; // deleted meanwhile: only the attachment record lingers
    const ours =
      (spki !== null && certificateHasKey(described.pem, spki)) ||
      certificateCommonName(described.pem) === thingName;
    if (ours) owned.add(principal);
    else foreign.push(principal);
  }
  if (binding && searchRequested) {
    for (const found of await findCertificatesToTearDown(rt, binding, spki, ctx)) owned.add(found.arn);
  }

  for (const certificateArn of owned) await removeCertificate(rt, thingName, certificateArn, ctx, crash);
  for (const principal of foreign) {
    // Not made by the bridge (an operator attached it): detach it, leave it alive.
    await ignoreNotFound(rt.api.detachThingPrincipal(thingName, principal, ctx));
  }

  await deleteSecret(rt, target, ctx);
  crash("decommission:after-delete-secret");
  await untilDetached(rt, "DeleteThing", thingName, ctx, () => rt.api.deleteThing(thingName, ctx));
  crash("decommission:after-delete-thing");
  return { certificatesDeleted: owned.size, principalsDetached: foreign.length };
}

/** DetachThingPrincipal → DetachPolicy → INACTIVE → DeleteCertificate (retried while still attached). */
export async function removeCertificate(
  rt: ProvisioningRuntime,
  thingName: string | null,
  certificateArn: string,
  ctx: CallContext,
  crash: (point: "decommission:after-detach" | "decommission:after-delete-certificate") => void = () => {},
): Promise<void> {
  const certificateId = parseCertificateArn(certificateArn).certificateId;
  if (thingName) await ignoreNotFound(rt.api.detachThingPrincipal(thingName, certificateArn, ctx));
  await ignoreNotFound(rt.api.detachPolicy(rt.options.devicePolicyName, certificateArn, ctx));
  crash("decommission:after-detach");
  try {
    await rt.api.updateCertificate(certificateId, "INACTIVE", ctx);
  } catch (error) {
    if (awsErrorNamed(error, "ResourceNotFoundException")) return; // already deleted
    if (!awsErrorNamed(error, "CertificateStateException")) throw error; // e.g. REVOKED: deletable as is
  }
  await untilDetached(rt, "DeleteCertificate", certificateArn, ctx, () =>
    ignoreNotFound(rt.api.deleteCertificate(certificateId, ctx)),
  );
  crash("decommission:after-delete-certificate");
}

/**
 * The device secret: the template name of the thing (the saga may have created it before its
 * checkpoint), or the recorded ARN when it is that secret. A recorded ARN naming another secret
 * (fleet provisioning may record a shared placeholder) is left alone.
 */
async function deleteSecret(
  rt: ProvisioningRuntime,
  target: TeardownTarget,
  ctx: CallContext,
): Promise<void> {
  const name = target.binding
    ? secretNameOfBinding(rt, target.binding)
    : secretNameOf(rt.options.secretNameTemplate, target.thingName);
  const recorded = target.binding?.certificateSecretArn ?? null;
  const secretId = recorded && parseSecretArn(recorded).secretName === name ? recorded : name;
  try {
    await rt.api.deleteSecret(secretId, rt.options.secretRecoveryWindowInDays, ctx);
  } catch (error) {
    if (awsErrorNamed(error, "ResourceNotFoundException") || isScheduledForDeletion(error)) return;
    throw error;
  }
}

async function keyOf(
  rt: ProvisioningRuntime,
  binding: AwsThingBinding,
  ctx: CallContext,
): Promise<Buffer | null> {
  if (!binding.certificateSecretArn) return null;
  try {
    return publicKeyOfPrivateKey((await loadEscrowedKey(rt, binding, ctx)).key.privateKeyPem);
  } catch (error) {
    rt.logger.warn(
      { deviceId: binding.deviceId, bindingId: binding.id, error: (error as Error).name },
      "escrowed key unreadable during teardown; certificates are recognised by their subject only",
    );
    return null;
  }
}

/** Retries `work` while AWS still sees a detached attachment, with equal-jitter backoff, up to the bound. */
async function untilDetached(
  rt: ProvisioningRuntime,
  operation: string,
  resource: string,
  ctx: CallContext,
  work: () => Promise<void>,
): Promise<void> {
  const started = rt.scheduler.now();
  const deadline = started + rt.options.teardownMaxWaitSeconds * 1000;
  for (let attempt = 0; ; attempt++) {
    try {
      await work();
      return;
    } catch (error) {
      if (!isStillAttached(error)) throw error;
      const now = rt.scheduler.now();
      if (now >= deadline)
        throw new TeardownIncompleteError(operation, resource, now - started, { cause: error });
      const exponential = Math.min(MAX_BACKOFF_MS, rt.options.teardownBaseDelayMilliseconds * 2 ** attempt);
      const delay = Math.min(deadline - now, exponential / 2 + rt.random() * (exponential / 2));
      await sleep(rt, delay, ctx.signal);
    }
  }
}

async function ignoreNotFound(work: Promise<void>): Promise<void> {
  try {
    await work;
  } catch (error) {
    if (!awsErrorNamed(error, "ResourceNotFoundException")) throw error;
  }
}

function isCertificateArn(principal: string): boolean {
  try {
    parseCertificateArn(principal);
    return true;
  } catch {
    return false;
  }
}
