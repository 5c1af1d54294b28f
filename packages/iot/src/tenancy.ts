import { DomainValidationError } from "./errors.ts";
import { isUuid } from "./ids.ts";

/**
 * Multi-tenancy. A tenant id is a UUID; `null` is the host (devices that belong to no tenant).
 * Reads are always scoped by a `TenantFilter`: a tenant id or `null` sees only that tenant's rows,
 * `ALL_TENANTS` is reserved for background services (sagas, pollers) and must never be derived
 * from a request.
 */
export type TenantId = string;

/** Marker for system code that reads across every tenant. */
export const ALL_TENANTS: unique symbol = Symbol.for("granit.iot.allTenants");

export type TenantFilter = TenantId | null | typeof ALL_TENANTS;

/** Who is calling: the tenant (from the credential, never from a request body) and the actor id. */
export interface TenantContext {
  readonly tenantId: TenantId | null;
  /** Identity written to the audit columns (`created_by`, ...). */
  readonly actor: string | null;
}

/** Validates and normalises (lower-case) a tenant id; `null`/`undefined` mean the host. */
export function parseTenantId(value: unknown, field = "tenantId"): TenantId | null {
  if (value === null || value === undefined) return null;
  if (!isUuid(value)) throw DomainValidationError.single(field, "uuid", "must be a UUID or null");
  return value.toLowerCase();
}

/** The metric/log tag value for a tenant: its id, or `"host"` for host devices. */
export function tenantTag(tenantId: TenantId | null | undefined): string {
  return tenantId ?? "host";
}
