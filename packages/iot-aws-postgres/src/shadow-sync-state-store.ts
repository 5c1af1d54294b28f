/**
 * `ShadowSyncStateStore` on PostgreSQL / PGlite: the schedule the shadow delta pollers of every host
 * share (`iotaws_shadow_sync`).
 *
 * - `claimDue` is one statement: it locks the oldest due rows with `FOR UPDATE SKIP LOCKED` (two hosts
 *   never get the same row), moves their `next_poll_at` forward and stamps `last_polled_at`, and
 *   deletes due rows whose binding is no longer live and in `SHADOW_SYNC_STATES`. The claim commits at
 *   once; no transaction stays open while AWS is called.
 * - `recordDeltaFingerprint` is a compare-and-set (`IS DISTINCT FROM`) in the caller's transaction,
 *   so the `DeviceDesiredStateChangedEvent` and the fingerprint commit together or not at all.
 * - `trackActiveBindings` is one anti-join `INSERT … SELECT`: the reconciliation never brings rows
 *   into the process, whatever the fleet size.
 */
import type { TransactionScope } from "@granit/iot";
import {
  type ClaimDueShadowSyncQuery,
  SHADOW_SYNC_STATES,
  type ShadowPollFailure,
  type ShadowSyncClaim,
  type ShadowSyncEntry,
  type ShadowSyncStateStore,
  type TrackShadowSyncInput,
} from "@granit/iot-aws";
import type { Database } from "@granit/iot-postgres";
import { type SQL, sql } from "drizzle-orm";

/** Largest claim (`IoT:Aws:Shadow:PollBatchSize` allows 1–1000). */
export const MAX_SHADOW_SYNC_CLAIM = 1000;
/** Longer error texts are cut to this length (the column's CHECK). */
const ERROR_MAX_LENGTH = 1024;

/** `'Active'` — the statuses whose shadows are synced, as an SQL list (constants, not input). */
const SYNC_STATES = sql.raw([...SHADOW_SYNC_STATES].map((s) => `'${s}'`).join(", "));

interface SyncRow {
  binding_id: string;
  device_id: string;
  tenant_id: string | null;
  thing_name: string;
  next_poll_at: Date | string;
  last_polled_at: Date | string | null;
  last_delta_fingerprint: string | null;
  last_error: string | null;
  consecutive_failures: number;
}

function toEntry(row: SyncRow): ShadowSyncEntry {
  return {
    bindingId: row.binding_id,
    deviceId: row.device_id,
    tenantId: row.tenant_id,
    thingName: row.thing_name,
    nextPollAt: new Date(row.next_poll_at),
    lastPolledAt: row.last_polled_at === null ? null : new Date(row.last_polled_at),
    lastDeltaFingerprint: row.last_delta_fingerprint,
    consecutiveFailures: Number(row.consecutive_failures),
    lastError: row.last_error,
  };
}

const at = (date: Date) => sql`${date.toISOString()}::timestamptz`;

export class PostgresShadowSyncStateStore implements ShadowSyncStateStore {
  readonly #database: Database;

  constructor(database: Database) {
    this.#database = database;
  }

