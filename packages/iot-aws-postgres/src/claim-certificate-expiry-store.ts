/**
 * `ClaimCertificateExpiryStore` on PostgreSQL / PGlite: the reads and writes of the claim-certificate
 * rotation check.
 *
 * - Keyset pages over registered Active claim certificates and over live Active JITP bindings whose
 *   claim certificate expires before a given instant (every tenant; the check is system code).
 * - `recordNotice` inserts into `iotaws_claim_expiry_notices` with `ON CONFLICT DO NOTHING` on
 *   `(subject_key, window_starts_at)` and publishes the event on the bus **in the same transaction**:
 *   exactly one event per subject and window, however many hosts or sweeps ask.
 * - `claimSweep` moves a sweep's due time forward only when it was due (one statement, upsert with a
 *   `WHERE` on the conflict update): one host wins each interval.
 */
import { type DomainEvent, type MessageBus, type Page, uuidv7 } from "@granit/iot";
import type {
  ClaimCertificate,
  ClaimCertificateExpiringEvent,
  ClaimCertificateExpiryStore,
  ClaimExpiryNotice,
  JitpClaimExpiry,
  PageExpiringQuery,
} from "@granit/iot-aws";
import { type Database, encodeCursor } from "@granit/iot-postgres";
import { and, asc, eq, gt, isNotNull, isNull, lte, sql } from "drizzle-orm";
import { claimCertificateFromRow, decodeTextCursor } from "./claim-certificate-store.ts";
import {
  iotawsClaimCertificates,
  iotawsClaimExpiryNotices,
  iotawsFleetSweeps,
} from "./schema/fleet-provisioning.ts";
import { iotawsThingBindings } from "./schema/thing-bindings.ts";

/** Largest page the rotation check may ask for (`RotationCheckBatchSize` ≤ 10000). */
export const MAX_EXPIRY_PAGE_SIZE = 10_000;

const clampLimit = (limit: number) => Math.min(Math.max(Math.trunc(limit), 1), MAX_EXPIRY_PAGE_SIZE);

export class PostgresClaimCertificateExpiryStore implements ClaimCertificateExpiryStore {
  readonly #database: Database;
  readonly #bus: MessageBus;

  constructor(database: Database, bus: MessageBus) {
    this.#database = database;
    this.#bus = bus;
  }

  async pageExpiringCertificates(query: PageExpiringQuery): Promise<Page<ClaimCertificate>> {
    const limit = clampLimit(query.limit);
    const after = decodeTextCursor(query.cursor);
    const rows = await this.#database.db
      .select()
      .from(iotawsClaimCertificates)
      .where(
        and(
          eq(iotawsClaimCertificates.status, "Active"),
          lte(iotawsClaimCertificates.notAfter, query.expiresBefore),
          after !== null ? gt(iotawsClaimCertificates.certificateId, after) : undefined,
        ),
      )
      .orderBy(asc(iotawsClaimCertificates.certificateId))
      .limit(limit + 1);
    const items = rows.slice(0, limit).map(claimCertificateFromRow);
    const last = items.at(-1);
    return { items, nextCursor: rows.length > limit && last ? encodeCursor([last.certificateId]) : null };
  }

  async pageExpiringJitpBindings(query: PageExpiringQuery): Promise<Page<JitpClaimExpiry>> {
    const limit = clampLimit(query.limit);
    const after = decodeTextCursor(query.cursor);
    const b = iotawsThingBindings;
    const rows = await this.#database.db
      .select({
        bindingId: b.id,
        deviceId: b.deviceId,
        tenantId: b.tenantId,
        thingName: b.thingName,
        claimCertificateId: b.claimCertificateId,
        claimCertificateExpiresAt: b.claimCertificateExpiresAt,
      })
      .from(b)
      .where(
        and(
          isNull(b.deletedAt),
          eq(b.provisioningStatus, "Active"),
          eq(b.provisionedViaJitp, true),
          isNotNull(b.claimCertificateExpiresAt),
          lte(b.claimCertificateExpiresAt, query.expiresBefore),
          after !== null ? gt(b.id, after) : undefined,
        ),
      )
      .orderBy(asc(b.id))
      .limit(limit + 1);
    const items: JitpClaimExpiry[] = rows.slice(0, limit).map((row) => ({
      ...row,
      claimCertificateExpiresAt: row.claimCertificateExpiresAt as Date,
    }));
    const last = items.at(-1);
    return { items, nextCursor: rows.length > limit && last ? encodeCursor([last.bindingId]) : null };
  }

  recordNotice(notice: ClaimExpiryNotice, event: ClaimCertificateExpiringEvent): Promise<boolean> {
    return this.#database.transaction(async (tx, scope) => {
      const inserted = await tx
        .insert(iotawsClaimExpiryNotices)
        .values({ id: uuidv7(notice.notifiedAt.getTime()), ...notice })
        .onConflictDoNothing()
        .returning({ id: iotawsClaimExpiryNotices.id });
      if (inserted.length === 0) return false;
      await this.#bus.publish([event as DomainEvent], scope);
      return true;
    });
  }

  async claimSweep(name: string, now: Date, nextRunAt: Date, by: string): Promise<boolean> {
    const claimed = await this.#database.db
      .insert(iotawsFleetSweeps)
      .values({ name, nextRunAt, lastRunAt: now, lastRunBy: by })
      .onConflictDoUpdate({
        target: iotawsFleetSweeps.name,
        set: { nextRunAt, lastRunAt: now, lastRunBy: by },
        setWhere: sql`${iotawsFleetSweeps.nextRunAt} <= ${now.toISOString()}::timestamptz`,
      })
      .returning({ name: iotawsFleetSweeps.name });
    return claimed.length > 0;
  }
}
