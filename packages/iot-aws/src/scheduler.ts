/**
 * Time and timers as a port, for everything in the bridge that waits: credential refreshes, rate
 * limiter queues, retry backoff, pollers. Production uses `systemScheduler`; tests drive a
 * `ManualScheduler` and never sleep or depend on wall-clock timing.
 */

/** An opaque handle returned by `Scheduler.setTimeout`. */
export type TimerHandle = { readonly __timer: true } | object;

export interface Scheduler {
  /** Milliseconds since the Unix epoch, never going backwards. */
  now(): number;
  /** Runs `callback` once after `ms` milliseconds. Timers must not keep the process alive. */
  setTimeout(callback: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
}

/**
 * Real time: a monotonic clock anchored at the epoch (`performance.timeOrigin + performance.now()`)
 * and unref'd `setTimeout`s.
 */
export const systemScheduler: Scheduler = Object.freeze({
  now: () => performance.timeOrigin + performance.now(),
  setTimeout: (callback: () => void, ms: number): TimerHandle => {
    const timer = setTimeout(callback, Math.max(0, ms));
    timer.unref();
    return timer;
  },
  clearTimeout: (handle: TimerHandle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
});

interface ManualTimer {
  readonly at: number;
  readonly seq: number;
  readonly callback: () => void;
}

/**
 * A scheduler whose time only moves when a test says so. `advance(ms)` fires the timers that come
 * due, in time order, and lets promise callbacks settle after each one, so `await`-chains driven by
 * timers (backoff, refresh loops) progress exactly as they would in real time.
 */
export class ManualScheduler implements Scheduler {
  #now: number;
  #seq = 0;
  readonly #timers = new Map<object, ManualTimer>();

  constructor(start: Date | string | number = "2026-01-01T00:00:00.000Z") {
    this.#now = new Date(start).getTime();
  }

  now(): number {
    return this.#now;
  }

  setTimeout(callback: () => void, ms: number): TimerHandle {
    const handle = {};
    this.#timers.set(handle, { at: this.#now + Math.max(0, ms), seq: this.#seq++, callback });
    return handle;
  }

  clearTimeout(handle: TimerHandle): void {
    this.#timers.delete(handle);
  }

  /** Number of timers waiting to fire. */
  get pendingTimers(): number {
    return this.#timers.size;
  }

  /** When the next timer fires, or `null` when none is waiting. */
  nextTimerAt(): number | null {
    return this.#next()?.[1].at ?? null;
  }

  /** Moves time forward by `ms`, firing every timer that comes due (including ones set meanwhile). */
  async advance(ms: number): Promise<void> {
    if (ms < 0) throw new RangeError("ManualScheduler only moves forward");
    const target = this.#now + ms;
    await settle();
    for (let next = this.#next(); next && next[1].at <= target; next = this.#next()) {
      const [handle, timer] = next;
      this.#timers.delete(handle);
      this.#now = Math.max(this.#now, timer.at);
      timer.callback();
      await settle();
    }
    this.#now = target;
    await settle();
  }

  /** Advances to the next timer and fires it (and any due at the same instant). False when none waits. */
  async runNext(): Promise<boolean> {
    const at = this.nextTimerAt();
    if (at === null) return false;
    await this.advance(at - this.#now);
    return true;
  }

  /** Lets pending promise callbacks run without moving time. */
  settle(): Promise<void> {
    return settle();
  }

  #next(): [object, ManualTimer] | undefined {
    let best: [object, ManualTimer] | undefined;
    for (const entry of this.#timers) {
      if (!best || entry[1].at < best[1].at || (entry[1].at === best[1].at && entry[1].seq < best[1].seq)) {
        best = entry;
      }
    }
    return best;
  }
}

/** Waits until every queued promise callback (and the chains they start) has run. */
function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
