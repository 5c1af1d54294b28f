/**
 * The polling `DeltaSource`: reads the classic shadow of every Active binding once per
 * `PollIntervalSeconds` and hands each delta to the observer.
 *
 * - **Shared sweep.** Bindings are claimed from the sync-state table in batches of `PollBatchSize`
 *   (`FOR UPDATE SKIP LOCKED`, `next_poll_at` moved one interval ahead in the same statement), so the
 *   pollers of every host split the work and no binding is read twice within an interval. There is no
 *   "first page": the claim order is the due time, so every row comes up in turn.
 * - **No pile-up.** A pass claims the rows that were due when it started, oldest first, until none is
 *   left; rows coming due again meanwhile wait for the next pass, so a long pass never reads a binding
 *   twice and never starves the ones it has not reached. A binding is next due one interval after it
 *   was claimed, so a sweep slower than the interval spreads itself over the following ones.
 * - **Bounded memory.** At most one and a half batches plus the calls in flight are held.
 * - **Rates.** `GetThingShadow` goes through the per-thing limiter and the call policy (per-account
 *   rate), plus the optional poller cap `MaxGetShadowPerSecond`; `PollConcurrency` calls in flight.
 * - **Isolation.** A binding that fails (no shadow, throttled after the retries, malformed document,
 *   anything else) is counted and logged, its row records the failure, and the sweep goes on.
 * - **Reconciliation.** At start and every 10 intervals, Active bindings without a row get one (the
 *   `AwsThingProvisionedEvent` subscription adds new ones at once); claims drop rows of bindings that
 *   left Active.
 */
import { type Clock, type Logger, silentLogger } from "@granit/iot";
import {
  awsErrorName,
  classifyAwsError,
  type Scheduler,
  type ShadowPollFailure,
  type ShadowSyncEntry,
  type ShadowSyncStateStore,
  type TimerHandle,
} from "@granit/iot-aws";
import type { DeltaObserver, DeltaSource } from "./delta-source.ts";
import { MalformedShadowDocumentError } from "./errors.ts";
import { KeyedRateLimiter } from "./internal/keyed-rate-limiter.ts";
import type { ShadowMetrics, ShadowPollOutcome } from "./shadow-metrics.ts";
import type { ThingShadowClient } from "./thing-shadow-client.ts";

/** Reconcile the sync-state rows with the Active bindings every this many intervals. */
export const RECONCILE_EVERY_INTERVALS = 10;
/** Shortest sleep between two passes, so rows coming due one by one do not spin the loop. */
const MIN_SLEEP_MS = 250;

export interface ShadowDeltaPollerOptions {
  readonly pollIntervalSeconds: number;
  readonly pollBatchSize: number;
  readonly pollConcurrency: number;
  /** 0 = no cap of the poller's own. */
  readonly maxGetShadowPerSecond: number;
}

export interface ShadowDeltaPollerDependencies {
  readonly syncState: ShadowSyncStateStore;
  readonly shadows: ThingShadowClient;
  readonly options: ShadowDeltaPollerOptions;
  /** Timestamps of claims (`next_poll_at`); the hosts' clocks must agree (NTP). */
  readonly clock: Clock;
  /** Sleeps between passes and the poller's rate cap. */
  readonly scheduler: Scheduler;
  readonly metrics: ShadowMetrics;
  readonly logger?: Logger | undefined;
}

/** What one pass did. */
export interface ShadowSweepResult {
  /** Bindings whose shadow was read (successfully or not). */
  readonly polled: number;
  readonly failed: number;
  readonly durationMs: number;
}

export class ShadowDeltaPoller implements DeltaSource {
  readonly name = "granit.iot.aws.shadow.delta-poller";
  readonly #deps: ShadowDeltaPollerDependencies;
  readonly #logger: Logger;
  readonly #intervalMs: number;
  readonly #cap: KeyedRateLimiter | null;
  #abort = new AbortController();
  #loop: Promise<void> | null = null;
  #sleeping: { timer: TimerHandle; wake: () => void } | null = null;
  #nextReconcileAt = Number.NEGATIVE_INFINITY;
  /** Claimed rows not yet polled: released (due again) when the poller stops. */
  readonly #unpolled = new Set<string>();

