/**
 * Deletes replay nonces once their signatures would be refused as stale anyway (every
 * `intervalMs`, in batches). Any number of hosts may run it: deleting an expired row twice is
 * harmless and the batches skip rows another host holds (`SKIP LOCKED`).
 */
import { type Clock, type Logger, silentLogger } from "@granit/iot";
import {
  type FleetRequestNonceStore,
  type Scheduler,
  systemScheduler,
  type TimerHandle,
} from "@granit/iot-aws";

export class FleetRequestNoncePurger {
  readonly name = "fleet-request-nonce-purge";
  readonly #nonces: FleetRequestNonceStore;
  readonly #clock: Clock;
  readonly #scheduler: Scheduler;
  readonly #intervalMs: number;
  readonly #batchSize: number;
  readonly #logger: Logger;
  #timer: TimerHandle | null = null;
  #running: Promise<void> | null = null;
  #stopped = true;

  constructor(options: {
    readonly nonces: FleetRequestNonceStore;
    readonly clock: Clock;
    readonly scheduler?: Scheduler;
    /** @default 600000 (10 minutes) */
    readonly intervalMs?: number;
    /** @default 10000 */
    readonly batchSize?: number;
    readonly logger?: Logger;
  }) {
    this.#nonces = options.nonces;
    this.#clock = options.clock;
    this.#scheduler = options.scheduler ?? systemScheduler;
    this.#intervalMs = options.intervalMs ?? 600_000;
    this.#batchSize = options.batchSize ?? 10_000;
    this.#logger = (options.logger ?? silentLogger).child({ component: "fleet-nonce-purge" });
  }

  start(): void {
    if (!this.#stopped) return;
    this.#stopped = false;
    this.#schedule();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer) this.#scheduler.clearTimeout(this.#timer);
    this.#timer = null;
    await this.#running;
  }

  /** Deletes every expired nonce now; returns how many. */
  async purge(): Promise<number> {
    let total = 0;
    for (;;) {
      const deleted = await this.#nonces.purgeExpired(this.#clock.now(), this.#batchSize);
      total += deleted;
      if (deleted < this.#batchSize || this.#stopped) return total;
    }
  }

  #schedule(): void {
    this.#timer = this.#scheduler.setTimeout(() => {
      this.#running = this.purge()
        .then((n) => {
          if (n > 0) this.#logger.debug({ deleted: n }, "expired fleet request nonces deleted");
        })
        .catch((error: unknown) => this.#logger.warn({ err: String(error) }, "nonce purge failed"))
        .finally(() => {
          this.#running = null;
          if (!this.#stopped) this.#schedule();
        });
    }, this.#intervalMs);
  }
}
