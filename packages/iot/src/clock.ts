/**
 * Time as a port. Every timestamp the domain records (audit columns, event `occurredAt`, shadow
 * `updatedAt`) comes from an injected `Clock`, so tests run on a `ManualClock` instead of sleeping.
 */
export interface Clock {
  now(): Date;
}

/** The real wall clock. */
export const systemClock: Clock = Object.freeze({ now: () => new Date() });

/** A clock that only moves when told to. For tests and simulations. */
export class ManualClock implements Clock {
  #now: number;

  constructor(start: Date | string | number = "2026-01-01T00:00:00.000Z") {
    this.#now = new Date(start).getTime();
  }

  now(): Date {
    return new Date(this.#now);
  }

  /** Moves the clock forward by `ms` milliseconds (negative values are refused). */
  advance(ms: number): Date {
    if (ms < 0) throw new RangeError("ManualClock only moves forward");
    this.#now += ms;
    return this.now();
  }

  set(at: Date | string | number): void {
    this.#now = new Date(at).getTime();
  }
}
