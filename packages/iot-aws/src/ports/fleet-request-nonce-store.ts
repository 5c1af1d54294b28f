import type { TransactionScope } from "@granit/iot";

/** One accepted signed request, remembered until its signature could no longer be accepted. */
export interface FleetRequestNonce {
  /** Hex SHA-256 of the request signature. */
  readonly hash: string;
  readonly keyId: string;
  /** The signed timestamp plus the tolerance: after it the signature is refused as stale anyway. */
  readonly expiresAt: Date;
}

/**
 * Replay protection of the signed fleet endpoints, shared by every host on the database
 * (implemented by `@granit/iot-aws-postgres`, table `iotaws_fleet_request_nonces`).
 *
 * `remember` is insert-or-fail: it returns `true` the first time a signature is seen and `false`
 * for a replay, also when two hosts receive the same request at once. With a `scope` it joins the
 * caller's transaction, so a request that fails later leaves no nonce behind.
 */
export interface FleetRequestNonceStore {
  remember(nonce: FleetRequestNonce, scope?: TransactionScope): Promise<boolean>;
  /** Deletes up to `limit` nonces that expired before `now`; returns how many. */
  purgeExpired(now: Date, limit?: number): Promise<number>;
}
