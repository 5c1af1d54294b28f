/** What `BindingLock.tryRun` returns: the work's value, or `acquired: false` when someone holds the lock. */
export type BindingLockResult<T> =
  | { readonly acquired: true; readonly value: T }
  | { readonly acquired: false };

/**
 * Mutual exclusion per device across every host on one database: at most one piece of work (a
 * provisioning saga run, a decommission, a reconcile repair) touches a device's AWS resources at a
 * time. Message delivery is at-least-once and may run a handler twice at once on two hosts; the
 * lock turns that into "one runs, the other retries later".
 *
 * A try-lock: `tryRun` never waits — it answers `{ acquired: false }` at once when the device is
 * busy (throw a retryable error and let the bus redeliver). The lock is released when `work`
 * settles, and by the database when the holding process dies. `work` receives a signal that aborts
 * if the lock is lost meanwhile (e.g. the database connection dropped): stop at the next checkpoint.
 * Implemented by `PostgresBindingLock` in `@granit/iot-aws-postgres`.
 */
export interface BindingLock {
  /**
   * `work` may call `release` to let the lock go before it settles — with its last write in flight,
   * when a run that takes the lock meanwhile can only lose to that write (optimistic concurrency):
   * the release and the write then travel at once. `tryRun` still resolves only once the lock is
   * released, so whatever the caller does next finds the device free. Idempotent.
   */
  tryRun<T>(
    deviceId: string,
    work: (signal: AbortSignal, release: () => void) => Promise<T>,
  ): Promise<BindingLockResult<T>>;
}
