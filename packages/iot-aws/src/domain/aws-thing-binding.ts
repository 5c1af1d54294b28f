import {
  AggregateRoot,
  type AuditInfo,
  type ChangeContext,
  createdAudit,
  DomainValidationError,
  deletedAudit,
  GranitIoTError,
  InvalidStatusTransitionError,
  isUuid,
  modifiedAudit,
  parseTenantId,
  type TenantId,
  uuidv7,
} from "@granit/iot";
import { BindingCheckpointConflictError, InvalidArnError } from "../errors.ts";
import type { AwsThingDecommissionedEvent, AwsThingProvisionedEvent } from "../events/aws-thing-events.ts";
import { parseCertificateArn, parseSecretArn, parseThingArn } from "./arn.ts";
import {
  FAILABLE_STATUSES,
  isAtLeast,
  isOnChain,
  PROVISIONING_STEPS,
  type ProvisioningCheckpoint,
  ProvisioningStatus,
  type ProvisioningStep,
  SHADOW_SYNC_STATES,
} from "./provisioning-status.ts";
import { ThingName } from "./thing-name.ts";

/** Longer failure reasons are cut to this length (the column's size). */
export const FAILURE_REASON_MAX_LENGTH = 1024;

const ENTITY = "AWS thing binding";

/** The value a forward step records, checked against the recorded one on a replay. */
interface RecordedValue {
  readonly field: string;
  readonly recorded: string | null;
  readonly attempted: string;
  readonly apply: () => void;
}

/** What `AwsThingBinding.create` needs. */
export interface CreateAwsThingBindingInput {
  /** @default uuidv7 of `change.at` */
  readonly id?: string;
  readonly deviceId: string;
  /** `null` = host device. Must be the tenant encoded in `thingName`. */
  readonly tenantId: TenantId | null;
  readonly thingName: ThingName | string;
}

/** What `AwsThingBinding.createForJitp` needs: AWS already created the Thing and the certificate. */
export interface CreateJitpAwsThingBindingInput extends CreateAwsThingBindingInput {
  readonly thingArn: string;
  readonly certificateArn: string;
  /**
   * A Secrets Manager secret holding the device key, when there is one. Usually absent for fleet
   * provisioning by claim: the device creates its key pair itself and the private key never leaves
   * it. `null`/absent is stored as `null` (never a placeholder ARN); a present value must be a
   * secret ARN.
   */
  readonly certificateSecretArn?: string | null;
  readonly claimCertificateId?: string | null;
  readonly claimCertificateExpiresAt?: Date | null;
}

/** The persisted state of a binding, as the store reads and writes it. */
export interface AwsThingBindingSnapshot {
  readonly id: string;
  readonly deviceId: string;
  readonly tenantId: TenantId | null;
  readonly thingName: ThingName;
  readonly thingArn: string | null;
  readonly certificateArn: string | null;
  /** The secret holding the escrowed private key (and, from `SecretStored`, the certificate). */
  readonly certificateSecretArn: string | null;
  readonly provisioningStatus: ProvisioningStatus;
  /** The checkpoint a `Failed` binding resumes from on `retry()`; `null` otherwise. */
  readonly failedFromStatus: ProvisioningCheckpoint | null;
  readonly failureReason: string | null;
  /** When the saga announced it was about to call `CreateCertificateFromCsr` (the crash-recovery marker). */
  readonly certificateRequestedAt: Date | null;
  readonly lastShadowReportedAt: Date | null;
  /** `Device.deviceVersion` of the last lifecycle event pushed to the shadow (older events are skipped). */
  readonly shadowReportedDeviceVersion: number | null;
  readonly claimCertificateExpiresAt: Date | null;
  readonly claimCertificateId: string | null;
  readonly provisionedViaJitp: boolean;
  readonly audit: AuditInfo;
  /** Optimistic-concurrency version: 1 after creation, +1 on every change. */
  readonly version: number;
}