  constructor(dependencies: ShadowDeltaPollerDependencies) {
    this.#deps = dependencies;
    this.#logger = (dependencies.logger ?? silentLogger).child({ component: "shadow-delta-poller" });
    this.#intervalMs = dependencies.options.pollIntervalSeconds * 1000;
    const cap = dependencies.options.maxGetShadowPerSecond;
    this.#cap = cap > 0 ? new KeyedRateLimiter(cap, cap, dependencies.scheduler) : null;
  }

  /** Starts the loop: a pass at once, then whenever rows come due. */
  async start(observer: DeltaObserver): Promise<void> {
    if (this.#loop) return;
    this.#abort = new AbortController();
    this.#loop = this.#run(observer);
  }

  /** Stops after the reads in flight, and makes claimed-but-unread rows due again. */
  async stop(): Promise<void> {
    const loop = this.#loop;
    if (!loop) return;
    this.#abort.abort(new Error("shadow delta poller stopping"));
    this.#sleeping?.wake();
    await loop;
    this.#loop = null;
    const unpolled = [...this.#unpolled];
    this.#unpolled.clear();
    if (unpolled.length > 0) {
      await this.#deps.syncState.release(unpolled, this.#deps.clock.now()).catch((error: unknown) => {
        this.#logger.warn(
          { error: awsErrorName(error), bindings: unpolled.length },
          "could not release claimed rows",
        );
      });
    }
  }

  /**
   * One pass: claims and reads every binding due now (batch after batch, `pollConcurrency` reads in
   * flight) until a claim comes back short. Used by the loop; callable directly (tests, operators).
   */
  async sweepOnce(
    observer: DeltaObserver,
    signal: AbortSignal = this.#abort.signal,
  ): Promise<ShadowSweepResult> {
    const { syncState, options, clock, scheduler } = this.#deps;
    const started = scheduler.now();
    const batchSize = options.pollBatchSize;
    const pending: ShadowSyncEntry[] = [];
    const failures: ShadowPollFailure[] = [];
    const recovered: string[] = [];
    let exhausted = false;
    let claiming: Promise<void> | null = null;
    let claimError: unknown = null;
    let polled = 0;
    let failed = 0;

    const flush = async (force: boolean) => {
      if (failures.length > 0 && (force || failures.length >= batchSize)) {
        await syncState.recordPollFailures(failures.splice(0));
      }
      if (recovered.length > 0 && (force || recovered.length >= batchSize)) {
        await syncState.recordPollSuccesses(recovered.splice(0));
      }
    };
    const dueBy = clock.now();
    const claim = async () => {
      const now = clock.now();
      const { entries, removed } = await syncState.claimDue({
        now,
        dueBy,
        limit: batchSize,
        nextPollAt: new Date(now.getTime() + this.#intervalMs),
      });
      if (entries.length + removed < batchSize) exhausted = true;
      for (const entry of entries) this.#unpolled.add(entry.bindingId);
      pending.push(...entries);
    };
    const next = async (): Promise<ShadowSyncEntry | undefined> => {
      for (;;) {
        if (signal.aborted) return undefined;
        if (claimError !== null) throw claimError;
        if (!exhausted && claiming === null && pending.length < Math.ceil(batchSize / 2)) {
          claiming = claim()
            .catch((error: unknown) => {
              claimError = error;
              exhausted = true;
            })
            .finally(() => {
              claiming = null;
            });
        }
        const entry = pending.shift();
        if (entry) return entry;
        if (claiming !== null) await claiming;
        else if (exhausted) return undefined;
      }
    };
    const worker = async () => {
      for (let entry = await next(); entry; entry = await next()) {
        const outcome = await this.#poll(entry, observer, signal);
        if (outcome === "aborted") return;
        this.#unpolled.delete(entry.bindingId);
        polled += 1;
        if (outcome.failure) {
          failed += 1;
          failures.push(outcome.failure);
        } else if (entry.consecutiveFailures > 0) {
          recovered.push(entry.bindingId);
        }
        await flush(false);
      }
    };

    const workers = await Promise.allSettled(
      Array.from({ length: Math.max(1, options.pollConcurrency) }, worker),
    );
    await flush(true);
    const crashed = workers.find((w) => w.status === "rejected");
    if (crashed) throw crashed.reason;
    const durationMs = scheduler.now() - started;
    if (polled > 0) {
      this.#deps.metrics.sweep(durationMs, polled);
      this.#logger.debug({ polled, failed, durationMs }, "shadow delta sweep done");
    }
    return { polled, failed, durationMs };
  }

  async #run(observer: DeltaObserver): Promise<void> {
    const signal = this.#abort.signal;
    const { syncState, clock } = this.#deps;
    let errors = 0;
    while (!signal.aborted) {
      let sleepMs = this.#intervalMs;
      try {
        const now = clock.now().getTime();
        if (now >= this.#nextReconcileAt) {
          const added = await syncState.trackActiveBindings(new Date(now));
          this.#nextReconcileAt = now + RECONCILE_EVERY_INTERVALS * this.#intervalMs;
          if (added > 0) this.#logger.info({ added }, "Active bindings added to shadow sync");
        }
        await this.sweepOnce(observer, signal);
        const due = await syncState.earliestDue();
        const untilDue = due === null ? this.#intervalMs : due.getTime() - clock.now().getTime();
        const untilReconcile = this.#nextReconcileAt - clock.now().getTime();
        sleepMs = Math.max(MIN_SLEEP_MS, Math.min(untilDue, untilReconcile, this.#intervalMs));
        errors = 0;
      } catch (error) {
        if (signal.aborted) break;
        errors += 1;
        sleepMs = Math.min(this.#intervalMs, 1000 * 2 ** Math.min(errors, 10));
        this.#logger.error(
          { error: awsErrorName(error), message: (error as Error)?.message, retryInMs: sleepMs },
          "shadow delta pass failed (database unreachable?); retrying",
        );
      }
      await this.#sleep(sleepMs);
    }
  }

  #sleep(ms: number): Promise<void> {
    if (this.#abort.signal.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const wake = () => {
        this.#deps.scheduler.clearTimeout(timer);
        this.#sleeping = null;
        resolve();
      };
      const timer = this.#deps.scheduler.setTimeout(wake, ms);
      this.#sleeping = { timer, wake };
    });
  }

  async #poll(
    entry: ShadowSyncEntry,
    observer: DeltaObserver,
    signal: AbortSignal,
  ): Promise<{ failure?: ShadowPollFailure } | "aborted"> {
    const { metrics, shadows } = this.#deps;
    try {
      await this.#cap?.acquire("", signal);
      const shadow = await shadows.getThingShadow(entry.thingName, { tenantId: entry.tenantId, signal });
      await observer({
        bindingId: entry.bindingId,
        deviceId: entry.deviceId,
        tenantId: entry.tenantId,
        thingName: entry.thingName,
        delta: shadow?.state.delta ?? {},
        desiredMetadata: shadow?.metadata.desired ?? {},
        shadowVersion: shadow?.version ?? 0,
        lastDeltaFingerprint: entry.lastDeltaFingerprint,
      });
      if (shadow === null) {
        metrics.polled(entry.tenantId, "not_found", "ResourceNotFoundException");
        return this.#failed(entry, "ResourceNotFoundException: the thing has no classic shadow", "not_found");
      }
      metrics.polled(entry.tenantId, Object.keys(shadow.state.delta).length > 0 ? "delta" : "in_sync");
      return {};
    } catch (error) {
      if (signal.aborted) return "aborted";
      const outcome: ShadowPollOutcome =
        error instanceof MalformedShadowDocumentError
          ? "malformed"
          : classifyAwsError((error as { cause?: unknown })?.cause ?? error) === "throttling"
            ? "throttled"
            : "error";
      const name = awsErrorName(error);
      metrics.polled(entry.tenantId, outcome, name);
      return this.#failed(entry, `${name}: ${(error as Error)?.message ?? String(error)}`, outcome);
    }
  }

  #failed(entry: ShadowSyncEntry, error: string, outcome: ShadowPollOutcome): { failure: ShadowPollFailure } {
    const fields = {
      bindingId: entry.bindingId,
      thingName: entry.thingName,
      outcome,
      consecutiveFailures: entry.consecutiveFailures + 1,
      error,
    };
    if (entry.consecutiveFailures === 0)
      this.#logger.warn(fields, "shadow poll failed for one binding; the sweep goes on");
    else this.#logger.debug(fields, "shadow poll still failing for one binding");
    return { failure: { bindingId: entry.bindingId, error } };
  }
}
