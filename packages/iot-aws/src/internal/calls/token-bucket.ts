/**
 * A token bucket with an asynchronous, FIFO-fair wait: `tokensPerSecond` sustained, `burst` at
 * once. A caller takes a token at once only when nobody is queued, so a steady stream of new
 * callers never overtakes one that is waiting. One timer per bucket wakes the head of the queue
 * when its token is due; an aborted waiter leaves the queue and rejects with the signal's reason.
 */
import type { Scheduler, TimerHandle } from "../../scheduler.ts";

interface Waiter {
  readonly resolve: () => void;
  readonly reject: (reason: unknown) => void;
  readonly signal: AbortSignal | undefined;
  readonly onAbort: () => void;
}

/** Floating-point slack when a timer fires exactly when the token is due. */
const EPSILON = 1e-9;

export class TokenBucket {
  readonly tokensPerSecond: number;
  readonly burst: number;
  readonly #scheduler: Scheduler;
  #tokens: number;
  #updatedAt: number;
  readonly #queue: Waiter[] = [];
  #timer: TimerHandle | null = null;

  constructor(tokensPerSecond: number, burst: number, scheduler: Scheduler) {
    if (!(tokensPerSecond > 0)) throw new RangeError("tokensPerSecond must be positive");
    this.tokensPerSecond = tokensPerSecond;
    this.burst = Math.max(1, burst);
    this.#scheduler = scheduler;
    this.#tokens = this.burst;
    this.#updatedAt = scheduler.now();
  }

  /** Callers waiting for a token. */
  get queued(): number {
    return this.#queue.length;
  }

  /** Resolves when the caller holds a token; FIFO among waiters. */
  acquire(signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    this.#refill();
    if (this.#queue.length === 0 && this.#tokens >= 1 - EPSILON) {
      this.#tokens -= 1;
      return Promise.resolve();
    }
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = {
        resolve,
        reject,
        signal,
        onAbort: () => {
          const index = this.#queue.indexOf(waiter);
          if (index >= 0) this.#queue.splice(index, 1);
          reject(signal?.reason);
        },
      };
      signal?.addEventListener("abort", waiter.onAbort, { once: true });
      this.#queue.push(waiter);
      this.#arm();
    });
  }

  #refill(): void {
    const now = this.#scheduler.now();
    const elapsed = Math.max(0, now - this.#updatedAt);
    this.#tokens = Math.min(this.burst, this.#tokens + (elapsed * this.tokensPerSecond) / 1000);
    this.#updatedAt = now;
  }

  #arm(): void {
    if (this.#timer !== null || this.#queue.length === 0) return;
    const missing = Math.max(0, 1 - this.#tokens);
    // Round up to whole milliseconds, but not past a due time that float error nudged above an integer.
    const waitMs = Math.ceil((missing * 1000) / this.tokensPerSecond - 1e-6);
    this.#timer = this.#scheduler.setTimeout(() => {
      this.#timer = null;
      this.#drain();
    }, waitMs);
  }

  #drain(): void {
    this.#refill();
    while (this.#queue.length > 0 && this.#tokens >= 1 - EPSILON) {
      const waiter = this.#queue.shift();
      if (!waiter) break;
      this.#tokens -= 1;
      waiter.signal?.removeEventListener("abort", waiter.onAbort);
      waiter.resolve();
    }
    this.#arm();
  }
}
