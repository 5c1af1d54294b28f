/**
 * The provisioning saga of one device: Pending → ThingCreated (+ intent) → KeyEscrowed → CertIssued
 * → SecretStored → Active. Every AWS call is followed by its checkpoint (an optimistic binding
 * update). The next call overlaps that commit, because a replay without the record reaches the same
 * end (it finds the thing, our escrowed key, the certificate made from it, the complete secret):
 * the one ordering that matters — the intent durable before CreateCertificateFromCsr, CertIssued
 * durable before UpdateCertificate(ACTIVE) — is kept by waiting for the previous commit before
 * starting the next. Every run holds the device's `BindingLock`, so a redelivery or a
 * second host never runs it twice at once. A run starts from whatever checkpoint the binding holds,
 * so a crash anywhere is resumed by the next delivery; see the README's proof sketch.
 *
 * Errors: retryable ones (throttling beyond the call budget, 5xx, timeouts, a busy lock) are thrown
 * to the bus and leave the binding at its checkpoint; causes a retry cannot cure mark it `Failed`
 * with a reason an operator can act on, and the run ends normally (no dead letter).
 */
import {
  ALL_TENANTS,
  ConcurrencyConflictError,
  type Device,
  DeviceStatus,
  DuplicateKeyError,
  InvalidStatusTransitionError,
} from "@granit/iot";
import { AwsThingBinding, ProvisioningStatus, parseCertificateArn, ThingName } from "@granit/iot-aws";
import {
  type DeviceCredentials,
  type EscrowedDeviceKey,
  isCompleteDeviceCredentials,
  parseDeviceCredentials,
  serializeDeviceCredentials,
} from "../device-credentials.ts";
import {
  BindingBusyError,
  CertificateRequestOutcomeUnknownError,
  ProvisioningStepFailedError,
  ThingNameTakenError,
} from "../errors.ts";
import { type CallContext, type IssuedCertificate, operationOf } from "./aws-api.ts";
import { failureReasonOf, isRetryable, isVersionOrNameTaken } from "./aws-errors.ts";
import { findCertificateOfKey } from "./certificate-search.ts";
import {
  canonicalCertificatePem,
  canonicalCertificateWithKey,
  type GeneratedDeviceKey,
  generateDeviceKey,
  publicKeyOfPrivateKey,
} from "./device-key.ts";
import {
  escrowKey,
  loadEscrowedKey,
  readOurs,
  type SecretLookup,
  secretNameOfBinding,
} from "./key-escrow.ts";
import { redact } from "./redact.ts";
import { bindingFields, callContext, change, type ProvisioningRuntime } from "./runtime.ts";

/** How a saga run ended (the bus only sees "returned" or "threw"). */
export type ProvisioningOutcome =
  /** The binding reached Active in this run. */
  | "activated"
  /** Already Active (or created Active by fleet provisioning): nothing to do. */
  | "already-active"
  /** The binding is Failed: this run recorded it, or it waits for an operator retry. */
  | "failed"
  /** The binding was decommissioned: nothing to do. */
  | "decommissioned"
  /** The device no longer exists or is decommissioned and has no binding: nothing to do. */
  | "device-gone";

/** What one run carries from step to step (so a fresh run needs no extra reads). */
interface RunState {
  key?: EscrowedDeviceKey;
  /** The key's public half (DER SPKI), when this run generated the key. */
  publicKeySpki?: Buffer;
  /** The certificate this run issued or adopted, its PEM canonical (`canonicalCertificatePem`). */
  certificate?: IssuedCertificate;
  /** A key pair + CSR generated while the reservation commits (CPU work off the critical path). */
  draft?: Promise<GeneratedDeviceKey>;
  /** The first look at the device secret, sent while the ThingCreated checkpoint commits. */
  lookup?: Promise<SecretLookup>;
  /** The intent was recorded by this run, so no certificate can exist yet: no search needed. */
  intentRecordedInThisRun?: boolean;
  /**
   * A checkpoint still committing while the next step's AWS calls are in flight (ThingCreated under
   * the escrow, KeyEscrowed under CreateCertificateFromCsr + AttachThingPrincipal, CertIssued under
   * PutSecretValue + AttachPolicy, SecretStored under UpdateCertificate): those calls are safe
   * without the record, so they need not wait for it. The next checkpoint (a write of the same row)
   * awaits it first; see the README's proof sketch.
   */
  committing?: Promise<void>;
  /** AttachPolicy, sent by the secret step while CertIssued commits; #activate awaits it. */
  policyAttached?: Promise<void>;
  /** Lets the device's lock go early (`BindingLock.tryRun`): sent with the Active write. */
  releaseLock: () => void;
}

