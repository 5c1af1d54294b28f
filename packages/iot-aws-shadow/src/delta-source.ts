/**
 * The seam between *where* a shadow's delta is observed and *what* is done with it. The poller
 * (`ShadowDeltaPoller`) is one `DeltaSource`; a later MQTT subscriber on
 * `$aws/things/+/shadow/update/delta` (parse its messages with `parseShadowDeltaMessage`) is another.
 * Both hand `DeltaObservation`s to the same observer — `DesiredStateDeltaHandler.observe` — so
 * replacing polling touches neither the handler nor the event it publishes.
 *
 * @see https://docs.aws.amazon.com/iot/latest/developerguide/device-shadow-mqtt.html#update-delta-pub-sub-topic
 */
import type { TenantId } from "@granit/iot";
import type { JsonObject } from "@granit/iot-aws";

/** What a source saw of one binding's shadow. */
export interface DeltaObservation {
  readonly bindingId: string;
  readonly deviceId: string;
  readonly tenantId: TenantId | null;
  readonly thingName: string;
  /** `state.delta` as JSON; `{}` when desired and reported agree (or the shadow is gone). */
  readonly delta: JsonObject;
  /** `metadata.desired` of the shadow (or the delta message's `metadata`), for the leaf timestamps. */
  readonly desiredMetadata: JsonObject;
  readonly shadowVersion: number;
  /**
   * The fingerprint last published for this binding as the source knows it (the poller reads it with
   * its claim); `undefined` when the source does not know — the handler then asks the store.
   */
  readonly lastDeltaFingerprint?: string | null | undefined;
}

/** Receives observations; resolves once the observation is durably handled (or throws). */
export type DeltaObserver = (observation: DeltaObservation) => Promise<unknown>;

/** A producer of delta observations, run as a host background service. */
export interface DeltaSource {
  readonly name: string;
  start(observer: DeltaObserver): Promise<void>;
  /** Stops observing and waits for the observations in flight. */
  stop(): Promise<void>;
}