/**
 * `AwsThingBinding`: the 1:1 AWS companion of a `Device`, keyed by `deviceId`. It holds what AWS
 * needs (thing name and ARN, certificate and secret ARNs, provisioning checkpoint, shadow and claim
 * certificate bookkeeping) and nothing the core needs; the core never sees it.
 *
 * The provisioning saga walks it through `PROVISIONING_CHAIN` (see `provisioning-status.ts`). Every
 * step method returns `true` when it changed the binding and `false` when it was a replay of a step
 * already recorded (persist only on `true`); it throws `InvalidStatusTransitionError` when a
 * predecessor is missing or the binding is `Failed`/`Decommissioned`, and
 * `BindingCheckpointConflictError` when a replay carries a different ARN than the one recorded.
 *
 * Mutations take a `ChangeContext` (instant + actor) for the audit columns and events, and bump
 * `version`; the store writes with `WHERE version = loadedVersion`.
 */
export class AwsThingBinding extends AggregateRoot {
  readonly id: string;
  readonly deviceId: string;
  readonly tenantId: TenantId | null;
  readonly thingName: ThingName;
  readonly provisionedViaJitp: boolean;
  #thingArn: string | null;
  #certificateArn: string | null;
  #certificateSecretArn: string | null;
  #status: ProvisioningStatus;
  #failedFromStatus: ProvisioningCheckpoint | null;
  #failureReason: string | null;
  #certificateRequestedAt: Date | null;
  #lastShadowReportedAt: Date | null;
  #shadowReportedDeviceVersion: number | null;
  #claimCertificateExpiresAt: Date | null;
  #claimCertificateId: string | null;
  #audit: AuditInfo;
  #version: number;
  #loadedVersion: number;

  private constructor(snapshot: AwsThingBindingSnapshot, loadedVersion: number) {
    super();
    this.id = snapshot.id;
    this.deviceId = snapshot.deviceId;
    this.tenantId = snapshot.tenantId;
    this.thingName = snapshot.thingName;
    this.provisionedViaJitp = snapshot.provisionedViaJitp;
    this.#thingArn = snapshot.thingArn;
    this.#certificateArn = snapshot.certificateArn;
    this.#certificateSecretArn = snapshot.certificateSecretArn;
    this.#status = snapshot.provisioningStatus;
    this.#failedFromStatus = snapshot.failedFromStatus;
    this.#failureReason = snapshot.failureReason;
    this.#certificateRequestedAt = snapshot.certificateRequestedAt;
    this.#lastShadowReportedAt = snapshot.lastShadowReportedAt;
    this.#shadowReportedDeviceVersion = snapshot.shadowReportedDeviceVersion;
    this.#claimCertificateExpiresAt = snapshot.claimCertificateExpiresAt;
    this.#claimCertificateId = snapshot.claimCertificateId;
    this.#audit = snapshot.audit;
    this.#version = snapshot.version;
    this.#loadedVersion = loadedVersion;
  }