type StepName = "reserve" | "thing" | "key" | "certificate" | "secret" | "activate";

const CONFLICT_RELOADS = 3;
/** How often one run asks again after CreateCertificateFromCsr failed without telling the outcome. */
const OUTCOME_UNKNOWN_RETRIES = 3;

export class ProvisioningSaga {
  readonly #rt: ProvisioningRuntime;

  constructor(runtime: ProvisioningRuntime) {
    this.#rt = runtime;
  }

  /** One run for `deviceId`; throws `BindingBusyError` (retryable) when another run holds the device. */
  async run(deviceId: string, signal?: AbortSignal): Promise<ProvisioningOutcome> {
    const id = deviceId.toLowerCase();
    // The device is read while the lock is being taken (one round trip instead of two): what the
    // binding takes from it (tenant, serial number) never changes, and the reservation checks again,
    // under the lock, that the device is still live.
    const device = this.#rt.devices.findById(id, ALL_TENANTS);
    device.catch(() => {}); // surfaces in #reserve; unused when the lock is busy
    const result = await this.#rt.lock.tryRun(id, (lockSignal, release) =>
      this.#runLocked(id, device, signal ? AbortSignal.any([signal, lockSignal]) : lockSignal, release),
    );
    if (!result.acquired) throw new BindingBusyError(id);
    return result.value;
  }

  async #runLocked(
    deviceId: string,
    device: Promise<Device | null>,
    signal: AbortSignal,
    release: () => void,
  ): Promise<ProvisioningOutcome> {
    const reserved = await this.#reserve(deviceId, device);
    if (typeof reserved === "string") return reserved;
    let binding = reserved.binding;
    for (let reload = 0; ; reload++) {
      try {
        return await this.#advance(binding, signal, release, reserved.draft);
      } catch (error) {
        if (error instanceof ConcurrencyConflictError && reload < CONFLICT_RELOADS) {
          // Someone else moved the binding (an operator, a decommission that ran meanwhile on a
          // lost lock): re-evaluate from what is stored now.
          const fresh = await this.#rt.bindings.findByDevice(deviceId, ALL_TENANTS);
          if (!fresh) return "decommissioned";
          binding = fresh;
          continue;
        }
        return await this.#onError(deviceId, binding, error);
      }
    }
  }

  /**
   * Step 1: the binding, reserved (Pending) in the database before any AWS call. The reservation
   * inserts only while the device is live, checked in its own statement, under the lock: a
   * decommission's teardown takes the lock too, so a device that is live then is torn down after
   * this run, and one decommissioned before is never reserved (however early `device` was read).
   */
  async #reserve(
    deviceId: string,
    read: Promise<Device | null>,
  ): Promise<{ binding: AwsThingBinding; draft?: Promise<GeneratedDeviceKey> } | ProvisioningOutcome> {
    const rt = this.#rt;
    const device = await read;
    if (!device || device.status === DeviceStatus.Decommissioned) {
      const existing = await rt.bindings.findByDevice(deviceId, ALL_TENANTS);
      if (existing) return { binding: existing }; // its status decides (a teardown is queued for it)
      return this.#deviceGone(deviceId, device?.status ?? null);
    }
    const started = rt.clock.now().getTime();
    const fresh = this.#newBinding(device);
    // The key pair + CSR the escrow step will need, made while the reservation commits (the event
    // loop is idle then); a redelivery that finds its key already escrowed just drops it.
    const draft = generateDeviceKey(fresh.thingName.value);
    draft.catch(() => {}); // surfaces (if ever) when the escrow step awaits it
    let binding: AwsThingBinding | null;
    try {
      binding = await rt.bindings.reserve(fresh);
    } catch (error) {
      if (error instanceof DuplicateKeyError && error.key === "thingName") {
        throw new ThingNameTakenError(fresh.thingName.value, { cause: error });
      }
      throw error;
    }
    if (binding === null) return this.#deviceGone(deviceId, null);
    if (binding !== fresh) return { binding, draft }; // reserved earlier (a redelivery), or by another host first
    rt.metrics.stepDuration(binding.tenantId, "reserve", "success", rt.clock.now().getTime() - started);
    rt.logger.info({ ...bindingFields(binding), step: "reserve" }, "binding reserved (Pending)");
    rt.crashPoint("reserve:after-checkpoint", deviceId);
    return { binding, draft };
  }

  #deviceGone(deviceId: string, deviceStatus: string | null): ProvisioningOutcome {
    this.#rt.logger.info(
      { deviceId, deviceStatus },
      "device deleted or decommissioned before its provisioning ran; nothing to provision",
    );
    return "device-gone";
  }

  #newBinding(device: Device): AwsThingBinding {
    return AwsThingBinding.create(
      {
        deviceId: device.id,
        tenantId: device.tenantId,
        thingName: ThingName.from(device.tenantId, device.serialNumber),
      },
      change(this.#rt),
    );
  }

  /** Steps 2–5 from the binding's checkpoint. */
  async #advance(
    binding: AwsThingBinding,
    signal: AbortSignal,
    release: () => void,
    draft?: Promise<GeneratedDeviceKey>,
  ): Promise<ProvisioningOutcome> {
    const rt = this.#rt;
    const status = binding.provisioningStatus;
    if (binding.provisionedViaJitp || status === ProvisioningStatus.Active) return "already-active";
    if (status === ProvisioningStatus.Decommissioned) return "decommissioned";
    if (status === ProvisioningStatus.Failed) {
      rt.logger.info(
        { ...bindingFields(binding), failureReason: binding.failureReason },
        "binding is Failed; waiting for an operator retry",
      );
      return "failed";
    }
    const ctx = callContext(binding.tenantId, signal);
    const state: RunState = { releaseLock: release };
    try {
      return await this.#advanceFrom(binding, ctx, state, draft);
    } catch (error) {
      // A step failed while the previous checkpoint was still committing (or AttachPolicy was in
      // flight): let them settle, so the caller's reload or Failed write sees the row as this run
      // left it, and no call of this run is still out once the lock is released.
      await Promise.allSettled([state.committing, state.policyAttached]);
      throw error;
    }
  }

  async #advanceFrom(
    binding: AwsThingBinding,
    ctx: CallContext,
    state: RunState,
    draft?: Promise<GeneratedDeviceKey>,
  ): Promise<ProvisioningOutcome> {
    const status = binding.provisioningStatus;
    if (status === ProvisioningStatus.Pending || status === ProvisioningStatus.ThingCreated) {
      state.draft = draft ?? generateDeviceKey(binding.thingName.value);
      state.draft.catch(() => {}); // surfaces (if ever) when the escrow step awaits it
    }
    if (binding.provisioningStatus === ProvisioningStatus.Pending) {
      await this.#step(binding, "thing", () => this.#ensureThing(binding, ctx, state));
    }
    if (binding.provisioningStatus === ProvisioningStatus.ThingCreated) {
      await this.#step(binding, "key", () => this.#ensureKeyEscrowed(binding, ctx, state));
    }
    if (binding.provisioningStatus === ProvisioningStatus.KeyEscrowed) {
      await this.#step(binding, "certificate", () => this.#ensureCertificate(binding, ctx, state));
    }
    if (binding.provisioningStatus === ProvisioningStatus.CertIssued) {
      await this.#step(binding, "secret", () => this.#storeCertificate(binding, ctx, state));
    }
    if (binding.provisioningStatus === ProvisioningStatus.SecretStored) {
      await this.#step(binding, "activate", () => this.#activate(binding, ctx, state));
    }
    return "activated";
  }

  /**
   * Starts a checkpoint the next step's AWS calls may overlap; that step awaits it (`#committed`).
   * The write starts on the next turn of the event loop, once the request the step sends next is on
   * the wire: AWS works on it while this process builds and sends the write, instead of after.
   */
  #commitInBackground(state: RunState, commit: () => Promise<void>): void {
    const committing = new Promise<void>((resolve) => setImmediate(resolve)).then(commit);
    state.committing = committing;
    committing.catch(() => {}); // surfaces in #committed, or #advance lets it settle on an error
  }

  /** Waits for the checkpoint started by the previous step (throws what it threw). */
  async #committed(state: RunState): Promise<void> {
    const committing = state.committing;
    state.committing = undefined;
    await committing;
  }

  async #step(binding: AwsThingBinding, step: StepName, work: () => Promise<void>): Promise<void> {
    const rt = this.#rt;
    const started = rt.clock.now().getTime();
    let outcome = "error";
    try {
      await work();
      outcome = "success";
    } finally {
      rt.metrics.stepDuration(binding.tenantId, step, outcome, rt.clock.now().getTime() - started);
    }
  }

  /** Writes a checkpoint (optimistic) and logs the transition. */
  async #checkpoint(binding: AwsThingBinding, from: ProvisioningStatus, step: StepName, extra = {}) {
    await this.#rt.bindings.update(binding);
    this.#rt.logger.info(
      { ...bindingFields(binding), from, to: binding.provisioningStatus, step, ...extra },
      `binding ${from} → ${binding.provisioningStatus}`,
    );
  }

  /** Step 3: the thing — DescribeThing first, CreateThing only when it does not exist. */
  async #ensureThing(binding: AwsThingBinding, ctx: CallContext, state: RunState): Promise<void> {
    const rt = this.#rt;
    const name = binding.thingName.value;
    let thingArn = await rt.api.describeThing(name, ctx);
    rt.crashPoint("thing:after-describe", binding.deviceId);
    const created = thingArn === null;
    if (thingArn === null) {
      thingArn = await rt.api.createThing(name, ctx);
      rt.metrics.thingCreated(binding.tenantId);
      rt.crashPoint("thing:before-checkpoint", binding.deviceId);
    }
    const from = binding.provisioningStatus;
    const at = change(rt);
    binding.recordThingCreated(thingArn, at);
    // The intent commits with the thing: the escrow then overlaps this commit, and the certificate
    // request (which needs the intent durable) overlaps the KeyEscrowed commit.
    state.intentRecordedInThisRun = binding.recordCertificateRequested(at);
    // The escrow step starts with a read of the secret: send it while the checkpoint commits.
    state.lookup = readOurs(rt, binding, secretNameOfBinding(rt, binding), ctx);
    state.lookup.catch(() => {}); // surfaces when the escrow step awaits it
    this.#commitInBackground(state, () =>
      this.#checkpoint(binding, from, "thing", {
        thingArn,
        thingCreated: created,
        certificateRequestedAt: binding.certificateRequestedAt,
      }).then(() => rt.crashPoint("thing:after-checkpoint", binding.deviceId)),
    );
  }

  /** Step 4a: the device key, generated locally and escrowed before any certificate exists. */
  async #ensureKeyEscrowed(binding: AwsThingBinding, ctx: CallContext, state: RunState): Promise<void> {
    const rt = this.#rt;
    const escrowed = await escrowKey(rt, binding, ctx, { draft: state.draft, lookup: state.lookup });
    if (escrowed.written) rt.crashPoint("key:before-checkpoint", binding.deviceId);
    state.key = escrowed.key;
    state.publicKeySpki = escrowed.publicKeySpki;
    await this.#committed(state); // ThingCreated + intent, overlapped by the escrow
    const from = binding.provisioningStatus;
    const at = change(rt);
    binding.recordKeyEscrowed(escrowed.secretArn, at);
    // A binding left at ThingCreated without the intent (by an earlier version of the saga) records
    // it here, and then the certificate request must wait for this commit.
    const intentNow = binding.recordCertificateRequested(at);
    state.intentRecordedInThisRun ||= intentNow;
    const commit = () =>
      this.#checkpoint(binding, from, "key", {
        secretArn: escrowed.secretArn,
        keyReused: !escrowed.written,
        certificateRequestedAt: binding.certificateRequestedAt,
      }).then(() => rt.crashPoint("key:after-checkpoint", binding.deviceId));
    if (intentNow) await commit();
    else this.#commitInBackground(state, commit);
  }

  /**
   * Step 4b: the certificate. Intent first; on a replay (intent recorded by an earlier run) adopt a
   * certificate made from our key before minting; mint INACTIVE; attach to the thing at once.
   */
  async #ensureCertificate(binding: AwsThingBinding, ctx: CallContext, state: RunState): Promise<void> {
    const rt = this.#rt;
    const key = state.key ?? (await loadEscrowedKey(rt, binding, ctx)).key;
    state.key = key;
    const spki = state.publicKeySpki ?? publicKeyOfPrivateKey(key.privateKeyPem);
    let searchFirst = binding.certificateRequestedAt !== null && !state.intentRecordedInThisRun;
    if (binding.certificateRequestedAt === null) {
      await this.#committed(state);
      binding.recordCertificateRequested(change(rt));
      await rt.bindings.update(binding);
      rt.logger.info(
        {
          ...bindingFields(binding),
          step: "certificate",
          certificateRequestedAt: binding.certificateRequestedAt,
        },
        "certificate request intent recorded",
      );
    }
    rt.crashPoint("certificate:after-intent", binding.deviceId);

    let certificate: IssuedCertificate | null = null;
    let source: "created" | "adopted" = "created";
    for (let attempt = 0; certificate === null; attempt++) {
      if (searchFirst) {
        certificate = await findCertificateOfKey(rt, binding, spki, ctx);
        if (certificate) {
          source = "adopted";
          rt.logger.info(
            { ...bindingFields(binding), certificateArn: certificate.arn },
            "adopted the certificate an earlier run made from the escrowed key",
          );
          rt.crashPoint("certificate:after-adopt", binding.deviceId);
          break;
        }
      }
      try {
        certificate = await rt.api.createCertificateFromCsr(key.certificateSigningRequestPem, ctx);
      } catch (error) {
        if (!(error instanceof CertificateRequestOutcomeUnknownError) || attempt >= OUTCOME_UNKNOWN_RETRIES) {
          throw error;
        }
        rt.logger.warn(
          { ...bindingFields(binding), attempt },
          "CreateCertificateFromCsr outcome unknown; looking for the certificate before asking again",
        );
        searchFirst = true;
        continue;
      }
      rt.crashPoint("certificate:after-create", binding.deviceId);
    }
    const canonicalPem = canonicalCertificateWithKey(certificate.pem, spki);
    if (canonicalPem === null) {
      throw new ProvisioningStepFailedError(
        `AWS returned certificate '${certificate.arn}' for a CSR of thing '${binding.thingName.value}' that does not carry the escrowed key. Decommission the device and provision it again.`,
      );
    }
    state.certificate = { ...certificate, pem: canonicalPem };
    await rt.api.attachThingPrincipal(binding.thingName.value, certificate.arn, ctx);
    rt.crashPoint("certificate:before-checkpoint", binding.deviceId);
    await this.#committed(state); // KeyEscrowed, overlapped by the two calls above
    const from = binding.provisioningStatus;
    binding.recordCertificateIssued(certificate.arn, change(rt));
    const certificateArn = certificate.arn;
    this.#commitInBackground(state, () =>
      this.#checkpoint(binding, from, "certificate", { certificateArn, source }).then(() => {
        rt.metrics.certificateIssued(binding.tenantId, source);
        rt.crashPoint("certificate:after-checkpoint", binding.deviceId);
      }),
    );
  }

  /** Step 4c: the secret completed with the certificate (token = certificate id: a replay is a no-op). */
  async #storeCertificate(binding: AwsThingBinding, ctx: CallContext, state: RunState): Promise<void> {
    const rt = this.#rt;
    const certificateArn = binding.certificateArn;
    const secretArn = binding.certificateSecretArn;
    if (!certificateArn || !secretArn)
      throw new Error("unreachable: CertIssued without certificate or secret");
    const certificateId = parseCertificateArn(certificateArn).certificateId;
    let key = state.key;
    let pem = state.certificate?.arn === certificateArn ? state.certificate.pem : undefined;
    let alreadyStored = false;
    if (!key || !pem) {
      // A replay: read what is there (maybe this very write happened before the crash).
      const escrowed = await loadEscrowedKey(rt, binding, ctx);
      const current = parseDeviceCredentials(escrowed.current.secretString);
      alreadyStored = isCompleteDeviceCredentials(current) && current.certificateArn === certificateArn;
      key = escrowed.key;
      if (!alreadyStored) {
        const described = await rt.api.describeCertificate(certificateId, ctx);
        if (!described) {
          throw new ProvisioningStepFailedError(
            `Certificate '${certificateArn}' of thing '${binding.thingName.value}' was deleted outside the bridge. Decommission the device and provision it again.`,
          );
        }
        pem = canonicalCertificatePem(described.pem);
      }
    }
    if (!alreadyStored) {
      if (!pem) throw new Error("unreachable: no certificate PEM to store");
      const credentials: DeviceCredentials = {
        ...key,
        certificateArn,
        certificateId,
        certificatePem: pem,
      };
      try {
        await rt.api.putSecretValue(
          {
            secretId: secretArn,
            secretString: serializeDeviceCredentials(credentials),
            token: certificateId,
          },
          ctx,
        );
      } catch (error) {
        if (!isVersionOrNameTaken(error)) throw error;
        // Our token already names a version: accept it only if it is this very content.
        const version = await rt.api.getSecretValue(secretArn, ctx, certificateId);
        const stored = parseDeviceCredentials(version?.secretString ?? null);
        if (
          !isCompleteDeviceCredentials(stored) ||
          stored.bindingId !== binding.id ||
          stored.certificateArn !== certificateArn
        ) {
          throw error;
        }
      }
      rt.crashPoint("secret:before-checkpoint", binding.deviceId);
    }
    // Step 5's first call goes out while CertIssued finishes committing: a policy on a certificate
    // that is still INACTIVE grants nothing, a replay attaches it again (idempotent) and a teardown
    // detaches it. Only UpdateCertificate(ACTIVE) needs CertIssued durable, and it waits below.
    state.policyAttached = rt.api.attachPolicy(rt.options.devicePolicyName, certificateArn, ctx);
    state.policyAttached.catch(() => {}); // surfaces when #activate awaits it
    await this.#committed(state); // CertIssued, overlapped by the write above and AttachPolicy
    const from = binding.provisioningStatus;
    binding.recordSecretStored(change(rt));
    this.#commitInBackground(state, () =>
      this.#checkpoint(binding, from, "secret", { secretArn, certificateArn }).then(() =>
        rt.crashPoint("secret:after-checkpoint", binding.deviceId),
      ),
    );
  }

  /** Step 5: the device policy on the certificate, then the certificate ACTIVE, then Active. */
  async #activate(binding: AwsThingBinding, ctx: CallContext, state: RunState): Promise<void> {
    const rt = this.#rt;
    const certificateArn = binding.certificateArn;
    if (!certificateArn) throw new Error("unreachable: SecretStored without a certificate");
    await (state.policyAttached ?? rt.api.attachPolicy(rt.options.devicePolicyName, certificateArn, ctx));
    rt.crashPoint("activate:after-attach-policy", binding.deviceId);
    await rt.api.updateCertificate(parseCertificateArn(certificateArn).certificateId, "ACTIVE", ctx);
    rt.crashPoint("activate:before-checkpoint", binding.deviceId);
    await this.#committed(state); // SecretStored, overlapped by the two calls above
    const from = binding.provisioningStatus;
    binding.markActive(change(rt));
    const written = this.#checkpoint(binding, from, "activate", {
      certificateArn,
      policyName: rt.options.devicePolicyName,
    });
    // The unlock travels with the Active write: a run that takes the lock before this write commits
    // finds SecretStored, repeats AttachPolicy and UpdateCertificate (both idempotent) and loses its
    // own Active write to this one (optimistic concurrency), then reloads: Active, nothing to do.
    state.releaseLock();
    await written;
    rt.metrics.bindingActivated(binding.tenantId);
    rt.crashPoint("activate:after-checkpoint", binding.deviceId);
  }

  /** Failed for causes a retry cannot cure; everything else goes back to the bus. */
  async #onError(deviceId: string, binding: AwsThingBinding, error: unknown): Promise<ProvisioningOutcome> {
    const rt = this.#rt;
    const reason = failureReasonOf(error, {
      operation: operationOf(error),
      thingName: binding.thingName.value,
      policyName: rt.options.devicePolicyName,
    });
    if (reason === null || error instanceof InvalidStatusTransitionError) {
      rt.logger.warn(
        {
          ...bindingFields(binding),
          operation: operationOf(error),
          error: errorName(error),
          detail: redact(errorMessage(error)).slice(0, 500),
          retryable: isRetryable(error),
        },
        "provisioning step did not complete; the message is redelivered later",
      );
      throw error;
    }
    const fresh = (await rt.bindings.findByDevice(deviceId, ALL_TENANTS)) ?? binding;
    const step = fresh.provisioningStatus;
    if (fresh.provisioningStatus === ProvisioningStatus.Decommissioned) return "decommissioned";
    fresh.markFailed(reason, change(rt));
    await rt.bindings.update(fresh);
    rt.metrics.provisioningFailed(fresh.tenantId, step);
    rt.logger.error(
      {
        ...bindingFields(fresh),
        from: step,
        to: fresh.provisioningStatus,
        operation: operationOf(error),
        failureReason: reason,
      },
      `binding ${step} → Failed`,
    );
    return "failed";
  }
}

function errorName(error: unknown): string {
  const name = (error as { name?: unknown } | null)?.name;
  return typeof name === "string" ? name : typeof error;
}

function errorMessage(error: unknown): string {
  const message = (error as { message?: unknown } | null)?.message;
  return typeof message === "string" ? message : String(error);
}
