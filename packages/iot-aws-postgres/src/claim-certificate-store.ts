/**
 * `ClaimCertificateStore` on PostgreSQL / PGlite (`iotaws_claim_certificates`). The certificate id
 * is the primary key across tenants (AWS ids are account-wide): a second registration is a
 * `DuplicateKeyError` with `key` `"certificateId"`. Reads and status changes go through a tenant
 * filter, so another tenant's certificate looks exactly like an unknown one.
 */
import {
  ALL_TENANTS,
  type ChangeContext,
  DomainValidationError,
  DuplicateKeyError,
  type Page,
  type TenantFilter,
  type TransactionScope,
} from "@granit/iot";
import {
  type ClaimCertificate,
  type ClaimCertificateStatus,
  type ClaimCertificateStore,
  isClaimCertificateStatus,
  type PageClaimCertificatesQuery,
} from "@granit/iot-aws";
import {
  type Database,
  decodeCursor,
  encodeCursor,
  PG_UNIQUE_VIOLATION,
  sqlState,
} from "@granit/iot-postgres";
import { and, asc, eq, gt, isNull, ne, type SQL, sql } from "drizzle-orm";
import { iotawsClaimCertificates } from "./schema/fleet-provisioning.ts";

type Row = typeof iotawsClaimCertificates.$inferSelect;

/** Largest page `page` returns. */
export const MAX_CLAIM_CERTIFICATE_PAGE_SIZE = 1000;

export function claimCertificateFromRow(row: Row): ClaimCertificate {
  return {
    certificateId: row.certificateId,
    tenantId: row.tenantId,
    templateName: row.templateName,
    notAfter: row.notAfter,
    status: row.status as ClaimCertificateStatus,
    description: row.description,
    audit: {
      createdAt: row.createdAt,
      createdBy: row.createdBy,
      modifiedAt: row.modifiedAt,
      modifiedBy: row.modifiedBy,
      deletedAt: null,
      deletedBy: null,
    },
    version: row.version,
  };
}

function tenantCondition(tenant: TenantFilter): SQL | undefined {
  if (tenant === ALL_TENANTS) return undefined;
  return tenant === null
    ? isNull(iotawsClaimCertificates.tenantId)
    : eq(iotawsClaimCertificates.tenantId, tenant);
}

/** A cursor this store issued holds one certificate id; anything else is a 400 on `cursor`. */
export function decodeTextCursor(cursor: string | null | undefined): string | null {
  const key = decodeCursor(cursor);
  if (key === null) return null;
  if (key.length !== 1 || typeof key[0] !== "string" || key[0].length > 256) {
    throw DomainValidationError.single(
      "cursor",
      "format",
      "is not a cursor this API returned; start again without one",
    );
  }
  return key[0];
}

export class PostgresClaimCertificateStore implements ClaimCertificateStore {
  readonly #database: Database;

  constructor(database: Database) {
    this.#database = database;
  }

  async add(certificate: ClaimCertificate): Promise<void> {
    try {
      await this.#database.db.insert(iotawsClaimCertificates).values({
        certificateId: certificate.certificateId,
        tenantId: certificate.tenantId,
        templateName: certificate.templateName,
        notAfter: certificate.notAfter,
        status: certificate.status,
        description: certificate.description,
        createdAt: certificate.audit.createdAt,
        createdBy: certificate.audit.createdBy,
        modifiedAt: certificate.audit.modifiedAt,
        modifiedBy: certificate.audit.modifiedBy,
        version: certificate.version,
      });
    } catch (error) {
      if (sqlState(error) === PG_UNIQUE_VIOLATION) {
        throw new DuplicateKeyError(
          "ClaimCertificate",
          "certificateId",
          `Claim certificate '${certificate.certificateId}' is already registered.`,
          { cause: error },
        );
      }
      throw error;
    }
  }

  async find(
    certificateId: string,
    tenant: TenantFilter,
    scope?: TransactionScope,
  ): Promise<ClaimCertificate | null> {
    const rows = await this.#database
      .executor(scope)
      .select()
      .from(iotawsClaimCertificates)
      .where(and(eq(iotawsClaimCertificates.certificateId, certificateId), tenantCondition(tenant)));
    return rows[0] ? claimCertificateFromRow(rows[0]) : null;
  }

  async page(query: PageClaimCertificatesQuery): Promise<Page<ClaimCertificate>> {
    const limit = Math.min(Math.max(Math.trunc(query.limit), 1), MAX_CLAIM_CERTIFICATE_PAGE_SIZE);
    const after = decodeTextCursor(query.cursor);
    if (query.status !== undefined && !isClaimCertificateStatus(query.status)) {
      throw DomainValidationError.single("status", "enum", "must be Active or Inactive");
    }
    const rows = await this.#database.db
      .select()
      .from(iotawsClaimCertificates)
      .where(
        and(
          tenantCondition(query.tenant),
          query.status ? eq(iotawsClaimCertificates.status, query.status) : undefined,
          after !== null ? gt(iotawsClaimCertificates.certificateId, after) : undefined,
        ),
      )
      .orderBy(asc(iotawsClaimCertificates.certificateId))
      .limit(limit + 1);
    const items = rows.slice(0, limit).map(claimCertificateFromRow);
    const last = items.at(-1);
    return { items, nextCursor: rows.length > limit && last ? encodeCursor([last.certificateId]) : null };
  }

  async setStatus(
    certificateId: string,
    tenant: TenantFilter,
    status: ClaimCertificateStatus,
    change: ChangeContext,
  ): Promise<ClaimCertificate | null> {
    const db = this.#database.db;
    const updated = await db
      .update(iotawsClaimCertificates)
      .set({
        status,
        modifiedAt: change.at,
        modifiedBy: change.by,
        version: sql`${iotawsClaimCertificates.version} + 1`,
      })
      .where(
        and(
          eq(iotawsClaimCertificates.certificateId, certificateId),
          tenantCondition(tenant),
          // Only a real change bumps the version and the audit columns.
          ne(iotawsClaimCertificates.status, status),
        ),
      )
      .returning();
    if (updated[0]) return claimCertificateFromRow(updated[0]);
    return this.find(certificateId, tenant);
  }
}
