/**
 * Granit → AWS: on `DeviceActivatedEvent`, `DeviceSuspendedEvent` and `DeviceReactivatedEvent`, write
 * `{"state":{"reported":{"status":"Active|Suspended","updatedAt":"<ISO-8601>"}}}` to the device's
 * classic shadow — only for a binding in `SHADOW_SYNC_STATES` (Active: an explicit set, so Failed and
 * Decommissioned bindings get nothing) and only when the event is newer than what was last reported.
 *
 * Ordering, with at-least-once delivery on several hosts at once:
 *
 * 1. **Claim** — `binding.recordShadowReported(event.deviceVersion)` is written with the binding's
 *    optimistic version *before* the push. From then on an older event is skipped and a newer one
 *    can claim after it; two claims never both win (the loser reloads and re-decides).
 * 2. **Push under compare-and-set** — read the shadow (its `version`), check the claim is still this
 *    event's, then `UpdateThingShadow` with that `version`. A 409 means someone wrote in between:
 *    read again, check again, retry. A push therefore never lands after a newer event's push: the
 *    newer claim happened before that push, hence before our read, so our check sees it and stops.
 * 3. A redelivery of the claimed event (crash after the claim, or a duplicate) pushes again with the
 *    same `updatedAt` (the claim's instant, which is also `lastShadowReportedAt`) unless the shadow
 *    already shows exactly that status and instant.
 *
 * The same path serves `ProvisionedShadowPushHandler`, which pushes the device's current status with
 * its current `version` when the binding becomes Active (`push(request)`): a version is a version,
 * whoever claims it, so that catch-up and the lifecycle events order against each other.
 *
 * A thing without a shadow first gets an empty one (`{"state":{"reported":{}}}`, no version: harmless
 * whoever wins), so the status itself is always written under compare-and-set. (`version` on a
 * missing shadow is not portable: moto answers it with a 500.) Should AWS ever refuse the empty
 * document, the status is written without a version.
 *
 * @see https://docs.aws.amazon.com/iot/latest/developerguide/device-shadow-data-flow.html#optimistic-locking
 */
import {
  type Clock,
  type DeviceActivatedEvent,
  type DeviceReactivatedEvent,
  type DeviceSuspendedEvent,
  type Logger,
  silentLogger,
  type TenantId,
} from "@granit/iot";
import {
  type AwsThingBinding,
  type AwsThingBindingStore,
  awsErrorName,
  SHADOW_SYNC_STATES,
} from "@granit/iot-aws";
import { ShadowPushConflictError } from "./errors.ts";
import type { ShadowMetrics, ShadowPushSkipReason } from "./shadow-metrics.ts";
import { isVersionConflict, type ShadowCallContext, type ThingShadowClient } from "./thing-shadow-client.ts";

/** The Device lifecycle events whose status is reported to the shadow. */
export type ShadowLifecycleEvent = DeviceActivatedEvent | DeviceSuspendedEvent | DeviceReactivatedEvent;

/** The `reported.status` each lifecycle event writes. */
export const REPORTED_LIFECYCLE_STATUS = Object.freeze({
  DeviceActivatedEvent: "Active",
  DeviceSuspendedEvent: "Suspended",
  DeviceReactivatedEvent: "Active",
} as const satisfies Record<ShadowLifecycleEvent["type"], string>);

/** A `reported.status` value: `"Active"` or `"Suspended"`. */
export type ReportedShadowStatus = (typeof REPORTED_LIFECYCLE_STATUS)[keyof typeof REPORTED_LIFECYCLE_STATUS];

/**
 * One status push: the device's status as of `deviceVersion` (`Device.version` right after the
 * change that set it). Pushes are ordered by `deviceVersion`, whoever asks for them.
 */
export interface ShadowStatusPush {
  readonly tenantId: TenantId | null;
  readonly deviceId: string;
  readonly deviceVersion: number;
  readonly status: ReportedShadowStatus;
  /** What asked for the push (an event type), for the logs. */
  readonly trigger: string;
}

/** The event types `LifecycleShadowPushHandler` subscribes to. */
export const SHADOW_LIFECYCLE_EVENT_TYPES = Object.freeze(
  Object.keys(REPORTED_LIFECYCLE_STATUS) as ShadowLifecycleEvent["type"][],
);

/** What `handle` did. */
export type ShadowPushResult =
  | {
      readonly pushed: true;
      readonly status: string;
      readonly updatedAt: string;
      readonly shadowVersion: number;
    }
  | { readonly pushed: false; readonly reason: ShadowPushSkipReason | "already_reported" };

/** The audit actor of the binding writes. */
const ACTOR = "granit.iot.aws.shadow";
const MAX_CLAIM_ATTEMPTS = 5;
const MAX_PUSH_ATTEMPTS = 5;

export interface LifecycleShadowPushHandlerDependencies {
  readonly bindings: AwsThingBindingStore;
  readonly shadows: ThingShadowClient;
  readonly options: { readonly autoPushLifecycleStatus: boolean };
  readonly clock: Clock;
  readonly metrics: ShadowMetrics;
  readonly logger?: Logger | undefined;
}

/** Pushes a device's lifecycle status to its shadow; idempotent, order-safe (see the module comment). */
export class LifecycleShadowPushHandler {
  readonly #deps: LifecycleShadowPushHandlerDependencies;
  readonly #logger: Logger;

