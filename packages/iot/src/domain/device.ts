import { type AuditInfo, type ChangeContext, createdAudit, deletedAudit, modifiedAudit } from "../audit.ts";
import { DomainValidationError, GranitIoTError, InvalidStatusTransitionError } from "../errors.ts";
import type { DeviceLifecycleEvent } from "../events/device-events.ts";
import { AggregateRoot } from "../events/domain-event.ts";
import { isUuid, uuidv7 } from "../ids.ts";
import { parseTenantId, type TenantId } from "../tenancy.ts";
import type { DeviceCredential } from "./device-credential.ts";
import { DEVICE_TRANSITIONS, type DeviceLifecycleOperation, DeviceStatus } from "./device-status.ts";
import { type DeviceTags, parseDeviceTags } from "./device-tags.ts";
import { type FirmwareVersion, parseFirmwareVersion } from "./firmware-version.ts";
import { type HardwareModel, parseHardwareModel } from "./hardware-model.ts";
import { type DeviceSerialNumber, parseSerialNumber } from "./serial-number.ts";

export const LABEL_MAX_LENGTH = 256;
export const SUSPENSION_REASON_MAX_LENGTH = 1024;

/** Everything needed to create a device. Values are validated by `Device.provision`. */
export interface ProvisionDeviceInput {
  readonly id?: string;
  readonly tenantId: TenantId | null;
  readonly serialNumber: unknown;
  readonly model: unknown;
  readonly firmware: unknown;
  readonly label?: unknown;
  readonly credential?: DeviceCredential | null;
  readonly tags?: unknown;
}

/** The persisted state of a device, as the store reads and writes it. */
export interface DeviceSnapshot {
  readonly id: string;
  readonly tenantId: TenantId | null;
  readonly serialNumber: DeviceSerialNumber;
  readonly model: HardwareModel;
  readonly firmware: FirmwareVersion;
  readonly label: string | null;
  readonly status: DeviceStatus;
  readonly credential: DeviceCredential | null;
  readonly lastHeartbeatAt: Date | null;
  readonly suspensionReason: string | null;
  readonly tags: DeviceTags;
  readonly audit: AuditInfo;
  /** Optimistic-concurrency version: 1 after creation, +1 on every change (a write may carry several). */
  readonly version: number;
}

function parseLabel(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  if (typeof value !== "string") throw DomainValidationError.single("label", "type", "must be a string");
  if (value.length > LABEL_MAX_LENGTH) {
    throw DomainValidationError.single(
      "label",
      "maxLength",
      `must be at most ${LABEL_MAX_LENGTH} characters`,
    );
  }
  return value.length === 0 ? null : value;
}

/**
 * Collects every violation of a batch of parsers instead of stopping at the first, so an API
 * answers all offending fields at once.
 */
function validateAll<T extends Record<string, () => unknown>>(
  parsers: T,
): { [K in keyof T]: ReturnType<T[K]> } {
  const out: Record<string, unknown> = {};
  const violations = [];
  for (const [key, parse] of Object.entries(parsers)) {
    try {
      out[key] = parse();
    } catch (error) {
      if (error instanceof DomainValidationError) violations.push(...error.violations);
      else throw error;
    }
  }
  if (violations.length > 0) throw new DomainValidationError(violations);
  return out as { [K in keyof T]: ReturnType<T[K]> };
}

/**
 * The cloud-agnostic Device aggregate (Ring 1). It owns serial number, lifecycle status, credential,
 * heartbeat and tags, and raises one event per lifecycle change. It knows nothing of AWS: the bridge
 * reacts to its events and keeps its own companion record.
 *
 * Every mutating method takes a `ChangeContext` (instant from the injected clock + actor) that feeds
 * the audit columns and the events' `occurredAt`. Mutations bump `version` by one; the store writes
 * with `WHERE version = <loaded version>` and raises `ConcurrencyConflictError` on a stale write.
 */
export class Device extends AggregateRoot {
  readonly id: string;
  readonly tenantId: TenantId | null;
  readonly serialNumber: DeviceSerialNumber;
  #model: HardwareModel;
  #firmware: FirmwareVersion;
  #label: string | null;
  #status: DeviceStatus;
  #credential: DeviceCredential | null;
  #lastHeartbeatAt: Date | null;
  #suspensionReason: string | null;
  #tags: DeviceTags;
  #audit: AuditInfo;
  #version: number;
  #loadedVersion: number;

