import type { Device } from "../domain/device.ts";
import type { DeviceStatus } from "../domain/device-status.ts";
import type { TenantFilter, TenantId } from "../tenancy.ts";
import type { TimelineEntry } from "../timeline.ts";
import type { TransactionScope } from "./unit-of-work.ts";

/** A page of results and the opaque cursor of the next page (`null` on the last page). */
export interface Page<T> {
  readonly items: readonly T[];
  readonly nextCursor: string | null;
}

export interface ListDevicesQuery {
  readonly tenant: TenantFilter;
  readonly status?: DeviceStatus | undefined;
  /** 1–1000. */
  readonly limit: number;
  readonly cursor?: string | null | undefined;
}

/**
 * Persistence port of the Device aggregate.
 *
 * `add` and `update` write the row, the aggregate's pending events (to the durable bus) and their
 * timeline entries in one transaction: either all of it commits or none of it. `update` is
 * optimistic: it fails with `ConcurrencyConflictError` when the row changed since it was loaded.
 * Reads never return soft-deleted rows nor rows of another tenant (`EntityNotFoundError` / `null`).
 */
export interface DeviceStore {
  /** Inserts a new device; `DuplicateKeyError` when the serial number is taken in the tenant. */
  add(device: Device, scope?: TransactionScope): Promise<void>;
  /** Writes the changes of a loaded device; `ConcurrencyConflictError` on a stale version. */
  update(device: Device, scope?: TransactionScope): Promise<void>;
  findById(id: string, tenant: TenantFilter, scope?: TransactionScope): Promise<Device | null>;
  findBySerialNumber(
    tenantId: TenantId | null,
    serialNumber: string,
    scope?: TransactionScope,
  ): Promise<Device | null>;
  /** Looks a serial up across every tenant (system use: fleet provisioning checks ownership). */
  findAllBySerialNumber(serialNumber: string, scope?: TransactionScope): Promise<readonly Device[]>;
  list(query: ListDevicesQuery): Promise<Page<Device>>;
  count(tenant: TenantFilter, status?: DeviceStatus): Promise<number>;
  /** One `UPDATE` of `last_heartbeat_at`, no event, no version bump. False when the device is unknown. */
  recordHeartbeat(id: string, tenant: TenantFilter, at: Date): Promise<boolean>;
  timeline(
    deviceId: string,
    tenant: TenantFilter,
    options?: { limit?: number },
  ): Promise<readonly TimelineEntry[]>;
}
