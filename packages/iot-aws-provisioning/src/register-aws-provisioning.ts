/**
 * Wiring for a host or the bundle: builds `AwsProvisioning` and subscribes its handlers on the bus.
 *
 * | handler | events | does |
 * |---|---|---|
 * | `granit.iot.aws.provisioning.saga` | `DeviceProvisionedEvent`, `AwsThingProvisioningRequestedEvent` | `provision(deviceId)` |
 * | `granit.iot.aws.provisioning.decommission` | `DeviceDecommissionedEvent` | `decommission(deviceId)` |
 *
 * Both are idempotent and safe to run on several hosts at once (one run per device, by the binding
 * lock; a busy device is retried by the bus).
 */
import type { DeviceDecommissionedEvent, DeviceProvisionedEvent, SubscribeOptions } from "@granit/iot";
import { AwsProvisioning, type AwsProvisioningDependencies } from "./aws-provisioning.ts";
import type { AwsThingProvisioningRequestedEvent } from "./events.ts";

/** Handler name of the provisioning saga on the bus. */
export const PROVISIONING_SAGA_HANDLER = "granit.iot.aws.provisioning.saga";
/** Handler name of the decommission on the bus. */
export const DECOMMISSION_HANDLER = "granit.iot.aws.provisioning.decommission";

/**
 * Delivery defaults of both handlers: a busy device and exhausted throttling retries are retried,
 * so allow more attempts than the bus default before a delivery is dead-lettered.
 */
export const PROVISIONING_SUBSCRIBE_DEFAULTS: SubscribeOptions = Object.freeze({
  maxAttempts: 25,
  backoffMs: 1000,
  maxBackoffMs: 60_000,
});

export interface RegisterAwsProvisioningOptions extends AwsProvisioningDependencies {
  /** @default PROVISIONING_SUBSCRIBE_DEFAULTS */
  readonly subscribe?: SubscribeOptions | undefined;
}

/** Builds `AwsProvisioning` and subscribes the saga and decommission handlers (before `bus.start()`). */
export function registerAwsProvisioning(options: RegisterAwsProvisioningOptions): AwsProvisioning {
  const provisioning = new AwsProvisioning(options);
  const subscribe = options.subscribe ?? PROVISIONING_SUBSCRIBE_DEFAULTS;
  options.bus.subscribe<DeviceProvisionedEvent>(
    "DeviceProvisionedEvent",
    PROVISIONING_SAGA_HANDLER,
    async (event, context) => {
      await provisioning.provision(event.deviceId, { signal: context.signal });
    },
    subscribe,
  );
  options.bus.subscribe<AwsThingProvisioningRequestedEvent>(
    "AwsThingProvisioningRequestedEvent",
    PROVISIONING_SAGA_HANDLER,
    async (event, context) => {
      await provisioning.provision(event.deviceId, { signal: context.signal });
    },
    subscribe,
  );
  options.bus.subscribe<DeviceDecommissionedEvent>(
    "DeviceDecommissionedEvent",
    DECOMMISSION_HANDLER,
    async (event, context) => {
      await provisioning.decommission(event.deviceId, { signal: context.signal });
    },
    subscribe,
  );
  return provisioning;
}
