/**
 * The catch-up push: when a binding becomes Active (`AwsThingProvisionedEvent`, raised once and
 * committed with the Active binding — by the provisioning saga or by fleet provisioning), push the
 * device's **current** lifecycle status to its shadow.
 *
 * Why: a lifecycle event handled while the binding was still provisioning is skipped (`not_active`),
 * and nothing else would push that status later — a device activated right after it was created
 * never showed `reported.status = "Active"`.
 *
 * How: the device is loaded with the `DeviceStore`, and its status goes through
 * `LifecycleShadowPushHandler.push` with the device's `version` as the `deviceVersion`. The ordering
 * is therefore the lifecycle push's own: a lifecycle event of a later version still wins, an older one
 * (delivered after the catch-up) is skipped as `stale`, one of the same version finds its status
 * already reported, and a redelivered `AwsThingProvisionedEvent` writes nothing. A Provisioning or
 * Decommissioned device has no status to report: nothing is pushed (`not_reportable`), nor for a
 * device that no longer exists (`no_device`).
 */
import { DeviceStatus, type DeviceStore, type Logger, silentLogger, type TenantId } from "@granit/iot";
import { type AwsThingProvisionedEvent, awsErrorName } from "@granit/iot-aws";
import type {
  LifecycleShadowPushHandler,
  ReportedShadowStatus,
  ShadowPushResult,
} from "./lifecycle-shadow-push-handler.ts";
import type { ShadowMetrics } from "./shadow-metrics.ts";

/** The device statuses the catch-up push reports, and what it writes; any other status pushes nothing. */
export const REPORTED_DEVICE_STATUS: ReadonlyMap<DeviceStatus, ReportedShadowStatus> = new Map([
  [DeviceStatus.Active, "Active"],
  [DeviceStatus.Suspended, "Suspended"],
]);

export interface ProvisionedShadowPushHandlerDependencies {
  /** Where the device's current status and version are read. */
  readonly devices: Pick<DeviceStore, "findById">;
  /** The one push path (claim, compare-and-set, metrics). */
  readonly push: LifecycleShadowPushHandler;
  readonly metrics: ShadowMetrics;
  readonly logger?: Logger | undefined;
}

/** Pushes a device's current status when its binding becomes Active; idempotent, order-safe. */
export class ProvisionedShadowPushHandler {
  readonly #deps: ProvisionedShadowPushHandlerDependencies;
  readonly #logger: Logger;

  constructor(dependencies: ProvisionedShadowPushHandlerDependencies) {
    this.#deps = dependencies;
    this.#logger = (dependencies.logger ?? silentLogger).child({ component: "shadow-provisioned-push" });
  }

  /** Handles one delivery. Throws (so the bus redelivers) when AWS or the database failed. */
  async handle(event: AwsThingProvisionedEvent, signal?: AbortSignal): Promise<ShadowPushResult> {
    const device = await this.#loadDevice(event.deviceId, event.tenantId);
    const status = device ? REPORTED_DEVICE_STATUS.get(device.status) : undefined;
    if (!device || !status) {
      const reason = device ? "not_reportable" : "no_device";
      this.#deps.metrics.pushSkipped(event.tenantId, reason);
      this.#logger.debug(
        { deviceId: event.deviceId, deviceStatus: device?.status ?? null, reason },
        "binding Active: no device status to push",
      );
      return { pushed: false, reason };
    }
    return this.#deps.push.push(
      {
        tenantId: event.tenantId,
        deviceId: event.deviceId,
        deviceVersion: device.version,
        status,
        trigger: event.type,
      },
      signal,
    );
  }

  async #loadDevice(deviceId: string, tenantId: TenantId | null) {
    try {
      return await this.#deps.devices.findById(deviceId, tenantId);
    } catch (error) {
      this.#deps.metrics.pushFailed(tenantId, awsErrorName(error));
      this.#logger.warn(
        { deviceId, error: awsErrorName(error) },
        "reading the device for its shadow status failed; the event will be redelivered",
      );
      throw error;
    }
  }
}