  /** A new binding in `Pending`, before any AWS call. Raises nothing. */
  static create(input: CreateAwsThingBindingInput, change: ChangeContext): AwsThingBinding {
    return new AwsThingBinding(
      { ...AwsThingBinding.#newSnapshot(input, change), provisioningStatus: ProvisioningStatus.Pending },
      0,
    );
  }

  /**
   * A binding for a device AWS provisioned itself (fleet provisioning by claim): lands directly in
   * `Active` with `provisionedViaJitp = true`; the thing and certificate ARNs are required, the
   * secret ARN is optional (the device's private key usually lives only on the device). Raises
   * `AwsThingProvisionedEvent`.
   */
  static createForJitp(input: CreateJitpAwsThingBindingInput, change: ChangeContext): AwsThingBinding {
    const base = AwsThingBinding.#newSnapshot(input, change);
    const thingArn = AwsThingBinding.#checkThingArn(base.thingName, input.thingArn);
    const certificateArn = parseCertificateArn(input.certificateArn).arn;
    const certificateSecretArn =
      input.certificateSecretArn === undefined || input.certificateSecretArn === null
        ? null
        : parseSecretArn(input.certificateSecretArn).arn;
    const claim = parseClaimCertificate(
      input.claimCertificateId ?? null,
      input.claimCertificateExpiresAt ?? null,
    );
    const binding = new AwsThingBinding(
      {
        ...base,
        thingArn,
        certificateArn,
        certificateSecretArn,
        provisioningStatus: ProvisioningStatus.Active,
        provisionedViaJitp: true,
        claimCertificateId: claim.certificateId,
        claimCertificateExpiresAt: claim.expiresAt,
      },
      0,
    );
    binding.#raiseProvisioned(change);
    return binding;
  }

  /** Rebuilds a binding from storage. Raises nothing. */
  static rehydrate(snapshot: AwsThingBindingSnapshot): AwsThingBinding {
    return new AwsThingBinding(snapshot, snapshot.version);
  }

  static #newSnapshot(
    input: CreateAwsThingBindingInput,
    change: ChangeContext,
  ): Omit<AwsThingBindingSnapshot, "provisioningStatus"> {
    const id = input.id ?? uuidv7(change.at.getTime());
    if (!isUuid(id)) throw DomainValidationError.single("id", "uuid", "must be a UUID");
    if (!isUuid(input.deviceId)) {
      throw DomainValidationError.single("deviceId", "uuid", "must be the UUID of an existing device");
    }
    const tenantId = parseTenantId(input.tenantId);
    const thingName =
      input.thingName instanceof ThingName ? input.thingName : ThingName.parse(input.thingName);
    if (thingName.tenantId !== tenantId) {
      throw DomainValidationError.single(
        "thingName",
        "tenant",
        `encodes tenant '${thingName.tenantId ?? "host"}' but the binding belongs to '${tenantId ?? "host"}'`,
      );
    }
    return {
      id: id.toLowerCase(),
      deviceId: input.deviceId.toLowerCase(),
      tenantId,
      thingName,
      thingArn: null,
      certificateArn: null,
      certificateSecretArn: null,
      failedFromStatus: null,
      failureReason: null,
      certificateRequestedAt: null,
      lastShadowReportedAt: null,
      shadowReportedDeviceVersion: null,
      claimCertificateExpiresAt: null,
      claimCertificateId: null,
      provisionedViaJitp: false,
      audit: createdAudit(change),
      version: 1,
    };
  }

