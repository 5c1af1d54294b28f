/**
 * One handle on the database, PostgreSQL (node-postgres pool) or embedded PGlite, with the same
 * Drizzle query API on both. It owns connections, transactions (as core `TransactionScope`s),
 * LISTEN/NOTIFY and shutdown.
 *
 * PGlite rules this class enforces: one instance per process and data directory (lock file), and
 * inside a transaction only the transaction handle is used (the outer handle would wait on the
 * transaction it is part of). Stores therefore take the executor from `executorOf(scope)`.
 */
import { PGlite } from "@electric-sql/pglite";
import type { TransactionScope, UnitOfWork } from "@granit/iot";
import { fillPlaceholders, type SQL } from "drizzle-orm";
import { drizzle as drizzlePg } from "drizzle-orm/node-postgres";
import { migrate as migratePg } from "drizzle-orm/node-postgres/migrator";
import { type PgDatabase, PgDialect, type PgQueryResultHKT } from "drizzle-orm/pg-core";
import { drizzle as drizzlePglite } from "drizzle-orm/pglite";
import { migrate as migratePglite } from "drizzle-orm/pglite/migrator";
import pg from "pg";
import { acquireDataDirLock } from "./internal/data-dir-lock.ts";

/** A Drizzle handle: the database itself or an open transaction. */
// biome-ignore lint/suspicious/noExplicitAny: the two drivers differ only in their result HKT.
export type SqlExecutor = PgDatabase<PgQueryResultHKT, any>;

export interface DatabaseOptions {
  /** `postgres://...` selects PostgreSQL; absent selects PGlite. */
  readonly url?: string | undefined;
  /** PGlite data directory; absent = in-memory. Ignored for PostgreSQL. */
  readonly dataDir?: string | undefined;
  /** Schema the tables live in (search_path). @default "public" */
  readonly schema?: string | undefined;
  /** PostgreSQL pool size. @default 10 */
  readonly poolSize?: number | undefined;
  /** Share an already-open PGlite instance (tests: one WASM instance per file, one schema per test). */
  readonly pglite?: PGlite | undefined;
  readonly applicationName?: string | undefined;
}

const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

/** What `Database.withAdvisoryLock` returns: the work's value, or `acquired: false` when the key is held. */
export type AdvisoryLockResult<T> =
  | { readonly acquired: true; readonly value: T }
  | { readonly acquired: false };

/**
 * Keys held in this process, per PGlite instance (every `Database` sharing one instance shares its
 * locks) — PGlite is one process per data directory, so this is the whole lock there.
 */
const pgliteHeldLocks = new WeakMap<PGlite, Map<string, AbortController>>();

class DrizzleScope implements TransactionScope {
  readonly __transactionScope = true as const;
  readonly tx: SqlExecutor;
  readonly afterCommit: (() => void)[] = [];
  constructor(tx: SqlExecutor) {
    this.tx = tx;
  }
}

/**
 * Runs `hook` once the scope's transaction has committed (never on rollback); without a scope, at
 * once. Used for side effects that must not happen for a rolled-back write, such as waking workers.
 */
export function afterCommit(scope: TransactionScope | undefined, hook: () => void): void {
  if (!scope) {
    hook();
    return;
  }
  if (!(scope instanceof DrizzleScope)) {
    throw new TypeError("This TransactionScope was not created by @granit/iot-postgres.");
  }
  scope.afterCommit.push(hook);
}

/** The Drizzle transaction behind a scope created by `Database.transaction` / `unitOfWork`. */
export function executorOf(scope: TransactionScope): SqlExecutor {
  if (!(scope instanceof DrizzleScope)) {
    throw new TypeError("This TransactionScope was not created by @granit/iot-postgres.");
  }
  return scope.tx;
}