  async track(input: TrackShadowSyncInput, dueAt: Date, scope?: TransactionScope): Promise<boolean> {
    const rows = await this.#rows<{ binding_id: string }>(
      sql`INSERT INTO iotaws_shadow_sync (binding_id, device_id, tenant_id, thing_name, next_poll_at, created_at)
          VALUES (${input.bindingId}::uuid, ${input.deviceId}::uuid, ${input.tenantId}::uuid, ${input.thingName},
                  ${at(dueAt)}, ${at(dueAt)})
          ON CONFLICT (binding_id) DO NOTHING
          RETURNING binding_id`,
      scope,
    );
    return rows.length > 0;
  }

  async untrack(bindingId: string, scope?: TransactionScope): Promise<boolean> {
    const rows = await this.#rows(
      sql`DELETE FROM iotaws_shadow_sync WHERE binding_id = ${bindingId}::uuid RETURNING binding_id`,
      scope,
    );
    return rows.length > 0;
  }

  async trackActiveBindings(dueAt: Date): Promise<number> {
    const [row] = await this.#rows<{ n: number }>(sql`
      WITH inserted AS (
        INSERT INTO iotaws_shadow_sync (binding_id, device_id, tenant_id, thing_name, next_poll_at, created_at)
        SELECT b.id, b.device_id, b.tenant_id, b.thing_name, ${at(dueAt)}, ${at(dueAt)}
        FROM iotaws_thing_bindings b
        WHERE b.deleted_at IS NULL AND b.provisioning_status IN (${SYNC_STATES})
          AND NOT EXISTS (SELECT 1 FROM iotaws_shadow_sync s WHERE s.binding_id = b.id)
        ON CONFLICT (binding_id) DO NOTHING
        RETURNING 1
      )
      SELECT count(*)::int AS n FROM inserted`);
    return Number(row?.n ?? 0);
  }

  async claimDue(query: ClaimDueShadowSyncQuery): Promise<ShadowSyncClaim> {
    const limit = Math.min(Math.max(Math.trunc(query.limit), 1), MAX_SHADOW_SYNC_CLAIM);
    const rows = await this.#rows<SyncRow & { removed: number }>(sql`
      WITH due AS (
        SELECT s.binding_id,
               (b.id IS NOT NULL AND b.deleted_at IS NULL AND b.provisioning_status IN (${SYNC_STATES})) AS live
        FROM iotaws_shadow_sync s
        LEFT JOIN iotaws_thing_bindings b ON b.id = s.binding_id
        WHERE s.next_poll_at <= ${at(query.dueBy ?? query.now)}
        ORDER BY s.next_poll_at, s.binding_id
        LIMIT ${limit}
        FOR UPDATE OF s SKIP LOCKED
      ), removed AS (
        DELETE FROM iotaws_shadow_sync s USING due
        WHERE s.binding_id = due.binding_id AND NOT due.live
        RETURNING s.binding_id
      ), claimed AS (
        UPDATE iotaws_shadow_sync s
        SET next_poll_at = ${at(query.nextPollAt)}, last_polled_at = ${at(query.now)}
        FROM due
        WHERE s.binding_id = due.binding_id AND due.live
        RETURNING s.binding_id, s.device_id, s.tenant_id, s.thing_name, s.next_poll_at, s.last_polled_at,
                  s.last_delta_fingerprint, s.last_error, s.consecutive_failures
      )
      SELECT c.*, r.n AS removed
      FROM (SELECT count(*)::int AS n FROM removed) r LEFT JOIN claimed c ON true`);
    const removed = Number(rows[0]?.removed ?? 0);
    return { entries: rows.filter((row) => row.binding_id !== null).map(toEntry), removed };
  }

  async release(bindingIds: readonly string[], dueAt: Date): Promise<void> {
    if (bindingIds.length === 0) return;
    await this.#rows(sql`
      UPDATE iotaws_shadow_sync SET next_poll_at = ${at(dueAt)}
      WHERE binding_id = ANY(${sql.param([...bindingIds])}::uuid[])`);
  }

  async earliestDue(): Promise<Date | null> {
    const [row] = await this.#rows<{ due: Date | string | null }>(
      sql`SELECT min(next_poll_at) AS due FROM iotaws_shadow_sync`,
    );
    return row?.due ? new Date(row.due) : null;
  }

  async recordDeltaFingerprint(
    bindingId: string,
    fingerprint: string,
    scope?: TransactionScope,
  ): Promise<boolean> {
    const rows = await this.#rows(
      sql`UPDATE iotaws_shadow_sync SET last_delta_fingerprint = ${fingerprint}
          WHERE binding_id = ${bindingId}::uuid AND last_delta_fingerprint IS DISTINCT FROM ${fingerprint}
          RETURNING binding_id`,
      scope,
    );
    return rows.length > 0;
  }

  async clearDeltaFingerprint(
    bindingId: string,
    expected: string,
    scope?: TransactionScope,
  ): Promise<boolean> {
    const rows = await this.#rows(
      sql`UPDATE iotaws_shadow_sync SET last_delta_fingerprint = NULL
          WHERE binding_id = ${bindingId}::uuid AND last_delta_fingerprint = ${expected}
          RETURNING binding_id`,
      scope,
    );
    return rows.length > 0;
  }

  async recordPollFailures(failures: readonly ShadowPollFailure[]): Promise<void> {
    if (failures.length === 0) return;
    await this.#rows(sql`
      UPDATE iotaws_shadow_sync s
      SET consecutive_failures = s.consecutive_failures + 1, last_error = f.error
      FROM unnest(${sql.param(failures.map((f) => f.bindingId))}::uuid[],
                  ${sql.param(failures.map((f) => f.error.slice(0, ERROR_MAX_LENGTH)))}::text[]) AS f(id, error)
      WHERE s.binding_id = f.id`);
  }

  async recordPollSuccesses(bindingIds: readonly string[]): Promise<void> {
    if (bindingIds.length === 0) return;
    await this.#rows(sql`
      UPDATE iotaws_shadow_sync SET consecutive_failures = 0, last_error = NULL
      WHERE binding_id = ANY(${sql.param([...bindingIds])}::uuid[]) AND consecutive_failures > 0`);
  }

  async find(bindingId: string, scope?: TransactionScope): Promise<ShadowSyncEntry | null> {
    const [row] = await this.#rows<SyncRow>(
      sql`SELECT * FROM iotaws_shadow_sync WHERE binding_id = ${bindingId}::uuid`,
      scope,
    );
    return row ? toEntry(row) : null;
  }

  async #rows<R = Record<string, unknown>>(query: SQL, scope?: TransactionScope): Promise<R[]> {
    const result = (await this.#database.executor(scope).execute(query)) as unknown as { rows: R[] };
    return result.rows;
  }
}
