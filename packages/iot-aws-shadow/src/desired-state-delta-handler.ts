/**
 * AWS → Granit: turns a `DeltaObservation` (from any `DeltaSource`) into at most one
 * `DeviceDesiredStateChangedEvent` per desired state.
 *
 * - A non-empty delta is identified by `desiredStateFingerprint(delta, desiredTimestamps)`: the delta
 *   values and the desired metadata timestamps of its leaves, never the shadow `version` (a
 *   reported-only update bumps the version and changes nothing here).
 * - The fingerprint is compare-and-set in the sync-state row and the event is published on the bus
 *   **in the same transaction** (transactional outbox): a crash cannot publish twice or lose one, and
 *   two observers of the same delta publish once.
 * - An empty delta (the device reported the desired values, or the shadow is gone) clears the
 *   fingerprint, so setting the same desired value again later publishes again.
 */
import { type Clock, type Logger, type MessageBus, silentLogger, type UnitOfWork, uuidv7 } from "@granit/iot";
import {
  type DeviceDesiredStateChangedEvent,
  desiredStateFingerprint,
  type ShadowSyncStateStore,
} from "@granit/iot-aws";
import type { DeltaObservation } from "./delta-source.ts";
import { desiredTimestampsOf } from "./shadow-document.ts";
import type { ShadowMetrics } from "./shadow-metrics.ts";

/** What one observation led to. */
export type DeltaObservationOutcome =
  | "published"
  /** Same desired state as already published. */
  | "unchanged"
  /** Empty delta; the last fingerprint was cleared. */
  | "cleared"
  /** Empty delta and nothing to clear. */
  | "in_sync"
  /** The binding is not under shadow sync (not Active, or not yet reconciled): nothing published. */
  | "untracked";

export interface DesiredStateDeltaHandlerDependencies {
  readonly bus: MessageBus;
  readonly syncState: ShadowSyncStateStore;
  readonly unitOfWork: UnitOfWork;
  readonly clock: Clock;
  readonly metrics: ShadowMetrics;
  readonly logger?: Logger | undefined;
}

export class DesiredStateDeltaHandler {
  readonly #deps: DesiredStateDeltaHandlerDependencies;
  readonly #logger: Logger;

  constructor(dependencies: DesiredStateDeltaHandlerDependencies) {
    this.#deps = dependencies;
    this.#logger = (dependencies.logger ?? silentLogger).child({ component: "shadow-delta" });
  }

  /** The observer to hand to a `DeltaSource` (`source.start(handler.observe)`). */
  readonly observe = (observation: DeltaObservation): Promise<DeltaObservationOutcome> =>
    Object.keys(observation.delta).length === 0 ? this.#inSync(observation) : this.#changed(observation);

  async #changed(observation: DeltaObservation): Promise<DeltaObservationOutcome> {
    const desiredTimestamps = desiredTimestampsOf(observation.delta, observation.desiredMetadata);
    const fingerprint = desiredStateFingerprint(observation.delta, desiredTimestamps);
    if (observation.lastDeltaFingerprint === fingerprint) return "unchanged";
    const { syncState, bus, unitOfWork, clock } = this.#deps;
    const published = await unitOfWork.run(async (scope) => {
      if (!(await syncState.recordDeltaFingerprint(observation.bindingId, fingerprint, scope))) return false;
      const now = clock.now();
      const event: DeviceDesiredStateChangedEvent = {
        type: "DeviceDesiredStateChangedEvent",
        eventId: uuidv7(now.getTime()),
        occurredAt: now.toISOString(),
        tenantId: observation.tenantId,
        deviceId: observation.deviceId,
        thingName: observation.thingName,
        delta: observation.delta,
        shadowVersion: observation.shadowVersion,
        desiredTimestamps,
        fingerprint,
      };
      await bus.publish([event], scope);
      return true;
    });
    if (!published) {
      const tracked = (await syncState.find(observation.bindingId)) !== null;
      return tracked ? "unchanged" : "untracked";
    }
    this.#deps.metrics.deltaPublished(observation.tenantId);
    this.#logger.info(
      {
        deviceId: observation.deviceId,
        thingName: observation.thingName,
        shadowVersion: observation.shadowVersion,
        keys: Object.keys(observation.delta),
        fingerprint,
      },
      "desired state differs from reported: DeviceDesiredStateChangedEvent published",
    );
    return "published";
  }

  async #inSync(observation: DeltaObservation): Promise<DeltaObservationOutcome> {
    const { syncState } = this.#deps;
    const last =
      observation.lastDeltaFingerprint !== undefined
        ? observation.lastDeltaFingerprint
        : ((await syncState.find(observation.bindingId))?.lastDeltaFingerprint ?? null);
    if (last === null) return "in_sync";
    return (await syncState.clearDeltaFingerprint(observation.bindingId, last)) ? "cleared" : "in_sync";
  }
}