export class Database implements UnitOfWork {
  readonly kind: "postgres" | "pglite";
  readonly schema: string;
  readonly db: SqlExecutor;
  readonly #pool: pg.Pool | null;
  readonly #pglite: PGlite | null;
  readonly #ownsPglite: boolean;
  readonly #release: (() => void) | null;
  #listener: pg.PoolClient | null = null;
  readonly #channels = new Map<string, Set<(payload: string) => void>>();
  readonly #pgliteUnlisten: (() => Promise<void>)[] = [];
  readonly #clientConfig: pg.ClientConfig | null;
  #lockSession: Promise<pg.Client> | null = null;
  /** The lock session's queries, one at a time (node-postgres refuses concurrent queries on one client from pg@9). */
  #lockQueries: Promise<unknown> = Promise.resolve();
  readonly #heldLocks = new Map<string, AbortController>();
  #closed = false;

  private constructor(init: {
    kind: "postgres" | "pglite";
    schema: string;
    db: SqlExecutor;
    pool: pg.Pool | null;
    pglite: PGlite | null;
    ownsPglite: boolean;
    release: (() => void) | null;
    clientConfig?: pg.ClientConfig;
  }) {
    this.kind = init.kind;
    this.#clientConfig = init.clientConfig ?? null;
    this.schema = init.schema;
    this.db = init.db;
    this.#pool = init.pool;
    this.#pglite = init.pglite;
    this.#ownsPglite = init.ownsPglite;
    this.#release = init.release;
  }

  static async open(options: DatabaseOptions = {}): Promise<Database> {
    const schema = options.schema ?? "public";
    if (!SCHEMA_NAME.test(schema)) throw new Error(`Invalid schema name '${schema}'.`);
    if (options.url) {
      const clientConfig: pg.ClientConfig = {
        connectionString: options.url,
        application_name: options.applicationName ?? "granit-iot",
        options: `-c search_path=${schema}`,
      };
      const pool = new pg.Pool({ ...clientConfig, max: options.poolSize ?? 10 });
      // An idle client's error (server restart) must not crash the process; the next query reconnects.
      pool.on("error", () => {});
      const database = new Database({
        kind: "postgres",
        schema,
        db: drizzlePg(pool),
        pool,
        pglite: null,
        ownsPglite: false,
        release: null,
        clientConfig,
      });
      await database.#ensureSchema();
      return database;
    }
    const release = options.pglite || !options.dataDir ? null : acquireDataDirLock(options.dataDir);
    try {
      const pglite = options.pglite ?? new PGlite(options.dataDir);
      await pglite.waitReady;
      const database = new Database({
        kind: "pglite",
        schema,
        db: drizzlePglite(pglite),
        pglite,
        pool: null,
        ownsPglite: !options.pglite,
        release,
      });
      await database.#ensureSchema();
      if (schema !== "public" || options.pglite) await pglite.exec(`SET search_path TO ${schema}`);
      return database;
    } catch (error) {
      release?.();
      throw error;
    }
  }

