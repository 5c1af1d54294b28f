/**
 * `BindingLock` on PostgreSQL / PGlite: `Database.withAdvisoryLock` keyed by the device id. On
 * PostgreSQL a session-level advisory lock on a dedicated connection (freed when the process dies);
 * on PGlite an in-process lock (PGlite is one process per data directory).
 */
import type { BindingLock, BindingLockResult } from "@granit/iot-aws";
import type { Database } from "@granit/iot-postgres";

/** Namespace of the lock keys, so they never collide with other users of advisory locks. */
const KEY_PREFIX = "granit.iot.aws.binding:";

export class PostgresBindingLock implements BindingLock {
  readonly #database: Database;

  constructor(database: Database) {
    this.#database = database;
  }

  tryRun<T>(
    deviceId: string,
    work: (signal: AbortSignal, release: () => void) => Promise<T>,
  ): Promise<BindingLockResult<T>> {
    return this.#database.withAdvisoryLock(`${KEY_PREFIX}${deviceId.toLowerCase()}`, work);
  }
}
