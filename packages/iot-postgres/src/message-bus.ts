/**
 * The durable message bus on PostgreSQL / PGlite (the role Wolverine's durable inbox/outbox plays in
 * the .NET original).
 *
 * - `publish` fans each event out to one row per subscribed handler in `iot_bus_deliveries`, inside
 *   the caller's transaction when given a scope (transactional outbox: a rollback publishes nothing),
 *   then `NOTIFY`s the workers, which PostgreSQL delivers at commit.
 * - Workers claim due rows with `FOR UPDATE SKIP LOCKED` and lease them (`status = active`,
 *   `run_at = now() + lease`), so several processes share the work and each delivery runs on one of
 *   them. A lease is extended while the handler runs; a worker killed mid-delivery lets its lease
 *   expire and another claim redelivers (at-least-once).
 * - Success deletes the row; failure reschedules it with exponential backoff and jitter; after
 *   `maxAttempts` the row stays as a dead letter (`status = dead`) for an operator to inspect/retry.
 *
 * Why not pg-boss: one table and three statements give us per-handler fan-out inside the caller's
 * Drizzle transaction, identical behaviour on PGlite, leases with heartbeats, and batch claims and
 * completions; `bench/bus.ts` measures it.
 */
import { hostname } from "node:os";
import {
  type DeliveryContext,
  type DomainEvent,
  type EventHandler,
  type Logger,
  type MessageBus,
  type SubscribeOptions,
  silentLogger,
  type TransactionScope,
  tenantTag,
  uuidv7,
} from "@granit/iot";
import { metrics } from "@opentelemetry/api";
import { type SQL, type SQLChunk, sql } from "drizzle-orm";
import { afterCommit, type Database } from "./database.ts";

export interface PostgresMessageBusOptions {
  /** Identifies this process in leases and logs. @default `${hostname}:${pid}:${random}` */
  readonly workerId?: string;
  /** Handlers running at once in this process. @default 16 */
  readonly concurrency?: number;
  /** Deliveries claimed per query. @default 64 */
  readonly batchSize?: number;
  /** A claimed delivery is redelivered elsewhere if not completed or extended within this time. @default 30000 */
  readonly leaseMs?: number;
  /** Fallback poll when no NOTIFY arrives (other hosts, retries coming due). @default 1000 */
  readonly pollIntervalMs?: number;
  /** Cross-process wake-ups (NOTIFY) are sent at most this often. @default 25 */
  readonly notifyIntervalMs?: number;
  /** Defaults for `subscribe` options. */
  readonly defaults?: SubscribeOptions;
  readonly logger?: Logger;
}

export const BUS_CHANNEL = "granit_iot_bus";

interface Subscription {
  readonly eventType: string;
  readonly handlerName: string;
  readonly handler: EventHandler<DomainEvent>;
  readonly maxAttempts: number;
  readonly backoffMs: number;
  readonly maxBackoffMs: number;
}

interface ClaimedRow {
  id: string | number;
  handler: string;
  event_type: string;
  payload: DomainEvent | string;
  attempts: number;
  max_attempts: number;
}

/** A delivery that exhausted its attempts. */
export interface DeadLetter {
  readonly id: number;
  readonly handler: string;
  readonly eventType: string;
  readonly eventId: string;
  readonly attempts: number;
  readonly lastError: string | null;
  readonly deadAt: Date | null;
  readonly payload: DomainEvent;
}

/**
 * Instruments are created per bus instance, not at import: a meter obtained before the host
 * registers its global MeterProvider would stay a no-op forever.
 */
function busInstruments() {
  const meter = metrics.getMeter("granit.iot.bus");
  return {
    delivered: meter.createCounter("granit.iot.bus.delivered", {
      description: "Deliveries handled successfully",
    }),
    failed: meter.createCounter("granit.iot.bus.failed", { description: "Handler attempts that threw" }),
    dead: meter.createCounter("granit.iot.bus.dead_lettered", { description: "Deliveries dead-lettered" }),
    duration: meter.createHistogram("granit.iot.bus.handler_duration", { unit: "ms" }),
  };
}

function errorText(error: unknown): string {
  const text = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return text.slice(0, 2000);
}

