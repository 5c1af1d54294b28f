import type { ChangeContext, Page, TenantFilter } from "@granit/iot";
import type { FleetCredential } from "../domain/fleet-credential.ts";

/** A keyset page of one tenant's fleet keys, ordered by key id. */
export interface PageFleetCredentialsQuery {
  readonly tenant: TenantFilter;
  /** 1–1000. */
  readonly limit: number;
  readonly cursor?: string | null | undefined;
}

/**
 * Persistence port of the fleet keys (implemented by `@granit/iot-aws-postgres`, table
 * `iotaws_fleet_credentials`). `findByKeyId` is the authentication lookup and sees every tenant
 * (the key decides the tenant); every other read goes through a tenant filter.
 */
export interface FleetCredentialStore {
  /** `DuplicateKeyError` with `key` `"keyId"` when the id is taken. */
  add(credential: FleetCredential): Promise<void>;
  findByKeyId(keyId: string): Promise<FleetCredential | null>;
  page(query: PageFleetCredentialsQuery): Promise<Page<FleetCredential>>;
  /** Active → Revoked; returns the stored key (unchanged when already revoked), `null` when unknown to the tenant. */
  revoke(keyId: string, tenant: TenantFilter, change: ChangeContext): Promise<FleetCredential | null>;
}
