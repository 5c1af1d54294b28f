/**
 * `ClaimCertificateRotationCheckService`: every `RotationCheckIntervalHours` (first sweep at start)
 * it pages — with a cursor, `RotationCheckBatchSize` rows at a time — through the registered Active
 * claim certificates and the fleet-provisioned bindings' claim-certificate expiry, and raises
 * `ClaimCertificateExpiringEvent` for those within `ExpiryWarningWindowDays` of expiring.
 *
 * Better than the original in three ways: it reads **every** row (a cursor, not the same first
 * batch), it raises **once per certificate per window** (the notice row and the event commit
 * together, `ON CONFLICT DO NOTHING` on (subject, window start)), and with several hosts only one
 * sweeps per interval (`claimSweep` moves a shared due time). Bindings sharing a claim certificate
 * raise one event for it; a binding whose claim certificate id is unknown raises one for the device.
 */
import { hostname } from "node:os";
import { type Clock, type Logger, silentLogger, type TenantId, uuidv7 } from "@granit/iot";
import {
  type ClaimCertificateExpiringEvent,
  type ClaimCertificateExpiryStore,
  type ClaimExpiryNotice,
  type Scheduler,
  systemScheduler,
  type TimerHandle,
} from "@granit/iot-aws";
import { FleetProvisioningMetrics } from "./fleet-provisioning-metrics.ts";

const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;

/** The sweep's name in the shared due-time table. */
export const ROTATION_CHECK_SWEEP = "claim-certificate-rotation-check";

export interface ClaimCertificateRotationCheckOptions {
  /** @default 30 */
  readonly expiryWarningWindowDays?: number;
  /** @default 24 */
  readonly rotationCheckIntervalHours?: number;
  /** @default 1000 */
  readonly rotationCheckBatchSize?: number;
}

export interface ClaimCertificateRotationCheckDependencies {
  readonly store: ClaimCertificateExpiryStore;
  readonly options?: ClaimCertificateRotationCheckOptions;
  /** Time of the sweep (instants compared with expiries). @default wall clock of `scheduler` */
  readonly clock?: Clock;
  /** Timers between sweeps. @default systemScheduler */
  readonly scheduler?: Scheduler;
  readonly metrics?: FleetProvisioningMetrics;
  readonly logger?: Logger;
  /** Recorded as the host that ran a sweep. @default `${hostname}:${pid}` */
  readonly hostId?: string;
}

/** What one sweep did. */
export interface RotationCheckReport {
  /** False when another host had already run this interval's sweep (nothing was read). */
  readonly claimed: boolean;
  readonly certificatesChecked: number;
  readonly bindingsChecked: number;
  /** Events raised (new notices). */
  readonly raised: number;
}

export class ClaimCertificateRotationCheckService {
  /** For the host's background-service list. */
  readonly name = "claim-certificate-rotation-check";
  readonly #store: ClaimCertificateExpiryStore;
  readonly #windowMs: number;
  readonly #intervalMs: number;
  readonly #batchSize: number;
  readonly #scheduler: Scheduler;
  readonly #clock: Clock;
  readonly #metrics: FleetProvisioningMetrics;
  readonly #logger: Logger;
  readonly #hostId: string;
  #timer: TimerHandle | null = null;
  #running: Promise<unknown> | null = null;
  #stopped = true;

  constructor(dependencies: ClaimCertificateRotationCheckDependencies) {
    const options = dependencies.options ?? {};
    this.#store = dependencies.store;
    this.#windowMs = (options.expiryWarningWindowDays ?? 30) * DAY_MS;
    this.#intervalMs = (options.rotationCheckIntervalHours ?? 24) * HOUR_MS;
    this.#batchSize = options.rotationCheckBatchSize ?? 1000;
    this.#scheduler = dependencies.scheduler ?? systemScheduler;
    const scheduler = this.#scheduler;
    this.#clock = dependencies.clock ?? { now: () => new Date(scheduler.now()) };
    this.#metrics = dependencies.metrics ?? new FleetProvisioningMetrics();
    this.#logger = (dependencies.logger ?? silentLogger).child({ component: "claim-rotation-check" });
    this.#hostId = dependencies.hostId ?? `${hostname()}:${process.pid}`;
  }

