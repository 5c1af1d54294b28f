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
  tryRun<T>(deviceId: string, work: (signal: AbortSignal) => Promise<T>): Promise<BindingLockResult<T>>;
}
