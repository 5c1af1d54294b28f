import type { TenantId, TransactionScope } from "@granit/iot";

/** A binding under shadow sync, as the delta poller claims it. */
export interface ShadowSyncEntry {
  readonly bindingId: string;
  readonly deviceId: string;
  readonly tenantId: TenantId | null;
  readonly thingName: string;
  /** The binding is due for a poll at or after this instant. */
  readonly nextPollAt: Date;
  /** When a poller last claimed the binding (`null` before the first claim). */
  readonly lastPolledAt: Date | null;
  /** Fingerprint of the last published desired state; `null` once the delta disappeared. */
  readonly lastDeltaFingerprint: string | null;
  /** Polls that failed in a row (not found, throttled, malformed document, ...); 0 after a success. */
  readonly consecutiveFailures: number;
  /** Name and message of the last failure (no document content). */
  readonly lastError: string | null;
}

/** What `track` needs: the identity of an Active binding. */
export interface TrackShadowSyncInput {
  readonly bindingId: string;
  readonly deviceId: string;
  readonly tenantId: TenantId | null;
  readonly thingName: string;
}

/** A claim of due bindings. */
export interface ClaimDueShadowSyncQuery {
  /** The claim instant: claimed rows get `lastPolledAt = now`. */
  readonly now: Date;
  /**
   * Rows with `nextPollAt <= dueBy` are due. A poller pass passes its start, so rows that come due
   * again during a long pass wait for the next pass instead of overtaking rows never reached.
   * @default now
   */
  readonly dueBy?: Date | undefined;
  /** At most this many rows, 1–1000 (`IoT:Aws:Shadow:PollBatchSize`). */
  readonly limit: number;
  /** The claimed rows' new `nextPollAt` (`now` + the poll interval). */
  readonly nextPollAt: Date;
}

/** What one claim returned. */
export interface ShadowSyncClaim {
  /** The claimed rows: poll each binding now. */
  readonly entries: readonly ShadowSyncEntry[];
  /**
   * Due rows the claim removed because their binding left `SHADOW_SYNC_STATES`. They count toward
   * `limit`: when `entries.length + removed === limit`, more rows may be due.
   */
  readonly removed: number;
}

/** One failed poll, recorded against its binding. */
export interface ShadowPollFailure {
  readonly bindingId: string;
  /** Error name and message, cut to 1024 characters; never shadow content or key material. */
  readonly error: string;
}

/**
 * Persistence port of the shadow delta poller (implemented by `@granit/iot-aws-postgres`): one row
 * per binding in `SHADOW_SYNC_STATES`, with when it is next due and the fingerprint of the desired
 * state last published for it.
 *
 * Claims are the lease: `claimDue` locks due rows with `FOR UPDATE SKIP LOCKED`, moves their
 * `nextPollAt` to `query.nextPollAt` and sets `lastPolledAt` in the same statement, so pollers on
 * several hosts share one sweep and each binding is claimed at most once per interval; rows not
 * reached in time simply stay due (a slow sweep spreads over the next intervals). Rows whose binding
 * left `SHADOW_SYNC_STATES` (failed, decommissioned, deleted) are removed by the claim that finds
 * them. `recordDeltaFingerprint` is a compare-and-set that joins the caller's transaction, so the
 * event and the fingerprint commit together (transactional outbox).
 */
export interface ShadowSyncStateStore {
  /** Starts syncing a binding, due at `dueAt`; a no-op (`false`) when it is already tracked. */
  track(input: TrackShadowSyncInput, dueAt: Date, scope?: TransactionScope): Promise<boolean>;
  /** Stops syncing a binding; `false` when it was not tracked. */
  untrack(bindingId: string, scope?: TransactionScope): Promise<boolean>;
  /**
   * Tracks every live binding in `SHADOW_SYNC_STATES` that has no row yet (reconciliation: bindings
   * that returned to Active through `retry()`, or predate the shadow bridge). Returns how many it added.
   */
  trackActiveBindings(dueAt: Date): Promise<number>;
  /** Claims up to `limit` due rows, oldest due first (see the interface comment). */
  claimDue(query: ClaimDueShadowSyncQuery): Promise<ShadowSyncClaim>;
  /** Makes claimed rows that were not polled (shutdown) due again at `dueAt`. */
  release(bindingIds: readonly string[], dueAt: Date): Promise<void>;
  /** The earliest `nextPollAt` of all rows, or `null` when none is tracked. */
  earliestDue(): Promise<Date | null>;
  /**
   * Sets the last published fingerprint when it differs from `fingerprint`; `true` when it changed
   * (publish the event in the same `scope`), `false` when it was already this one or the binding is
   * not tracked (publish nothing).
   */
  recordDeltaFingerprint(bindingId: string, fingerprint: string, scope?: TransactionScope): Promise<boolean>;
  /** Clears the fingerprint if it still is `expected` (the delta disappeared); `true` when cleared. */
  clearDeltaFingerprint(bindingId: string, expected: string, scope?: TransactionScope): Promise<boolean>;
  /** Counts one more failure for each binding and keeps its error text. */
  recordPollFailures(failures: readonly ShadowPollFailure[]): Promise<void>;
  /** Resets the failure count and error of bindings whose poll succeeded again. */
  recordPollSuccesses(bindingIds: readonly string[]): Promise<void>;
  find(bindingId: string, scope?: TransactionScope): Promise<ShadowSyncEntry | null>;
}