  private constructor(snapshot: DeviceSnapshot, loadedVersion: number) {
    super();
    this.id = snapshot.id;
    this.tenantId = snapshot.tenantId;
    this.serialNumber = snapshot.serialNumber;
    this.#model = snapshot.model;
    this.#firmware = snapshot.firmware;
    this.#label = snapshot.label;
    this.#status = snapshot.status;
    this.#credential = snapshot.credential;
    this.#lastHeartbeatAt = snapshot.lastHeartbeatAt;
    this.#suspensionReason = snapshot.suspensionReason;
    this.#tags = snapshot.tags;
    this.#audit = snapshot.audit;
    this.#version = snapshot.version;
    this.#loadedVersion = loadedVersion;
  }

  /** Creates a device in `Provisioning` and raises `DeviceProvisionedEvent`. */
  static provision(input: ProvisionDeviceInput, change: ChangeContext): Device {
    const id = input.id ?? uuidv7(change.at.getTime());
    if (!isUuid(id)) throw DomainValidationError.single("id", "uuid", "must be a UUID");
    const values = validateAll({
      tenantId: () => parseTenantId(input.tenantId),
      serialNumber: () => parseSerialNumber(input.serialNumber),
      model: () => parseHardwareModel(input.model),
      firmware: () => parseFirmwareVersion(input.firmware),
      label: () => parseLabel(input.label),
      tags: () => parseDeviceTags(input.tags),
    });
    const device = new Device(
      {
        id: id.toLowerCase(),
        tenantId: values.tenantId,
        serialNumber: values.serialNumber,
        model: values.model,
        firmware: values.firmware,
        label: values.label,
        status: DeviceStatus.Provisioning,
        credential: input.credential ?? null,
        lastHeartbeatAt: null,
        suspensionReason: null,
        tags: values.tags,
        audit: createdAudit(change),
        version: 1,
      },
      0,
    );
    device.#raise(change, { type: "DeviceProvisionedEvent", model: device.#model });
    return device;
  }

  /** Rebuilds a device from storage. Raises nothing. */
  static rehydrate(snapshot: DeviceSnapshot): Device {
    return new Device(snapshot, snapshot.version);
  }

  /** Version as last read from or written to the store (0 for a new device); the concurrency check uses it. */
  get loadedVersion(): number {
    return this.#loadedVersion;
  }

  /**
   * Called by the store after a successful write: the stored row now has `version`. If the
   * surrounding transaction later rolls back, the next write fails with a concurrency conflict,
   * which is the safe outcome (reload and retry).
   */
  markPersisted(): void {
    this.#loadedVersion = this.#version;
  }

