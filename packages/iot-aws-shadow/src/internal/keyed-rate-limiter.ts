/**
 * A rate limiter per key (GCRA: one "theoretical arrival time" per key): `ratePerSecond` sustained
 * and `burst` at once for each key. A caller reserves its slot when it asks, so callers of one key are
 * served in the order they asked; waiting is a scheduler timer. Keys whose budget is full again are
 * forgotten, so memory follows the keys in use in the last second, not every key ever seen.
 */
import type { Scheduler } from "@granit/iot-aws";

const PRUNE_EVERY = 1024;

export class KeyedRateLimiter {
  readonly ratePerSecond: number;
  readonly burst: number;
  readonly #intervalMs: number;
  readonly #toleranceMs: number;
  readonly #scheduler: Scheduler;
  readonly #arrivals = new Map<string, number>();
  #calls = 0;

  constructor(ratePerSecond: number, burst: number, scheduler: Scheduler) {
    if (!(ratePerSecond > 0)) throw new RangeError("ratePerSecond must be positive");
    this.ratePerSecond = ratePerSecond;
    this.burst = Math.max(1, Math.floor(burst));
    this.#intervalMs = 1000 / ratePerSecond;
    this.#toleranceMs = (this.burst - 1) * this.#intervalMs;
    this.#scheduler = scheduler;
  }

  /** Keys currently holding state (for tests and metrics). */
  get trackedKeys(): number {
    return this.#arrivals.size;
  }

  /** Resolves when `key` may send one more request; rejects with the signal's reason when aborted. */
  acquire(key: string, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    const now = this.#scheduler.now();
    if (++this.#calls % PRUNE_EVERY === 0) this.#prune(now);
    const arrival = Math.max(this.#arrivals.get(key) ?? now, now);
    const allowedAt = arrival - this.#toleranceMs;
    this.#arrivals.set(key, arrival + this.#intervalMs);
    const waitMs = Math.ceil(allowedAt - now);
    if (waitMs <= 0) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const onAbort = () => {
        this.#scheduler.clearTimeout(timer);
        reject(signal?.reason);
      };
      const timer = this.#scheduler.setTimeout(() => {
        signal?.removeEventListener("abort", onAbort);
        resolve();
      }, waitMs);
      signal?.addEventListener("abort", onAbort, { once: true });
    });
  }

  #prune(now: number): void {
    for (const [key, arrival] of this.#arrivals) {
      if (arrival <= now) this.#arrivals.delete(key);
    }
  }
}
