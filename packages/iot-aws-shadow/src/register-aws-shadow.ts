/**
 * One call that wires the shadow bridge into a host (the bundle calls it): subscribes the lifecycle
 * push, the catch-up push of a binding that becomes Active and the sync-state tracking on the durable
 * bus, and returns the delta source as a background service plus the `DeviceShadowService` the HTTP
 * routes use.
 *
 * ```ts
 * const shadow = registerAwsShadow({
 *   bus: host.bus, bindings, devices: host.deviceStore,
 *   syncState: new PostgresShadowSyncStateStore(database), unitOfWork: database,
 *   dataClient: new IoTDataPlaneClient({ maxAttempts: 1, endpoint }), callPolicy,
 *   options: parseAwsShadowOptions(config.IoT?.Aws?.Shadow), clock, logger,
 * });
 * for (const service of shadow.backgroundServices) host.addBackgroundService(service);
 * ```
 */
import type { IoTDataPlaneClient } from "@aws-sdk/client-iot-data-plane";
import {
  type Clock,
  type DeviceStore,
  type Logger,
  type MessageBus,
  silentLogger,
  systemClock,
  type UnitOfWork,
} from "@granit/iot";
import {
  type AwsCallPolicy,
  type AwsThingBindingStore,
  type AwsThingProvisionedEvent,
  type Scheduler,
  SHADOW_SYNC_STATES,
  type ShadowSyncStateStore,
  systemScheduler,
} from "@granit/iot-aws";
import type { Meter } from "@opentelemetry/api";
import type { DeltaSource } from "./delta-source.ts";
import { DesiredStateDeltaHandler } from "./desired-state-delta-handler.ts";
import { DeviceShadowService } from "./device-shadow-service.ts";
import {
  LifecycleShadowPushHandler,
  SHADOW_LIFECYCLE_EVENT_TYPES,
  type ShadowLifecycleEvent,
} from "./lifecycle-shadow-push-handler.ts";
import { ProvisionedShadowPushHandler } from "./provisioned-shadow-push-handler.ts";
import { ShadowDeltaPoller } from "./shadow-delta-poller.ts";
import { ShadowMetrics } from "./shadow-metrics.ts";
import { type AwsShadowOptions, defaultAwsShadowOptions } from "./shadow-options.ts";
import { ThingShadowClient } from "./thing-shadow-client.ts";

/** Handler names on the bus (stable: the bus keys deliveries by them). */
export const AWS_SHADOW_HANDLERS = Object.freeze({
  /** Device activated / suspended / reactivated → reported status. */
  lifecycle: "granit.iot.aws.shadow.lifecycle",
  /** `AwsThingProvisionedEvent` → the binding's shadow is polled from now on. */
  syncState: "granit.iot.aws.shadow.sync-state",
  /**
   * `AwsThingProvisionedEvent` → the device's current status (catches up on a lifecycle push skipped
   * while the binding was provisioning).
   */
  provisionedStatus: "granit.iot.aws.shadow.provisioned-status",
});

/** What `registerAwsShadow` needs. */
export interface AwsShadowDependencies {
  readonly bus: MessageBus;
  readonly bindings: AwsThingBindingStore;
  /** The host's device store: the catch-up push reads the device's status when its binding becomes Active. */
  readonly devices: DeviceStore;
  /** `PostgresShadowSyncStateStore` of `@granit/iot-aws-postgres`. */
  readonly syncState: ShadowSyncStateStore;
  /** The database (its transactions join the bus's outbox). */
  readonly unitOfWork: UnitOfWork;
  /** An `IoTDataPlaneClient` with `maxAttempts: 1` and the account's `iot:Data-ATS` endpoint. */
  readonly dataClient: Pick<IoTDataPlaneClient, "send">;
  /** The host's one `AwsCallPolicy` (per-account rates are shared by every bridge package). */
  readonly callPolicy: AwsCallPolicy;
  /** @default every default of `IoT:Aws:Shadow` */
  readonly options?: AwsShadowOptions | undefined;
  /** @default systemClock */
  readonly clock?: Clock | undefined;
  /** @default systemScheduler */
  readonly scheduler?: Scheduler | undefined;
  /** @default silentLogger */
  readonly logger?: Logger | undefined;
  /** @default the global `granit.iot.aws.shadow` meter */
  readonly meter?: Meter | undefined;
  /**
   * Where deltas come from. @default a `ShadowDeltaPoller`; pass an MQTT subscriber of
   * `$aws/things/+/shadow/update/delta` to replace polling.
   */
  readonly deltaSource?: DeltaSource | undefined;
}