  async #ensureSchema(): Promise<void> {
    if (this.schema !== "public") await this.execute(`CREATE SCHEMA IF NOT EXISTS ${this.schema}`);
  }

  /** Runs `work` in one transaction; commits when it resolves, rolls back when it throws. */
  async transaction<T>(work: (tx: SqlExecutor, scope: TransactionScope) => Promise<T>): Promise<T> {
    let scope: DrizzleScope | undefined;
    const result = await this.db.transaction((tx) => {
      scope = new DrizzleScope(tx as SqlExecutor);
      return work(tx as SqlExecutor, scope);
    });
    for (const hook of scope?.afterCommit ?? []) {
      try {
        hook();
      } catch {
        // An after-commit hook is best effort: the data is committed whatever it does.
      }
    }
    return result;
  }

  /** `UnitOfWork` for the core: everything written through the scope commits together. */
  run<T>(work: (scope: TransactionScope) => Promise<T>): Promise<T> {
    return this.transaction((_tx, scope) => work(scope));
  }

  /** The executor for a scope, or the database itself when there is none. */
  executor(scope?: TransactionScope): SqlExecutor {
    return scope ? executorOf(scope) : this.db;
  }

  /** Raw SQL with positional parameters (`$1`), outside any transaction. */
  async execute<R = Record<string, unknown>>(text: string, params: unknown[] = []): Promise<R[]> {
    if (this.#pool) return (await this.#pool.query(text, params)).rows as R[];
    if (this.#pglite) return (await this.#pglite.query<R>(text, params)).rows;
    throw new Error("Database is closed.");
  }

  /**
   * A raw statement whose values are `sql.placeholder(name)`s, rendered to text once and prepared
   * under `name` by PostgreSQL on each pooled connection (drizzle's `.prepare()` covers its query
   * builders only; a data-modifying CTE needs this). Run it with the placeholder values; answers rows.
   */
  prepare<R = Record<string, unknown>>(
    name: string,
    query: SQL,
  ): (values: Record<string, unknown>) => Promise<R[]> {
    const { sql: text, params } = new PgDialect().sqlToQuery(query);
    return async (values) => {
      const bound = fillPlaceholders(params, values);
      if (this.#pool) return (await this.#pool.query({ name, text, values: bound })).rows as R[];
      if (this.#pglite) return (await this.#pglite.query<R>(text, bound)).rows;
      throw new Error("Database is closed.");
    };
  }

  /** Cheap liveness probe for `/health/ready`. */
  async ping(): Promise<boolean> {
    try {
      await this.execute("SELECT 1");
      return true;
    } catch {
      return false;
    }
  }

  /**
   * Subscribes to `NOTIFY channel`. Notifications sent inside a transaction arrive when it commits.
   * On PostgreSQL one pooled connection is dedicated to listening.
   */
  async listen(channel: string, onNotify: (payload: string) => void): Promise<() => Promise<void>> {
    let listeners = this.#channels.get(channel);
    const first = !listeners;
    if (!listeners) {
      listeners = new Set();
      this.#channels.set(channel, listeners);
    }
    listeners.add(onNotify);
    if (first) {
      if (this.#pglite) {
        this.#pgliteUnlisten.push(
          await this.#pglite.listen(channel, (payload) => this.#dispatch(channel, payload)),
        );
      } else if (this.#pool) {
        if (!this.#listener) {
          this.#listener = await this.#pool.connect();
          this.#listener.on("notification", (msg) => this.#dispatch(msg.channel, msg.payload ?? ""));
          this.#listener.on("error", () => {});
        }
        await this.#listener.query(`LISTEN "${channel}"`);
      }
    }
    return async () => {
      listeners.delete(onNotify);
    };
  }

  #dispatch(channel: string, payload: string): void {
    for (const listener of this.#channels.get(channel) ?? []) listener(payload);
  }

  /**
   * Applies the committed migrations of one package (each package keeps its own history table, so
   * a host that does not use a package never gets its tables). Several hosts starting at once are
   * serialised by a PostgreSQL advisory lock; PGlite is single-process by construction.
   */
  async migrate(migration: { readonly folder: string; readonly table: string }): Promise<void> {
    const config = {
      migrationsFolder: migration.folder,
      migrationsTable: migration.table,
      migrationsSchema: this.schema,
    };
    if (this.#pglite) {
      await migratePglite(drizzlePglite(this.#pglite), config);
      return;
    }
    if (!this.#pool) throw new Error("Database is closed.");
    const client = await this.#pool.connect();
    try {
      await client.query("SELECT pg_advisory_lock(hashtext($1))", [
        `granit-migrate:${this.schema}.${migration.table}`,
      ]);
      try {
        await migratePg(drizzlePg(client), config);
      } finally {
        await client.query("SELECT pg_advisory_unlock(hashtext($1))", [
          `granit-migrate:${this.schema}.${migration.table}`,
        ]);
      }
    } finally {
      client.release();
    }
  }

  /**
   * Runs `work` while holding an exclusive lock on `key`, or answers `{ acquired: false }` at once
   * when another holder has it (a try-lock: it never waits). For work that must not run twice at the
   * same time across hosts, e.g. one saga run per device.
   *
   * - PostgreSQL: a session-level advisory lock (`pg_try_advisory_lock`) on one dedicated connection
   *   this handle keeps for all its locks (outside the pool), so a process that dies releases every
   *   lock it held with its connection. Session locks are re-entrant, so an in-process set refuses a
   *   second holder in the same process. Keys are scoped to the schema.
   * - PGlite: one process per data directory, so the in-process set is the whole lock.
   *
   * `work` gets a signal that aborts when the lock connection is lost (another host may then take
   * the lock): stop at the next checkpoint. The lock is released when `work` settles, or earlier
   * when `work` calls `release` (see `BindingLock`); either way this resolves only once the release
   * is done, so the caller's next step never finds the key still held by this work.
   */
  async withAdvisoryLock<T>(
    key: string,
    work: (signal: AbortSignal, release: () => void) => Promise<T>,
  ): Promise<AdvisoryLockResult<T>> {
    if (this.#closed) throw new Error("Database is closed.");
    const lockKey = `${this.schema}:${key}`;
    const held = this.#pglite ? heldLocksOf(this.#pglite) : this.#heldLocks;
    if (held.has(lockKey)) return { acquired: false };
    const controller = new AbortController();
    held.set(lockKey, controller);
    const forget = () => {
      if (held.get(lockKey) === controller) held.delete(lockKey);
    };
    try {
      if (this.#pglite) return { acquired: true, value: await work(controller.signal, forget) };
      const acquired = await this.#lockQuery(
        "SELECT pg_try_advisory_lock(hashtextextended($1, 0)) AS ok",
        lockKey,
      );
      if (!acquired) return { acquired: false };
      let released: Promise<unknown> | null = null;
      const release = () => {
        if (released) return;
        forget();
        const unlock = "SELECT pg_advisory_unlock(hashtextextended($1, 0)) AS ok";
        released = this.#lockQuery(unlock, lockKey).catch(() => {}); // a lost session released it already
      };
      try {
        return { acquired: true, value: await work(controller.signal, release) };
      } finally {
        release();
        await released;
      }
    } finally {
      forget();
    }
  }

  /** One lock/unlock on the lock session, queued behind the ones already sent; answers `ok`. */
  #lockQuery(sql: string, lockKey: string): Promise<boolean> {
    const run = this.#lockQueries.then(async () => {
      const session = await this.#openLockSession();
      const result = await session.query<{ ok: boolean }>(sql, [lockKey]);
      return result.rows[0]?.ok === true;
    });
    this.#lockQueries = run.catch(() => {});
    return run;
  }

  /** The connection holding this handle's advisory locks; its loss aborts every holder. */
  #openLockSession(): Promise<pg.Client> {
    if (this.#lockSession) return this.#lockSession;
    const config = this.#clientConfig;
    if (!config) return Promise.reject(new Error("Database is closed."));
    const opening = (async () => {
      const client = new pg.Client({ ...config, application_name: `${config.application_name}:locks` });
      const lost = () => {
        if (this.#lockSession === opening) this.#lockSession = null;
        for (const holder of this.#heldLocks.values()) {
          holder.abort(new Error("The advisory-lock connection was lost; the lock is no longer held."));
        }
      };
      client.on("error", lost);
      client.on("end", lost);
      await client.connect();
      return client;
    })();
    this.#lockSession = opening;
    opening.catch(() => {
      if (this.#lockSession === opening) this.#lockSession = null;
    });
    return opening;
  }

  /** Closes connections and releases the PGlite data-directory lock. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#channels.clear();
    for (const unlisten of this.#pgliteUnlisten.splice(0)) await unlisten().catch(() => {});
    if (this.#listener) {
      this.#listener.release(true);
      this.#listener = null;
    }
    const lockSession = this.#lockSession;
    this.#lockSession = null;
    if (lockSession) await lockSession.then((client) => client.end()).catch(() => {});
    if (this.#pool) await this.#pool.end();
    if (this.#pglite && this.#ownsPglite) await this.#pglite.close();
    this.#release?.();
  }

  get closed(): boolean {
    return this.#closed;
  }
}

function heldLocksOf(pglite: PGlite): Map<string, AbortController> {
  let held = pgliteHeldLocks.get(pglite);
  if (!held) {
    held = new Map();
    pgliteHeldLocks.set(pglite, held);
  }
  return held;
}
