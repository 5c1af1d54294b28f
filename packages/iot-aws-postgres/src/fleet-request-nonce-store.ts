/**
 * `FleetRequestNonceStore` on PostgreSQL / PGlite (`iotaws_fleet_request_nonces`): insert-or-fail
 * on the signature hash (`ON CONFLICT DO NOTHING RETURNING`). Two hosts receiving the same signed
 * request at once race on the primary key: one insert wins, the other sees no row and reports a
 * replay. In the caller's transaction (scope) a request that fails later leaves no nonce behind.
 */
import type { TransactionScope } from "@granit/iot";
import type { FleetRequestNonce, FleetRequestNonceStore } from "@granit/iot-aws";
import type { Database } from "@granit/iot-postgres";
import { sql } from "drizzle-orm";
import { iotawsFleetRequestNonces } from "./schema/fleet-provisioning.ts";

export class PostgresFleetRequestNonceStore implements FleetRequestNonceStore {
  readonly #database: Database;

  constructor(database: Database) {
    this.#database = database;
  }

  async remember(nonce: FleetRequestNonce, scope?: TransactionScope): Promise<boolean> {
    const inserted = await this.#database
      .executor(scope)
      .insert(iotawsFleetRequestNonces)
      .values({ signatureHash: nonce.hash, keyId: nonce.keyId, expiresAt: nonce.expiresAt })
      .onConflictDoNothing()
      .returning({ hash: iotawsFleetRequestNonces.signatureHash });
    return inserted.length > 0;
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
}