  /** Starts sweeping: one sweep now (not awaited), then one per interval. */
  start(): void {
    if (!this.#stopped) return;
    this.#stopped = false;
    this.#tick();
  }

  /** Stops the timer and waits for a running sweep to finish. */
  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer) this.#scheduler.clearTimeout(this.#timer);
    this.#timer = null;
    await this.whenIdle();
  }

  /** Resolves when no sweep is running (tests: after advancing the scheduler). */
  async whenIdle(): Promise<void> {
    while (this.#running) await this.#running.catch(() => {});
  }

  /** One sweep, if this host wins the interval. Errors propagate (the timer loop logs them). */
  async sweep(): Promise<RotationCheckReport> {
    const now = this.#clock.now();
    const claimed = await this.#store.claimSweep(
      ROTATION_CHECK_SWEEP,
      now,
      new Date(now.getTime() + this.#intervalMs),
      this.#hostId,
    );
    if (!claimed) return { claimed: false, certificatesChecked: 0, bindingsChecked: 0, raised: 0 };
    const expiresBefore = new Date(now.getTime() + this.#windowMs);
    const seen = new Set<string>();
    let certificatesChecked = 0;
    let bindingsChecked = 0;
    let raised = 0;

    let cursor: string | null = null;
    do {
      const page = await this.#store.pageExpiringCertificates({
        expiresBefore,
        limit: this.#batchSize,
        cursor,
      });
      for (const certificate of page.items) {
        certificatesChecked++;
        seen.add(certificate.certificateId);
        if (
          await this.#raise(now, {
            subjectKey: certificate.certificateId,
            claimCertificateId: certificate.certificateId,
            deviceId: null,
            tenantId: certificate.tenantId,
            expiresAt: certificate.notAfter,
          })
        ) {
          raised++;
        }
      }
      cursor = page.nextCursor;
    } while (cursor && !this.#stopped);

    cursor = null;
    do {
      const page = await this.#store.pageExpiringJitpBindings({
        expiresBefore,
        limit: this.#batchSize,
        cursor,
      });
      for (const binding of page.items) {
        bindingsChecked++;
        const subjectKey = binding.claimCertificateId ?? `device:${binding.deviceId}`;
        if (seen.has(subjectKey)) continue;
        seen.add(subjectKey);
        if (
          await this.#raise(now, {
            subjectKey,
            claimCertificateId: binding.claimCertificateId,
            deviceId: binding.deviceId,
            tenantId: binding.tenantId,
            expiresAt: binding.claimCertificateExpiresAt,
          })
        ) {
          raised++;
        }
      }
      cursor = page.nextCursor;
    } while (cursor && !this.#stopped);

    this.#logger.info(
      { certificatesChecked, bindingsChecked, raised },
      "claim-certificate rotation check done",
    );
    return { claimed: true, certificatesChecked, bindingsChecked, raised };
  }

  async #raise(
    now: Date,
    subject: {
      subjectKey: string;
      claimCertificateId: string | null;
      deviceId: string | null;
      tenantId: TenantId | null;
      expiresAt: Date;
    },
  ): Promise<boolean> {
    const daysUntilExpiry = Math.max(0, Math.ceil((subject.expiresAt.getTime() - now.getTime()) / DAY_MS));
    const notice: ClaimExpiryNotice = {
      ...subject,
      windowStartsAt: new Date(subject.expiresAt.getTime() - this.#windowMs),
      daysUntilExpiry,
      notifiedAt: now,
    };
    const event: ClaimCertificateExpiringEvent = {
      type: "ClaimCertificateExpiringEvent",
      eventId: uuidv7(now.getTime()),
      occurredAt: now.toISOString(),
      tenantId: subject.tenantId,
      claimCertificateId: subject.claimCertificateId,
      deviceId: subject.deviceId,
      expiresAt: subject.expiresAt.toISOString(),
      daysUntilExpiry,
    };
    const recorded = await this.#store.recordNotice(notice, event);
    if (recorded) {
      this.#metrics.claimExpiring(subject.tenantId);
      this.#logger.warn(
        {
          tenantId: subject.tenantId,
          claimCertificateId: subject.claimCertificateId,
          deviceId: subject.deviceId,
          expiresAt: event.expiresAt,
          daysUntilExpiry,
        },
        "claim certificate expiring: register its replacement",
      );
    }
    return recorded;
  }

  #tick(): void {
    if (this.#stopped) return;
    const run = this.sweep()
      .catch((error: unknown) => {
        this.#logger.error(
          { err: String(error) },
          "claim-certificate rotation check failed; next interval retries",
        );
      })
      .finally(() => {
        if (this.#running === run) this.#running = null;
        if (!this.#stopped) this.#timer = this.#scheduler.setTimeout(() => this.#tick(), this.#intervalMs);
      });
    this.#running = run;
  }
}
