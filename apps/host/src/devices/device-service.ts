/**
 * The device use cases behind the REST API: load → mutate the aggregate with
 * `{ at: clock.now(), by: <caller> }` → `store.update`, which commits the row, its events (outbox)
 * and their timeline entries in one transaction. Every read and write is scoped to the caller's
 * tenant, so another tenant's device is indistinguishable from an unknown one
 * (`EntityNotFoundError` → 404). Validation happens before any write: an error writes nothing.
 */
import {
  type Clock,
  ConcurrencyConflictError,
  Device,
  DeviceCredential,
  type DeviceLifecycleOperation,
  type DeviceStatus,
  type DeviceStore,
  DomainValidationError,
  EntityNotFoundError,
  type FieldViolation,
  type Page,
  type TenantContext,
  type TimelineEntry,
  tenantTag,
} from "@granit/iot";
import { metrics } from "@opentelemetry/api";

export interface CreateDeviceInput {
  readonly serialNumber: string;
  readonly model: string;
  readonly firmware: string;
  readonly label?: string | null | undefined;
  readonly tags?: Readonly<Record<string, string>> | undefined;
  readonly credential?: { readonly type: string; readonly secret: string } | undefined;
}

export interface UpdateDeviceInput {
  /** `null` clears the label; absent leaves it unchanged. */
  readonly label?: string | null | undefined;
  readonly firmware?: string | undefined;
}

export interface ListDevicesInput {
  readonly status?: DeviceStatus | undefined;
  readonly limit: number;
  readonly cursor?: string | undefined;
}

/**
 * Runs one validation step; its violations go to `violations` instead of stopping the request, so
 * a 400 lists every bad field at once.
 */
function attempt<T>(
  violations: FieldViolation[],
  step: () => T,
  rename: (v: FieldViolation) => FieldViolation = (v) => v,
): T | undefined {
  try {
    return step();
  } catch (error) {
    if (!(error instanceof DomainValidationError)) throw error;
    violations.push(...error.violations.map(rename));
    return undefined;
  }
}

export class DeviceService {
  readonly #store: DeviceStore;
  readonly #clock: Clock;
  readonly #provisioned;
  readonly #transitions;
  readonly #updated;
  readonly #heartbeats;

  constructor(store: DeviceStore, clock: Clock) {
    this.#store = store;
    this.#clock = clock;
    const meter = metrics.getMeter("granit.iot.devices");
    this.#provisioned = meter.createCounter("granit.iot.devices.provisioned", {
      description: "Devices created through the API",
    });
    this.#transitions = meter.createCounter("granit.iot.devices.transitions", {
      description: "Lifecycle transitions applied (activate, suspend, reactivate, decommission)",
    });
    this.#updated = meter.createCounter("granit.iot.devices.updated", {
      description: "Label/firmware updates that changed a device",
    });
    this.#heartbeats = meter.createCounter("granit.iot.devices.heartbeats", {
      description: "Heartbeats recorded",
    });
  }

  async create(caller: TenantContext, input: CreateDeviceInput): Promise<Device> {
    const change = { at: this.#clock.now(), by: caller.actor };
    const violations: FieldViolation[] = [];
    const credential = attempt(
      violations,
      () =>
        input.credential ? DeviceCredential.create(input.credential.type, input.credential.secret) : null,
      (v) => (v.field === "credential.protectedSecret" ? { ...v, field: "credential.secret" } : v),
    );
    const device = attempt(violations, () =>
      Device.provision(
        {
          tenantId: caller.tenantId,
          serialNumber: input.serialNumber,
          model: input.model,
          firmware: input.firmware,
          label: input.label,
          tags: input.tags,
          credential: credential ?? null,
        },
        change,
      ),
    );
    if (violations.length > 0 || !device) throw new DomainValidationError(violations);
    await this.#store.add(device);
    this.#provisioned.add(1, { tenant_id: tenantTag(caller.tenantId) });
    return device;
  }

  list(caller: TenantContext, input: ListDevicesInput): Promise<Page<Device>> {
    return this.#store.list({
      tenant: caller.tenantId,
      status: input.status,
      limit: input.limit,
      cursor: input.cursor ?? null,
    });
  }

  async get(caller: TenantContext, id: string): Promise<Device> {
    const device = await this.#store.findById(id, caller.tenantId);
    if (!device) throw new EntityNotFoundError("Device", id);
    return device;
  }

  async update(
    caller: TenantContext,
    id: string,
    input: UpdateDeviceInput,
    expectedVersion?: number,
  ): Promise<Device> {
    const device = await this.#load(caller, id, expectedVersion);
    const change = { at: this.#clock.now(), by: caller.actor };
    const violations: FieldViolation[] = [];
    if (input.label !== undefined) attempt(violations, () => device.updateLabel(input.label, change));
    if (input.firmware !== undefined)
      attempt(violations, () => device.updateFirmware(input.firmware, change));
    if (violations.length > 0) throw new DomainValidationError(violations);
    if (device.version === device.loadedVersion) return device;
    await this.#store.update(device);
    this.#updated.add(1, { tenant_id: tenantTag(caller.tenantId) });
    return device;
  }

  async transition(
    caller: TenantContext,
    id: string,
    operation: DeviceLifecycleOperation,
    options: { reason?: string | undefined; expectedVersion?: number | undefined } = {},
  ): Promise<Device> {
    const device = await this.#load(caller, id, options.expectedVersion);
    const change = { at: this.#clock.now(), by: caller.actor };
    switch (operation) {
      case "activate":
        device.activate(change);
        break;
      case "suspend":
        device.suspend(options.reason, change);
        break;
      case "reactivate":
        device.reactivate(change);
        break;
      case "decommission":
        device.decommission(change);
        break;
    }
    await this.#store.update(device);
    this.#transitions.add(1, { tenant_id: tenantTag(caller.tenantId), operation });
    return device;
  }

  /** One `UPDATE` of `last_heartbeat_at` (no event, no version bump). */
  async heartbeat(caller: TenantContext, id: string): Promise<void> {
    const recorded = await this.#store.recordHeartbeat(id, caller.tenantId, this.#clock.now());
    if (!recorded) throw new EntityNotFoundError("Device", id);
    this.#heartbeats.add(1, { tenant_id: tenantTag(caller.tenantId) });
  }

  /** The device's timeline, newest first. */
  async timeline(caller: TenantContext, id: string, limit: number): Promise<readonly TimelineEntry[]> {
    await this.get(caller, id);
    return this.#store.timeline(id, caller.tenantId, { limit });
  }

  async #load(caller: TenantContext, id: string, expectedVersion: number | undefined): Promise<Device> {
    const device = await this.get(caller, id);
    if (expectedVersion !== undefined && expectedVersion !== device.version) {
      throw new ConcurrencyConflictError("Device", id, expectedVersion);
    }
    return device;
  }
}