  constructor(dependencies: LifecycleShadowPushHandlerDependencies) {
    this.#deps = dependencies;
    this.#logger = (dependencies.logger ?? silentLogger).child({ component: "shadow-lifecycle-push" });
  }

  /** Handles one delivery. Throws (so the bus redelivers) when AWS or the database failed. */
  handle(event: ShadowLifecycleEvent, signal?: AbortSignal): Promise<ShadowPushResult> {
    return this.push(
      {
        tenantId: event.tenantId,
        deviceId: event.deviceId,
        deviceVersion: event.deviceVersion,
        status: REPORTED_LIFECYCLE_STATUS[event.type],
        trigger: event.type,
      },
      signal,
    );
  }

  /**
   * Pushes `request.status` unless a newer (or the same) device version was already claimed — the
   * claim, compare-and-set and metrics of `handle`, for any caller. Throws when AWS or the database
   * failed.
   */
  async push(request: ShadowStatusPush, signal?: AbortSignal): Promise<ShadowPushResult> {
    const about = {
      deviceId: request.deviceId,
      deviceVersion: request.deviceVersion,
      trigger: request.trigger,
    };
    try {
      const result = await this.#push(request, signal);
      if (result.pushed) this.#deps.metrics.pushed(request.tenantId, result.status);
      else if (result.reason !== "already_reported")
        this.#deps.metrics.pushSkipped(request.tenantId, result.reason);
      this.#logger.debug(
        { ...about, ...result },
        result.pushed ? "reported status pushed to the shadow" : "status push pushed nothing",
      );
      return result;
    } catch (error) {
      this.#deps.metrics.pushFailed(request.tenantId, awsErrorName(error));
      this.#logger.warn(
        { ...about, error: awsErrorName(error) },
        "pushing the reported status to the shadow failed; the event will be redelivered",
      );
      throw error;
    }
  }

  async #push(request: ShadowStatusPush, signal: AbortSignal | undefined): Promise<ShadowPushResult> {
    if (!this.#deps.options.autoPushLifecycleStatus) return { pushed: false, reason: "disabled" };
    const claim = await this.#claim(request);
    if ("reason" in claim) return { pushed: false, reason: claim.reason };
    const { status } = request;
    const updatedAt = claim.reportedAt.toISOString();
    const thingName = claim.binding.thingName.value;
    const context = { tenantId: request.tenantId, signal };

    let unconditional = false;
    for (let attempt = 1; attempt <= MAX_PUSH_ATTEMPTS; attempt++) {
      const shadow = await this.#deps.shadows.getThingShadow(thingName, context);
      if (shadow === null && !unconditional) {
        unconditional = !(await this.#createEmptyShadow(thingName, context));
        if (!unconditional) continue; // read it again, now with a version to compare
      }
      const reported = shadow?.state.reported;
      if (reported?.status === status && reported.updatedAt === updatedAt) {
        return { pushed: false, reason: "already_reported" };
      }
      const current = await this.#deps.bindings.findByDevice(request.deviceId, request.tenantId);
      if (!current || !SHADOW_SYNC_STATES.has(current.provisioningStatus))
        return { pushed: false, reason: "not_active" };
      if (current.shadowReportedDeviceVersion !== request.deviceVersion)
        return { pushed: false, reason: "superseded" };
      const version = shadow ? shadow.version : undefined;
      try {
        const written = await this.#deps.shadows.updateThingShadow(
          thingName,
          { reported: { status, updatedAt } },
          { ...context, version },
        );
        return { pushed: true, status, updatedAt, shadowVersion: written.version };
      } catch (error) {
        if (!isVersionConflict(error)) throw error;
      }
    }
    throw new ShadowPushConflictError(thingName, MAX_PUSH_ATTEMPTS);
  }

  /** `{"state":{"reported":{}}}`: creates an empty shadow, changes nothing in an existing one. */
  async #createEmptyShadow(thingName: string, context: ShadowCallContext): Promise<boolean> {
    try {
      await this.#deps.shadows.updateThingShadow(thingName, { reported: {} }, context);
      return true;
    } catch (error) {
      if (awsErrorName(error) === "InvalidRequestException") return false;
      throw error;
    }
  }

  /** Step 1: the binding records this version as the newest reported one (optimistically), or says why not. */
  async #claim(
    request: ShadowStatusPush,
  ): Promise<{ binding: AwsThingBinding; reportedAt: Date } | { reason: ShadowPushSkipReason }> {
    for (let attempt = 1; ; attempt++) {
      const binding = await this.#deps.bindings.findByDevice(request.deviceId, request.tenantId);
      if (!binding) return { reason: "no_binding" };
      if (!SHADOW_SYNC_STATES.has(binding.provisioningStatus)) return { reason: "not_active" };
      const recorded = binding.shadowReportedDeviceVersion;
      if (recorded !== null && request.deviceVersion < recorded) return { reason: "stale" };
      if (recorded === request.deviceVersion && binding.lastShadowReportedAt) {
        return { binding, reportedAt: binding.lastShadowReportedAt }; // redelivery of the claimed version
      }
      const reportedAt = this.#deps.clock.now();
      binding.recordShadowReported(request.deviceVersion, { at: reportedAt, by: ACTOR });
      try {
        await this.#deps.bindings.update(binding);
        return { binding, reportedAt };
      } catch (error) {
        if (awsErrorName(error) !== "ConcurrencyConflictError" || attempt >= MAX_CLAIM_ATTEMPTS) throw error;
      }
    }
  }
}