  static #checkThingArn(thingName: ThingName, thingArn: unknown): string {
    const parsed = parseThingArn(thingArn);
    if (parsed.thingName !== thingName.value) {
      throw new InvalidArnError(
        "thing",
        "thingName",
        thingArn,
        `names thing '${parsed.thingName}' but the binding's thing is '${thingName.value}'`,
      );
    }
    return parsed.arn;
  }

  /** Version as last read from or written to the store (0 for a new binding). */
  get loadedVersion(): number {
    return this.#loadedVersion;
  }

  /** Called by the store after a successful write. */
  markPersisted(): void {
    this.#loadedVersion = this.#version;
  }

  get provisioningStatus(): ProvisioningStatus {
    return this.#status;
  }
  get thingArn(): string | null {
    return this.#thingArn;
  }
  get certificateArn(): string | null {
    return this.#certificateArn;
  }
  get certificateSecretArn(): string | null {
    return this.#certificateSecretArn;
  }
  get failedFromStatus(): ProvisioningCheckpoint | null {
    return this.#failedFromStatus;
  }
  get failureReason(): string | null {
    return this.#failureReason;
  }
  get certificateRequestedAt(): Date | null {
    return this.#certificateRequestedAt;
  }
  get lastShadowReportedAt(): Date | null {
    return this.#lastShadowReportedAt;
  }
  get shadowReportedDeviceVersion(): number | null {
    return this.#shadowReportedDeviceVersion;
  }
  get claimCertificateExpiresAt(): Date | null {
    return this.#claimCertificateExpiresAt;
  }
  get claimCertificateId(): string | null {
    return this.#claimCertificateId;
  }
  get audit(): AuditInfo {
    return this.#audit;
  }
  get version(): number {
    return this.#version;
  }
  get isDeleted(): boolean {
    return this.#audit.deletedAt !== null;
  }

  /** Pending → ThingCreated, recording the Thing's ARN (its name must be this binding's thing name). */
  recordThingCreated(thingArn: string, change: ChangeContext): boolean {
    const arn = AwsThingBinding.#checkThingArn(this.thingName, thingArn);
    return this.#step("recordThingCreated", change, {
      field: "thingArn",
      recorded: this.#thingArn,
      attempted: arn,
      apply: () => {
        this.#thingArn = arn;
      },
    });
  }

  /** ThingCreated → KeyEscrowed: key pair + CSR are in Secrets Manager under `secretArn`. */
  recordKeyEscrowed(secretArn: string, change: ChangeContext): boolean {
    const arn = parseSecretArn(secretArn).arn;
    return this.#step("recordKeyEscrowed", change, {
      field: "certificateSecretArn",
      recorded: this.#certificateSecretArn,
      attempted: arn,
      apply: () => {
        this.#certificateSecretArn = arn;
      },
    });
  }

  /**
   * The intent to call `CreateCertificateFromCsr`, recorded (at `change.at`) and committed before
   * the call so a replay after a crash knows to look for a certificate made from the escrowed key
   * instead of minting another; its time bounds that search. In `ThingCreated` (the saga commits it
   * with the thing, so the escrow and the certificate request need not wait for another commit) or
   * `KeyEscrowed`; a replay (already recorded, or later checkpoint) is a no-op.
   */
  recordCertificateRequested(change: ChangeContext): boolean {
    if (isAtLeast(this.#status, ProvisioningStatus.CertIssued)) return false;
    if (this.#status !== ProvisioningStatus.ThingCreated && this.#status !== ProvisioningStatus.KeyEscrowed) {
      throw new InvalidStatusTransitionError(ENTITY, "recordCertificateRequested", this.#status, [
        ProvisioningStatus.ThingCreated,
        ProvisioningStatus.KeyEscrowed,
      ]);
    }
    if (this.#certificateRequestedAt !== null) return false;
    this.#certificateRequestedAt = change.at;
    this.#touch(change);
    return true;
  }

  /** KeyEscrowed → CertIssued, recording the certificate made from the escrowed key. */
  recordCertificateIssued(certificateArn: string, change: ChangeContext): boolean {
    const arn = parseCertificateArn(certificateArn).arn;
    return this.#step("recordCertificateIssued", change, {
      field: "certificateArn",
      recorded: this.#certificateArn,
      attempted: arn,
      apply: () => {
        this.#certificateArn = arn;
      },
    });
  }

  /** CertIssued → SecretStored: the secret now also holds the certificate PEM. */
  recordSecretStored(change: ChangeContext): boolean {
    return this.#step("recordSecretStored", change);
  }

  /** SecretStored → Active (policy and thing attached); raises `AwsThingProvisionedEvent` the first time. */
  markActive(change: ChangeContext): boolean {
    const changed = this.#step("markActive", change);
    if (changed) this.#raiseProvisioned(change);
    return changed;
  }

  /**
   * Any non-terminal status → Failed, keeping the current checkpoint in `failedFromStatus` so
   * `retry()` resumes there. On an already `Failed` binding only the reason is replaced. Reasons
   * longer than 1024 characters are truncated.
   */
  markFailed(reason: string, change: ChangeContext): boolean {
    if (typeof reason !== "string" || reason.trim().length === 0) {
      throw DomainValidationError.single("failureReason", "required", "a failure needs a non-blank reason");
    }
    const text =
      reason.length > FAILURE_REASON_MAX_LENGTH
        ? `${reason.slice(0, FAILURE_REASON_MAX_LENGTH - 1)}…`
        : reason;
    if (!FAILABLE_STATUSES.has(this.#status)) {
      throw new InvalidStatusTransitionError(ENTITY, "markFailed", this.#status, [...FAILABLE_STATUSES]);
    }
    if (this.#status === ProvisioningStatus.Failed) {
      if (this.#failureReason === text) return false;
      this.#failureReason = text;
      this.#touch(change);
      return true;
    }
    if (!isOnChain(this.#status))
      throw new Error(`unreachable: ${this.#status} is failable but off the chain`);
    this.#failedFromStatus = this.#status;
    this.#failureReason = text;
    this.#status = ProvisioningStatus.Failed;
    this.#touch(change);
    return true;
  }

  /** Failed → the checkpoint it failed from (operator retry); clears the failure. */
  retry(change: ChangeContext): boolean {
    if (this.#status !== ProvisioningStatus.Failed || this.#failedFromStatus === null) {
      throw new InvalidStatusTransitionError(ENTITY, "retry", this.#status, [ProvisioningStatus.Failed]);
    }
    this.#status = this.#failedFromStatus;
    this.#failedFromStatus = null;
    this.#failureReason = null;
    this.#touch(change);
    return true;
  }

  /**
   * Any status → Decommissioned (terminal), after the AWS resources were torn down. A no-op when
   * already decommissioned; raises `AwsThingDecommissionedEvent` once.
   */
  markDecommissioned(change: ChangeContext): boolean {
    if (this.#status === ProvisioningStatus.Decommissioned) return false;
    const previousStatus = this.#status;
    this.#status = ProvisioningStatus.Decommissioned;
    this.#touch(change);
    const event: AwsThingDecommissionedEvent = {
      type: "AwsThingDecommissionedEvent",
      eventId: uuidv7(change.at.getTime()),
      occurredAt: change.at.toISOString(),
      tenantId: this.tenantId,
      deviceId: this.deviceId,
      thingName: this.thingName.value,
      thingArn: this.#thingArn,
      previousStatus,
    };
    this.raise(event);
    return true;
  }

  /**
   * Records a successful reported-state push (at `change.at`) of the device lifecycle event with
   * `deviceVersion`. Returns `false` without change when an equal or newer version was already
   * pushed — the shadow bridge skips such stale events. Only for `SHADOW_SYNC_STATES` (Active).
   */
  recordShadowReported(deviceVersion: number, change: ChangeContext): boolean {
    if (!SHADOW_SYNC_STATES.has(this.#status)) {
      throw new InvalidStatusTransitionError(ENTITY, "recordShadowReported", this.#status, [
        ...SHADOW_SYNC_STATES,
      ]);
    }
    if (!Number.isSafeInteger(deviceVersion) || deviceVersion < 1) {
      throw DomainValidationError.single("deviceVersion", "integer", "must be a positive integer");
    }
    if (this.#shadowReportedDeviceVersion !== null && deviceVersion <= this.#shadowReportedDeviceVersion) {
      return false;
    }
    this.#shadowReportedDeviceVersion = deviceVersion;
    this.#lastShadowReportedAt = change.at;
    this.#touch(change);
    return true;
  }

  /** Records the claim certificate a fleet-provisioned device enrolled with and when it expires. */
  recordClaimCertificate(
    claim: { readonly certificateId?: string | null; readonly expiresAt: Date | null },
    change: ChangeContext,
  ): boolean {
    this.#ensureNotDecommissioned("recordClaimCertificate");
    const parsed = parseClaimCertificate(claim.certificateId ?? this.#claimCertificateId, claim.expiresAt);
    if (
      parsed.certificateId === this.#claimCertificateId &&
      parsed.expiresAt?.getTime() === this.#claimCertificateExpiresAt?.getTime()
    ) {
      return false;
    }
    this.#claimCertificateId = parsed.certificateId;
    this.#claimCertificateExpiresAt = parsed.expiresAt;
    this.#touch(change);
    return true;
  }

  /**
   * Soft delete: the row stays for audit, every read skips it, and its thing name is free again.
   * Tear the AWS resources down (and `markDecommissioned`) first, or they are orphaned.
   */
  markDeleted(change: ChangeContext): void {
    if (this.isDeleted) return;
    this.#audit = deletedAudit(this.#audit, change);
    this.#version += 1;
  }

  toSnapshot(): AwsThingBindingSnapshot {
    return {
      id: this.id,
      deviceId: this.deviceId,
      tenantId: this.tenantId,
      thingName: this.thingName,
      thingArn: this.#thingArn,
      certificateArn: this.#certificateArn,
      certificateSecretArn: this.#certificateSecretArn,
      provisioningStatus: this.#status,
      failedFromStatus: this.#failedFromStatus,
      failureReason: this.#failureReason,
      certificateRequestedAt: this.#certificateRequestedAt,
      lastShadowReportedAt: this.#lastShadowReportedAt,
      shadowReportedDeviceVersion: this.#shadowReportedDeviceVersion,
      claimCertificateExpiresAt: this.#claimCertificateExpiresAt,
      claimCertificateId: this.#claimCertificateId,
      provisionedViaJitp: this.provisionedViaJitp,
      audit: this.#audit,
      version: this.#version,
    };
  }

  /** Plain JSON for logs and APIs (the binding holds ARNs only, no secret material). */
  toJSON(): Record<string, unknown> {
    return { ...this.toSnapshot(), thingName: this.thingName.value };
  }

  /**
   * One forward step: a no-op when the binding is already at or past the step's target (after
   * checking that the replayed value matches the recorded one), else requires exactly the step's
   * predecessor.
   */
  #step(step: ProvisioningStep, change: ChangeContext, value?: RecordedValue): boolean {
    const rule = PROVISIONING_STEPS[step];
    if (isAtLeast(this.#status, rule.to)) {
      if (value && value.recorded !== value.attempted) {
        throw new BindingCheckpointConflictError(this.id, value.field, value.recorded, value.attempted);
      }
      return false;
    }
    if (this.#status !== rule.from) {
      throw new InvalidStatusTransitionError(ENTITY, step, this.#status, [rule.from]);
    }
    value?.apply();
    this.#status = rule.to;
    this.#touch(change);
    return true;
  }

  #ensureNotDecommissioned(operation: string): void {
    if (this.#status === ProvisioningStatus.Decommissioned) {
      throw new InvalidStatusTransitionError(
        ENTITY,
        operation,
        this.#status,
        [...FAILABLE_STATUSES].filter((s) => s !== ProvisioningStatus.Decommissioned),
      );
    }
  }

  #touch(change: ChangeContext): void {
    if (this.isDeleted)
      throw new GranitIoTError(`AWS thing binding '${this.id}' is deleted and cannot change.`);
    this.#audit = modifiedAudit(this.#audit, change);
    this.#version += 1;
  }

  #raiseProvisioned(change: ChangeContext): void {
    if (this.#thingArn === null) throw new Error("unreachable: an Active binding always has a thing ARN");
    const event: AwsThingProvisionedEvent = {
      type: "AwsThingProvisionedEvent",
      eventId: uuidv7(change.at.getTime()),
      occurredAt: change.at.toISOString(),
      tenantId: this.tenantId,
      deviceId: this.deviceId,
      thingName: this.thingName.value,
      thingArn: this.#thingArn,
      provisionedViaJitp: this.provisionedViaJitp,
    };
    this.raise(event);
  }
}

const CERTIFICATE_ID = /^[0-9a-f]{64}$/;

function parseClaimCertificate(
  certificateId: string | null,
  expiresAt: Date | null,
): { certificateId: string | null; expiresAt: Date | null } {
  if (certificateId !== null && !CERTIFICATE_ID.test(certificateId)) {
    throw DomainValidationError.single(
      "claimCertificateId",
      "certificateId",
      "must be an AWS IoT certificate id (64 lowercase hex characters)",
    );
  }
  if (expiresAt !== null && (!(expiresAt instanceof Date) || Number.isNaN(expiresAt.getTime()))) {
    throw DomainValidationError.single("claimCertificateExpiresAt", "date", "must be a valid date or null");
  }
  return { certificateId, expiresAt };
}