export class PostgresMessageBus implements MessageBus {
  readonly workerId: string;
  readonly #database: Database;
  readonly #logger: Logger;
  readonly #concurrency: number;
  readonly #batchSize: number;
  readonly #leaseMs: number;
  readonly #pollIntervalMs: number;
  readonly #notifyIntervalMs: number;
  #notifyTimer: NodeJS.Timeout | null = null;
  readonly #defaults: Required<SubscribeOptions>;
  readonly #subscriptions = new Map<string, Map<string, Subscription>>();
  readonly #inFlight = new Map<string, AbortController>();
  readonly #completed: string[] = [];
  #running = false;
  #loop: Promise<void> | null = null;
  #wake: (() => void) | null = null;
  #slot: (() => void) | null = null;
  #heartbeat: NodeJS.Timeout | null = null;
  #flushing: Promise<void> | null = null;
  #unlisten: (() => Promise<void>) | null = null;
  readonly #shutdown = new AbortController();
  readonly #metrics = busInstruments();

  constructor(database: Database, options: PostgresMessageBusOptions = {}) {
    this.#database = database;
    this.workerId = options.workerId ?? `${hostname()}:${process.pid}:${uuidv7().slice(-8)}`;
    this.#logger = (options.logger ?? silentLogger).child({
      component: "message-bus",
      workerId: this.workerId,
    });
    this.#concurrency = options.concurrency ?? 16;
    this.#batchSize = options.batchSize ?? 64;
    this.#leaseMs = options.leaseMs ?? 30_000;
    this.#pollIntervalMs = options.pollIntervalMs ?? 1000;
    this.#notifyIntervalMs = options.notifyIntervalMs ?? 25;
    this.#defaults = {
      maxAttempts: options.defaults?.maxAttempts ?? 10,
      backoffMs: options.defaults?.backoffMs ?? 500,
      maxBackoffMs: options.defaults?.maxBackoffMs ?? 60_000,
    };
  }

  subscribe<E extends DomainEvent>(
    eventType: E["type"],
    handlerName: string,
    handler: EventHandler<E>,
    options: SubscribeOptions = {},
  ): void {
    if (this.#running) throw new Error("Subscribe every handler before starting the bus.");
    const byType = this.#subscriptions.get(handlerName) ?? new Map<string, Subscription>();
    if (byType.has(eventType))
      throw new Error(`Handler '${handlerName}' already subscribes to ${eventType}.`);
    byType.set(eventType, {
      eventType,
      handlerName,
      handler: handler as EventHandler<DomainEvent>,
      maxAttempts: options.maxAttempts ?? this.#defaults.maxAttempts,
      backoffMs: options.backoffMs ?? this.#defaults.backoffMs,
      maxBackoffMs: options.maxBackoffMs ?? this.#defaults.maxBackoffMs,
    });
    this.#subscriptions.set(handlerName, byType);
  }

  /**
   * Enqueues one delivery per subscribed handler. With a scope the rows are part of that transaction.
   * Publishing the same event id twice is a no-op for handlers that already have it.
   */
  async publish(events: readonly DomainEvent[], scope?: TransactionScope): Promise<void> {
    if (events.length === 0) return;
    const values = deliveryValues(events);
    await this.#database
      .executor(scope)
      .execute(
        insertDeliveries(
          sql.param(values.eventTypes),
          sql.param(values.eventIds),
          sql.param(values.eventPayloads),
          sql`true`,
        ),
      );
    afterCommit(scope, () => this.#announce());
  }

  /**
   * The INSERT `publish` runs — one delivery per subscribed handler for each event (an event id
   * already delivered to a handler is skipped) — with placeholders (`eventTypes`, `eventIds`,
   * `eventPayloads`; bind them with `deliveryValues(events)`) and only when `condition` holds, for a
   * store whose write must enqueue atomically in one round trip: it embeds this in its own statement
   * (a data-modifying CTE, `WITH updated AS (UPDATE … RETURNING id), enqueued AS (<this>) SELECT …`,
   * prepared once with `Database.prepare`) and calls `announce()` after the commit. It returns one
   * row per delivery inserted, so the caller can announce only when there is one.
   */
  preparedDeliveriesInsert(condition: SQL = sql`true`): SQL {
    return sql`${insertDeliveries(
      sql.placeholder("eventTypes"),
      sql.placeholder("eventIds"),
      sql.placeholder("eventPayloads"),
      condition,
    )} RETURNING 1`;
  }

  /** Wakes the workers for deliveries a caller committed with `preparedDeliveriesInsert`. */
  announce(): void {
    this.#announce();
  }

  /**
   * Wakes workers after a commit: this process's loop at once, other processes through one
   * `NOTIFY` at most every `notifyIntervalMs`. NOTIFY inside the publishing transaction would
   * serialise every commit on PostgreSQL's notification-queue lock (measured: 7× fewer
   * single-event transactions per second), so it is sent outside, throttled.
   */
  #announce(): void {
    this.#wake?.();
    if (this.#notifyTimer) return;
    this.#notifyTimer = setTimeout(() => {
      this.#notifyTimer = null;
      void this.#database.execute(`SELECT pg_notify('${BUS_CHANNEL}', '')`).catch(() => {});
    }, this.#notifyIntervalMs);
    this.#notifyTimer.unref();
  }

  /** Registers this process's subscriptions durably and starts the workers. */
  async start(): Promise<void> {
    if (this.#running) return;
    const rows = [...this.#subscriptions.values()].flatMap((m) => [...m.values()]);
    if (rows.length > 0) {
      await this.#database.db.execute(sql`
        INSERT INTO iot_bus_subscriptions (event_type, handler, max_attempts)
        SELECT * FROM unnest(${sql.param(rows.map((r) => r.eventType))}::text[],
                             ${sql.param(rows.map((r) => r.handlerName))}::text[],
                             ${sql.param(rows.map((r) => r.maxAttempts))}::int[])
        ON CONFLICT (event_type, handler) DO UPDATE SET max_attempts = excluded.max_attempts`);
    }
    this.#running = true;
    if (this.#subscriptions.size === 0) return;
    this.#unlisten = await this.#database.listen(BUS_CHANNEL, () => this.#wake?.());
    this.#heartbeat = setInterval(
      () => void this.#extendLeases(),
      Math.max(50, Math.floor(this.#leaseMs / 3)),
    );
    this.#heartbeat.unref();
    this.#loop = this.#run();
  }

  /**
   * Stops claiming, waits up to `timeoutMs` for running handlers (then aborts their signal), and
   * flushes completions. Unfinished deliveries are redelivered after their lease expires.
   */
  async stop(timeoutMs = 10_000): Promise<void> {
    if (!this.#running) return;
    this.#running = false;
    this.#wake?.();
    this.#slot?.();
    const deadline = Date.now() + timeoutMs;
    while (this.#inFlight.size > 0 && Date.now() < deadline) await delay(10);
    if (this.#inFlight.size > 0) this.#shutdown.abort();
    await this.#loop;
    if (this.#heartbeat) clearInterval(this.#heartbeat);
    if (this.#notifyTimer) clearTimeout(this.#notifyTimer);
    this.#notifyTimer = null;
    await this.#flushCompleted();
    await this.#unlisten?.();
  }

  /**
   * Resolves when none of this process's handlers has a delivery left but dead letters (tests,
   * benches, shutdown scripts). Rescheduled retries count as left, whatever their `run_at`.
   */
  async drain(timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      await this.#flushCompleted();
      const pending = await this.#pendingCount();
      if (pending === 0 && this.#inFlight.size === 0) return;
      if (Date.now() > deadline)
        throw new Error(`Bus did not drain within ${timeoutMs} ms (${pending} left).`);
      this.#wake?.();
      await delay(20);
    }
  }

  /** Dead letters, newest first (optionally for one handler). */
  async deadLetters(handler?: string, limit = 100): Promise<DeadLetter[]> {
    const rows = (await this.#database.db.execute(sql`
      SELECT id, handler, event_type, event_id, attempts, last_error, dead_at, payload
      FROM iot_bus_deliveries WHERE status = 'dead' ${handler ? sql`AND handler = ${handler}` : sql``}
      ORDER BY dead_at DESC NULLS LAST LIMIT ${limit}`)) as unknown as { rows: Record<string, unknown>[] };
    return rows.rows.map((r) => ({
      id: Number(r.id),
      handler: String(r.handler),
      eventType: String(r.event_type),
      eventId: String(r.event_id),
      attempts: Number(r.attempts),
      lastError: (r.last_error as string | null) ?? null,
      deadAt: r.dead_at ? new Date(r.dead_at as string) : null,
      payload: (typeof r.payload === "string" ? JSON.parse(r.payload) : r.payload) as DomainEvent,
    }));
  }

  /** Puts a dead letter back in the queue with a fresh attempt budget. */
  async retryDeadLetter(id: number): Promise<boolean> {
    const result = (await this.#database.db.execute(sql`
      UPDATE iot_bus_deliveries SET status = 'pending', attempts = 0, run_at = now(), dead_at = NULL, locked_by = NULL
      WHERE id = ${id} AND status = 'dead' RETURNING id`)) as unknown as { rows: unknown[] };
    this.#wake?.();
    return result.rows.length > 0;
  }

  async #pendingCount(): Promise<number> {
    const handlers = [...this.#subscriptions.keys()];
    const result = (await this.#database.db.execute(sql`
      SELECT count(*)::int AS n FROM iot_bus_deliveries
      WHERE handler = ANY(${sql.param(handlers)}::text[]) AND status <> 'dead'`)) as unknown as {
      rows: { n: number }[];
    };
    return Number(result.rows[0]?.n ?? 0);
  }

  async #run(): Promise<void> {
    const handlers = [...this.#subscriptions.keys()];
    while (this.#running) {
      const free = this.#concurrency - this.#inFlight.size;
      if (free <= 0) {
        await new Promise<void>((resolve) => {
          this.#slot = resolve;
        });
        this.#slot = null;
        continue;
      }
      let claimed: ClaimedRow[] = [];
      try {
        await this.#flushCompleted();
        claimed = await this.#claim(handlers, Math.min(free, this.#batchSize));
      } catch (error) {
        if (!this.#running) break;
        this.#logger.warn({ err: errorText(error) }, "claiming deliveries failed; retrying");
      }
      for (const row of claimed) this.#process(row);
      if (claimed.length === 0) await this.#sleep();
    }
  }

  #sleep(): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = setTimeout(done, this.#pollIntervalMs);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.#wake = () => {
        this.#wake = null;
        done();
      };
    });
  }

  async #claim(handlers: string[], limit: number): Promise<ClaimedRow[]> {
    const result = (await this.#database.db.execute(sql`
      WITH next AS (
        SELECT id FROM iot_bus_deliveries
        WHERE handler = ANY(${sql.param(handlers)}::text[]) AND status <> 'dead' AND run_at <= now()
        ORDER BY run_at
        LIMIT ${limit}
        FOR UPDATE SKIP LOCKED
      )
      UPDATE iot_bus_deliveries d
      SET status = 'active', attempts = d.attempts + 1, locked_by = ${this.workerId},
          run_at = now() + make_interval(secs => ${this.#leaseMs / 1000})
      FROM next WHERE d.id = next.id
      RETURNING d.id, d.handler, d.event_type, d.payload, d.attempts, d.max_attempts`)) as unknown as {
      rows: ClaimedRow[];
    };
    return result.rows;
  }

  #process(row: ClaimedRow): void {
    const id = String(row.id);
    const subscription = this.#subscriptions.get(row.handler)?.get(row.event_type);
    const controller = new AbortController();
    this.#inFlight.set(id, controller);
    const signal = AbortSignal.any([controller.signal, this.#shutdown.signal]);
    let event: DomainEvent | undefined;
    let unreadable: unknown;
    try {
      event = (typeof row.payload === "string" ? JSON.parse(row.payload) : row.payload) as DomainEvent;
    } catch (error) {
      unreadable = error;
    }
    const tags = { handler: row.handler, event_type: row.event_type, tenant_id: tenantTag(event?.tenantId) };
    const run = async () => {
      if (!event) throw unreadable;
      if (!subscription)
        throw new Error(`No handler '${row.handler}' for ${row.event_type} in this process.`);
      if (row.attempts > row.max_attempts) {
        throw new Error(`Lease expired ${row.attempts - 1} times (the worker died while handling it).`);
      }
      const context: DeliveryContext = {
        deliveryId: id,
        attempt: row.attempts,
        maxAttempts: row.max_attempts,
        signal,
      };
      const started = performance.now();
      try {
        await subscription.handler(event, context);
      } finally {
        this.#metrics.duration.record(performance.now() - started, tags);
      }
    };
    run()
      .then(
        () => {
          this.#metrics.delivered.add(1, tags);
          this.#completed.push(id);
          if (this.#completed.length >= this.#batchSize) void this.#flushCompleted();
        },
        (error: unknown) => this.#fail(row, subscription, error, tags),
      )
      .catch((error: unknown) =>
        this.#logger.error({ err: errorText(error), deliveryId: id }, "bus bookkeeping failed"),
      )
      .finally(() => {
        this.#inFlight.delete(id);
        this.#slot?.();
      });
  }

  async #fail(
    row: ClaimedRow,
    subscription: Subscription | undefined,
    error: unknown,
    tags: Record<string, string>,
  ): Promise<void> {
    const dead = row.attempts >= row.max_attempts || row.attempts > row.max_attempts;
    const base = subscription?.backoffMs ?? this.#defaults.backoffMs;
    const cap = subscription?.maxBackoffMs ?? this.#defaults.maxBackoffMs;
    // Exponential backoff with full jitter over the upper half: spreads retries of a burst.
    const ceiling = Math.min(cap, base * 2 ** (row.attempts - 1));
    const backoffMs = Math.round(ceiling / 2 + Math.random() * (ceiling / 2));
    this.#metrics.failed.add(1, tags);
    if (dead) this.#metrics.dead.add(1, tags);
    this.#logger[dead ? "error" : "warn"](
      {
        deliveryId: String(row.id),
        handler: row.handler,
        eventType: row.event_type,
        attempt: row.attempts,
        err: errorText(error),
      },
      dead ? "delivery dead-lettered" : "handler failed; delivery rescheduled",
    );
    await this.#database.db.execute(sql`
      UPDATE iot_bus_deliveries SET
        status = ${dead ? "dead" : "pending"},
        run_at = now() + make_interval(secs => ${backoffMs / 1000}),
        dead_at = ${dead ? sql`now()` : sql`NULL`},
        last_error = ${errorText(error)},
        locked_by = NULL
      WHERE id = ${row.id} AND locked_by = ${this.workerId} AND attempts = ${row.attempts}`);
  }

  #flushCompleted(): Promise<void> {
    if (this.#flushing) return this.#flushing;
    if (this.#completed.length === 0) return Promise.resolve();
    const ids = this.#completed.splice(0);
    this.#flushing = (async () => {
      try {
        await this.#database.db.execute(sql`
          DELETE FROM iot_bus_deliveries WHERE id = ANY(${sql.param(ids)}::bigint[]) AND locked_by = ${this.workerId}`);
      } catch (error) {
        this.#completed.push(...ids);
        this.#logger.warn({ err: errorText(error) }, "completing deliveries failed; will retry");
      } finally {
        this.#flushing = null;
      }
    })();
    return this.#flushing;
  }

  async #extendLeases(): Promise<void> {
    if (this.#inFlight.size === 0) return;
    const ids = [...this.#inFlight.keys()];
    try {
      await this.#database.db.execute(sql`
        UPDATE iot_bus_deliveries SET run_at = now() + make_interval(secs => ${this.#leaseMs / 1000})
        WHERE id = ANY(${sql.param(ids)}::bigint[]) AND locked_by = ${this.workerId} AND status = 'active'`);
    } catch (error) {
      this.#logger.warn({ err: errorText(error) }, "extending leases failed");
    }
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** The bind values of a deliveries INSERT: three parallel arrays, one element per event. */
export function deliveryValues(events: readonly DomainEvent[]): {
  eventTypes: string[];
  eventIds: string[];
  eventPayloads: string[];
} {
  return {
    eventTypes: events.map((e) => e.type),
    eventIds: events.map((e) => e.eventId),
    eventPayloads: events.map((e) => JSON.stringify(e)),
  };
}

function insertDeliveries(types: SQLChunk, ids: SQLChunk, payloads: SQLChunk, condition: SQL): SQL {
  return sql`
    INSERT INTO iot_bus_deliveries (handler, event_type, event_id, payload, max_attempts)
    SELECT s.handler, e.type, e.id, e.payload, s.max_attempts
    FROM unnest(${types}::text[], ${ids}::uuid[], ${payloads}::jsonb[]) AS e(type, id, payload)
    JOIN iot_bus_subscriptions s ON s.event_type = e.type
    WHERE ${condition}
    ON CONFLICT (event_id, handler) DO NOTHING`;
}
