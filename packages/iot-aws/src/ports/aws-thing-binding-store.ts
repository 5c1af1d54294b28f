import type { ChangeContext, Page, TenantFilter, TransactionScope } from "@granit/iot";
import type { AwsThingBinding } from "../domain/aws-thing-binding.ts";
import type { ProvisioningStatus } from "../domain/provisioning-status.ts";
import type { ThingName } from "../domain/thing-name.ts";

/** A page of bindings in some statuses, for pollers (shadow delta, claim-cert expiry, reconcile). */
export interface PageBindingsByStatusQuery {
  /** At least one status. */
  readonly statuses: readonly ProvisioningStatus[];
  /** 1–1000. */
  readonly limit: number;
  /** `nextCursor` of the previous page; absent or `null` for the first page. */
  readonly cursor?: string | null | undefined;
  /** @default ALL_TENANTS (pollers are system code) */
  readonly tenant?: TenantFilter | undefined;
}

/**
 * Persistence port of `AwsThingBinding` (implemented by `@granit/iot-aws-postgres`).
 *
 * Writes are transactional with the binding's pending events: `add`, `update` and `softDelete`
 * store the row and publish the events on the message bus in one transaction — the caller's when
 * given a `scope` (so a binding write can commit together with a device write), else their own.
 * `update` and `softDelete` are optimistic (`ConcurrencyConflictError` on a stale version).
 * Thing names are unique across all tenants (AWS names are account-wide) and a device has at most
 * one live binding: both raise `DuplicateKeyError` with `key` `"thingName"` / `"deviceId"`.
 * Reads never return soft-deleted rows.
 */
export interface AwsThingBindingStore {
  add(binding: AwsThingBinding, scope?: TransactionScope): Promise<void>;
  /**
   * `add` while the binding's device is live (stored, not deleted, not decommissioned — read in the
   * statement that inserts, so as late as possible) and has no live binding: answers the binding
   * that is stored now — `binding` when it was inserted, else the device's existing one (a
   * redelivery, or another host that reserved first) — or `null` when the device is gone and has no
   * live binding. `DuplicateKeyError` (`"thingName"`) when another device's binding holds the thing
   * name. For bindings without events (the saga's Pending reservation); one statement when the
   * device is live and has none.
   */
  reserve(binding: AwsThingBinding): Promise<AwsThingBinding | null>;
  update(binding: AwsThingBinding, scope?: TransactionScope): Promise<void>;
  /** Marks the binding deleted (`markDeleted(change)`) and writes it like `update`. */
  softDelete(binding: AwsThingBinding, change: ChangeContext, scope?: TransactionScope): Promise<void>;
  /** The live binding of a device, seen through a tenant filter (another tenant's binding is `null`). */
  findByDevice(
    deviceId: string,
    tenant: TenantFilter,
    scope?: TransactionScope,
  ): Promise<AwsThingBinding | null>;
  /** The live binding of a thing, across tenants (the tenant is part of the name). */
  findByThingName(thingName: ThingName | string, scope?: TransactionScope): Promise<AwsThingBinding | null>;
  /**
   * Keyset page over live bindings in `statuses`, ordered by id (uses the `(status, id)` index).
   * Walking `nextCursor` until it is `null` returns every binding that matches for the whole walk
   * exactly once — never one twice, whatever is inserted or updated meanwhile; rows added during
   * the walk (uuidv7 ids sort last) show up in a later page or the next walk.
   */
  pageByStatus(query: PageBindingsByStatusQuery, scope?: TransactionScope): Promise<Page<AwsThingBinding>>;
}
