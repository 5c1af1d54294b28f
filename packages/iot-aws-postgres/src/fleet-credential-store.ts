/**
 * `FleetCredentialStore` on PostgreSQL / PGlite (`iotaws_fleet_credentials`). Only ciphertext is
 * stored; this store never sees a clear secret. `findByKeyId` is the authentication lookup (every
 * tenant: the key decides the tenant); listing and revoking go through a tenant filter.
 */
import {
  ALL_TENANTS,
  type ChangeContext,
  DuplicateKeyError,
  type Page,
  type TenantFilter,
} from "@granit/iot";
import {
  type FleetCredential,
  type FleetCredentialStatus,
  type FleetCredentialStore,
  type PageFleetCredentialsQuery,
  FleetCredentialStatus as Status,
} from "@granit/iot-aws";
import { type Database, encodeCursor, PG_UNIQUE_VIOLATION, sqlState } from "@granit/iot-postgres";
import { and, asc, eq, gt, isNull, type SQL } from "drizzle-orm";
import { decodeTextCursor } from "./claim-certificate-store.ts";
import { iotawsFleetCredentials } from "./schema/fleet-provisioning.ts";

type Row = typeof iotawsFleetCredentials.$inferSelect;

/** Largest page `page` returns. */
export const MAX_FLEET_CREDENTIAL_PAGE_SIZE = 1000;

function fromRow(row: Row): FleetCredential {
  return {
    keyId: row.keyId,
    tenantId: row.tenantId,
    secretCiphertext: row.secretCiphertext,
    description: row.description,
    status: row.status as FleetCredentialStatus,
    createdAt: row.createdAt,
    createdBy: row.createdBy,
    revokedAt: row.revokedAt,
    revokedBy: row.revokedBy,
  };
}

function tenantCondition(tenant: TenantFilter): SQL | undefined {
  if (tenant === ALL_TENANTS) return undefined;
  return tenant === null
    ? isNull(iotawsFleetCredentials.tenantId)
    : eq(iotawsFleetCredentials.tenantId, tenant);
}

export class PostgresFleetCredentialStore implements FleetCredentialStore {
  readonly #database: Database;

  constructor(database: Database) {
    this.#database = database;
  }

  async add(credential: FleetCredential): Promise<void> {
    try {
      await this.#database.db.insert(iotawsFleetCredentials).values({ ...credential });
    } catch (error) {
      if (sqlState(error) === PG_UNIQUE_VIOLATION) {
        throw new DuplicateKeyError("FleetCredential", "keyId", `Fleet key '${credential.keyId}' exists.`, {
          cause: error,
        });
      }
      throw error;
    }
  }

  async findByKeyId(keyId: string): Promise<FleetCredential | null> {
    const rows = await this.#database.db
      .select()
      .from(iotawsFleetCredentials)
      .where(eq(iotawsFleetCredentials.keyId, keyId));
    return rows[0] ? fromRow(rows[0]) : null;
  }

  async page(query: PageFleetCredentialsQuery): Promise<Page<FleetCredential>> {
    const limit = Math.min(Math.max(Math.trunc(query.limit), 1), MAX_FLEET_CREDENTIAL_PAGE_SIZE);
    const after = decodeTextCursor(query.cursor);
    const rows = await this.#database.db
      .select()
      .from(iotawsFleetCredentials)
      .where(
        and(
          tenantCondition(query.tenant),
          after !== null ? gt(iotawsFleetCredentials.keyId, after) : undefined,
        ),
      )
      .orderBy(asc(iotawsFleetCredentials.keyId))
      .limit(limit + 1);
    const items = rows.slice(0, limit).map(fromRow);
    const last = items.at(-1);
    return { items, nextCursor: rows.length > limit && last ? encodeCursor([last.keyId]) : null };
  }

  async revoke(keyId: string, tenant: TenantFilter, change: ChangeContext): Promise<FleetCredential | null> {
    const updated = await this.#database.db
      .update(iotawsFleetCredentials)
      .set({ status: Status.Revoked, revokedAt: change.at, revokedBy: change.by })
      .where(
        and(
          eq(iotawsFleetCredentials.keyId, keyId),
          eq(iotawsFleetCredentials.status, Status.Active),
          tenantCondition(tenant),
        ),
      )
      .returning();
    if (updated[0]) return fromRow(updated[0]);
    const rows = await this.#database.db
      .select()
      .from(iotawsFleetCredentials)
      .where(and(eq(iotawsFleetCredentials.keyId, keyId), tenantCondition(tenant)));
    return rows[0] ? fromRow(rows[0]) : null;
  }
}