  get model(): HardwareModel {
    return this.#model;
  }
  get firmware(): FirmwareVersion {
    return this.#firmware;
  }
  get label(): string | null {
    return this.#label;
  }
  get status(): DeviceStatus {
    return this.#status;
  }
  get credential(): DeviceCredential | null {
    return this.#credential;
  }
  get lastHeartbeatAt(): Date | null {
    return this.#lastHeartbeatAt;
  }
  get suspensionReason(): string | null {
    return this.#suspensionReason;
  }
  get tags(): DeviceTags {
    return this.#tags;
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

  /** Provisioning → Active; raises `DeviceActivatedEvent`. */
  activate(change: ChangeContext): void {
    this.#transition("activate", change);
    this.#raise(change, { type: "DeviceActivatedEvent" });
  }

  /** Active → Suspended with a non-blank reason; raises `DeviceSuspendedEvent`. */
  suspend(reason: unknown, change: ChangeContext): void {
    if (typeof reason !== "string" || reason.trim().length === 0) {
      throw DomainValidationError.single("reason", "required", "a suspension needs a non-blank reason");
    }
    if (reason.length > SUSPENSION_REASON_MAX_LENGTH) {
      throw DomainValidationError.single(
        "reason",
        "maxLength",
        `must be at most ${SUSPENSION_REASON_MAX_LENGTH} characters`,
      );
    }
    this.#transition("suspend", change);
    this.#suspensionReason = reason;
    this.#raise(change, { type: "DeviceSuspendedEvent", reason });
  }

  /** Suspended → Active, clearing the suspension reason; raises `DeviceReactivatedEvent`. */
  reactivate(change: ChangeContext): void {
    this.#transition("reactivate", change);
    this.#suspensionReason = null;
    this.#raise(change, { type: "DeviceReactivatedEvent" });
  }

  /** Provisioning, Active or Suspended → Decommissioned (terminal); raises `DeviceDecommissionedEvent`. */
  decommission(change: ChangeContext): void {
    const previousStatus = this.#status;
    this.#transition("decommission", change);
    this.#raise(change, { type: "DeviceDecommissionedEvent", previousStatus });
  }

  updateFirmware(firmware: unknown, change: ChangeContext): void {
    this.#ensureNotDecommissioned("update the firmware of");
    const parsed = parseFirmwareVersion(firmware);
    if (parsed === this.#firmware) return;
    this.#firmware = parsed;
    this.#touch(change);
  }

  updateLabel(label: unknown, change: ChangeContext): void {
    this.#ensureNotDecommissioned("relabel");
    const parsed = parseLabel(label);
    if (parsed === this.#label) return;
    this.#label = parsed;
    this.#touch(change);
  }

  updateTags(tags: unknown, change: ChangeContext): void {
    this.#ensureNotDecommissioned("retag");
    this.#tags = parseDeviceTags(tags);
    this.#touch(change);
  }

  updateCredential(credential: DeviceCredential | null, change: ChangeContext): void {
    this.#ensureNotDecommissioned("change the credential of");
    if (credential === this.#credential || credential?.equals(this.#credential)) return;
    this.#credential = credential;
    this.#touch(change);
  }

  /** Soft delete: the row stays for audit, every read skips it. */
  markDeleted(change: ChangeContext): void {
    if (this.isDeleted) return;
    this.#audit = deletedAudit(this.#audit, change);
    this.#version += 1;
  }

  toSnapshot(): DeviceSnapshot {
    return {
      id: this.id,
      tenantId: this.tenantId,
      serialNumber: this.serialNumber,
      model: this.#model,
      firmware: this.#firmware,
      label: this.#label,
      status: this.#status,
      credential: this.#credential,
      lastHeartbeatAt: this.#lastHeartbeatAt,
      suspensionReason: this.#suspensionReason,
      tags: this.#tags,
      audit: this.#audit,
      version: this.#version,
    };
  }

  /** What a log line or API may show: everything but the credential secret. */
  toJSON(): Record<string, unknown> {
    const { credential, ...rest } = this.toSnapshot();
    return { ...rest, credentialType: credential?.type ?? null };
  }

  #transition(operation: DeviceLifecycleOperation, change: ChangeContext): void {
    const rule = DEVICE_TRANSITIONS[operation];
    if (!rule.from.has(this.#status)) {
      throw new InvalidStatusTransitionError("device", operation, this.#status, [...rule.from]);
    }
    this.#status = rule.to;
    this.#touch(change);
  }

  #ensureNotDecommissioned(operation: string): void {
    if (this.#status === DeviceStatus.Decommissioned) {
      throw new InvalidStatusTransitionError("device", operation, this.#status, [
        DeviceStatus.Provisioning,
        DeviceStatus.Active,
        DeviceStatus.Suspended,
      ]);
    }
  }

  #touch(change: ChangeContext): void {
    if (this.isDeleted) throw new GranitIoTError(`Device '${this.id}' is deleted and cannot change.`);
    this.#audit = modifiedAudit(this.#audit, change);
    this.#version += 1;
  }

  #raise(
    change: ChangeContext,
    specific:
      | { type: "DeviceProvisionedEvent"; model: string }
      | { type: "DeviceActivatedEvent" }
      | { type: "DeviceSuspendedEvent"; reason: string }
      | { type: "DeviceReactivatedEvent" }
      | { type: "DeviceDecommissionedEvent"; previousStatus: string },
  ): void {
    const event = {
      ...specific,
      eventId: uuidv7(change.at.getTime()),
      occurredAt: change.at.toISOString(),
      tenantId: this.tenantId,
      deviceId: this.id,
      serialNumber: this.serialNumber,
      deviceVersion: this.#version,
    } satisfies DeviceLifecycleEvent;
    this.raise(event);
  }
}