/** A host background service (the shape `host.addBackgroundService` takes). */
export interface AwsShadowBackgroundService {
  readonly name: string;
  start(): Promise<void>;
  stop(): Promise<void>;
}

/** The wired shadow bridge. */
export interface AwsShadow {
  /** The delta source (poller by default); register with `host.addBackgroundService`. */
  readonly backgroundServices: readonly AwsShadowBackgroundService[];
  /** For the shadow HTTP routes. */
  readonly shadows: DeviceShadowService;
  readonly pushHandler: LifecycleShadowPushHandler;
  readonly provisionedPushHandler: ProvisionedShadowPushHandler;
  readonly deltaHandler: DesiredStateDeltaHandler;
  readonly deltaSource: DeltaSource;
  readonly client: ThingShadowClient;
}

/** Subscribes the shadow handlers on `bus` (before the bus starts) and builds the delta source. */
export function registerAwsShadow(dependencies: AwsShadowDependencies): AwsShadow {
  const options = dependencies.options ?? defaultAwsShadowOptions();
  const clock = dependencies.clock ?? systemClock;
  const scheduler = dependencies.scheduler ?? systemScheduler;
  const logger = (dependencies.logger ?? silentLogger).child({ package: "@granit/iot-aws-shadow" });
  const metrics = new ShadowMetrics(dependencies.meter);
  const client = new ThingShadowClient(dependencies.dataClient, dependencies.callPolicy, {
    perThingRequestsPerSecond: options.perThingRequestsPerSecond,
    scheduler,
  });
  const { bus, bindings, devices, syncState } = dependencies;

  const pushHandler = new LifecycleShadowPushHandler({
    bindings,
    shadows: client,
    options,
    clock,
    metrics,
    logger,
  });
  for (const type of SHADOW_LIFECYCLE_EVENT_TYPES) {
    bus.subscribe<ShadowLifecycleEvent>(type, AWS_SHADOW_HANDLERS.lifecycle, async (event, delivery) => {
      await pushHandler.handle(event, delivery.signal);
    });
  }
  const provisionedPushHandler = new ProvisionedShadowPushHandler({
    devices,
    push: pushHandler,
    metrics,
    logger,
  });
  bus.subscribe<AwsThingProvisionedEvent>(
    "AwsThingProvisionedEvent",
    AWS_SHADOW_HANDLERS.provisionedStatus,
    async (event, delivery) => {
      await provisionedPushHandler.handle(event, delivery.signal);
    },
  );
  bus.subscribe<AwsThingProvisionedEvent>(
    "AwsThingProvisionedEvent",
    AWS_SHADOW_HANDLERS.syncState,
    async (event) => {
      const binding = await bindings.findByDevice(event.deviceId, event.tenantId);
      if (!binding || !SHADOW_SYNC_STATES.has(binding.provisioningStatus)) return;
      await syncState.track(
        {
          bindingId: binding.id,
          deviceId: binding.deviceId,
          tenantId: binding.tenantId,
          thingName: binding.thingName.value,
        },
        clock.now(),
      );
    },
  );

  const deltaHandler = new DesiredStateDeltaHandler({
    bus,
    syncState,
    unitOfWork: dependencies.unitOfWork,
    clock,
    metrics,
    logger,
  });
  const deltaSource =
    dependencies.deltaSource ??
    new ShadowDeltaPoller({ syncState, shadows: client, options, clock, scheduler, metrics, logger });

  return {
    backgroundServices: [
      {
        name: deltaSource.name,
        start: () => deltaSource.start(deltaHandler.observe),
        stop: () => deltaSource.stop(),
      },
    ],
    shadows: new DeviceShadowService({ bindings, shadows: client }),
    pushHandler,
    provisionedPushHandler,
    deltaHandler,
    deltaSource,
    client,
  };
}
