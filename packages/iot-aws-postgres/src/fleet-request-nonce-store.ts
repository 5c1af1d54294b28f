/**
 * `FleetRequestNonceStore` on PostgreSQL / PGlite (`iotaws_fleet_request_nonces`): insert-or-fail
 * on the signature hash (`ON CONFLICT DO NOTHING RETURNING`). Two hosts receiving the same signed
 * request at once race on the primary key: one insert wins, the other sees no row and reports a
 * replay. In the caller's transaction (scope) a request that fails later leaves no nonce behind.
 *
 * Without a scope (the `/verify` path) nonces are **micro-batched**: at most `maxInFlight`
 * statements run at once and the nonces that arrive meanwhile go into the next one, a single
 * `INSERT … SELECT unnest(…) ON CONFLICT DO NOTHING RETURNING` with one commit. Under light load
 * every nonce gets its own statement (no added latency); under heavy load the commits — the
 * expensive part — are shared. A hash repeated inside one batch is a replay for all but its first.
 */
import type { TransactionScope } from "@granit/iot";
import type { FleetRequestNonce, FleetRequestNonceStore } from "@granit/iot-aws";
import type { Database } from "@granit/iot-postgres";
import { sql } from "drizzle-orm";
import { iotawsFleetRequestNonces } from "./schema/fleet-provisioning.ts";

interface Waiter {
  readonly nonce: FleetRequestNonce;
  readonly resolve: (fresh: boolean) => void;
  readonly reject: (error: unknown) => void;
}

/** Largest number of nonces one statement inserts. */
const MAX_BATCH = 500;

export class PostgresFleetRequestNonceStore implements FleetRequestNonceStore {
  readonly #database: Database;
  readonly #maxInFlight: number;
  readonly #queue: Waiter[] = [];
  #inFlight = 0;

  /** @param options.maxInFlight statements running at once for unscoped nonces. @default 4 */
  constructor(database: Database, options: { readonly maxInFlight?: number } = {}) {
    this.#database = database;
    this.#maxInFlight = Math.max(1, options.maxInFlight ?? 4);
  }

  remember(nonce: FleetRequestNonce, scope?: TransactionScope): Promise<boolean> {
    if (scope) return this.#insertOne(nonce, scope);
    return new Promise<boolean>((resolve, reject) => {
      this.#queue.push({ nonce, resolve, reject });
      this.#drain();
    });
  }

  async purgeExpired(now: Date, limit = 10_000): Promise<number> {
    const result = (await this.#database.db.execute(sql`
      DELETE FROM iotaws_fleet_request_nonces WHERE signature_hash IN (
        SELECT signature_hash FROM iotaws_fleet_request_nonces
        WHERE expires_at < ${now.toISOString()}::timestamptz
        ORDER BY expires_at LIMIT ${Math.max(1, Math.trunc(limit))}
        FOR UPDATE SKIP LOCKED)
      RETURNING 1`)) as unknown as { rows: unknown[] };
    return result.rows.length;
  }

  async #insertOne(nonce: FleetRequestNonce, scope: TransactionScope): Promise<boolean> {
    const inserted = await this.#database
      .executor(scope)
      .insert(iotawsFleetRequestNonces)
      .values({ signatureHash: nonce.hash, keyId: nonce.keyId, expiresAt: nonce.expiresAt })
      .onConflictDoNothing()
      .returning({ hash: iotawsFleetRequestNonces.signatureHash });
    return inserted.length > 0;
  }

  #drain(): void {
    while (this.#inFlight < this.#maxInFlight && this.#queue.length > 0) {
      const batch = this.#queue.splice(0, MAX_BATCH);
      this.#inFlight++;
      void this.#insertBatch(batch).finally(() => {
        this.#inFlight--;
        this.#drain();
      });
    }
  }

  async #insertBatch(batch: readonly Waiter[]): Promise<void> {
    const first = new Map<string, FleetRequestNonce>();
    for (const { nonce } of batch) if (!first.has(nonce.hash)) first.set(nonce.hash, nonce);
    const nonces = [...first.values()];
    try {
      const result = (await this.#database.db.execute(sql`
        INSERT INTO iotaws_fleet_request_nonces (signature_hash, key_id, expires_at)
        SELECT * FROM unnest(${sql.param(nonces.map((n) => n.hash))}::text[],
                             ${sql.param(nonces.map((n) => n.keyId))}::text[],
                             ${sql.param(nonces.map((n) => n.expiresAt.toISOString()))}::timestamptz[])
        ON CONFLICT DO NOTHING
        RETURNING signature_hash`)) as unknown as { rows: { signature_hash: string }[] };
      const inserted = new Set(result.rows.map((row) => row.signature_hash));
      const answered = new Set<string>();
      for (const waiter of batch) {
        const fresh = inserted.has(waiter.nonce.hash) && !answered.has(waiter.nonce.hash);
        answered.add(waiter.nonce.hash);
        waiter.resolve(fresh);
      }
    } catch (error) {
      for (const waiter of batch) waiter.reject(error);
    }
  }
}
