/**
 * One call that wires the jobs bridge into a host: the dispatcher, the delta → job handler
 * (subscribed on the bus as `granit.iot.aws.jobs.desired-state`), the status poller (a background
 * service to register with the host) and the commands service behind the host API.
 */
import type { Clock, Logger, MessageBus, ReadinessGate, SubscribeOptions } from "@granit/iot";
import type {
  AwsCallPolicy,
  AwsClientLike,
  AwsThingBindingStore,
  DeviceDesiredStateChangedEvent,
  JobTrackingStore,
  Scheduler,
} from "@granit/iot-aws";
import type { Meter } from "@opentelemetry/api";
import { AwsIoTJobsCommandDispatcher, type AwsJobsTestHooks } from "./aws-iot-jobs-command-dispatcher.ts";
import { AwsJobsMetrics } from "./aws-jobs-metrics.ts";
import type { AwsJobsOptions } from "./aws-jobs-options.ts";
import { createDesiredStateCommandHandler, DESIRED_STATE_HANDLER } from "./desired-state-command-handler.ts";
import { DeviceCommandService } from "./device-command-service.ts";
import { JobStatusPoller } from "./job-status-poller.ts";

export interface AwsJobsDependencies {
  readonly bus: MessageBus;
  readonly bindingStore: AwsThingBindingStore;
  /** `PostgresJobTrackingStore` from `@granit/iot-aws-postgres`. */
  readonly trackingStore: JobTrackingStore;
  /** An `IoTClient` built with `maxAttempts: 1` (the call policy retries). */
  readonly iot: AwsClientLike;
  /** The host's one call policy (quotas are per account). */
  readonly callPolicy: AwsCallPolicy;
  /** The credential gate (`AwsIoTCredentialProvider`). */
  readonly credentials?: ReadinessGate | undefined;
  /** Parsed `IoT:Aws:Jobs` (`parseAwsJobsOptions`). */
  readonly options: AwsJobsOptions;
  readonly clock?: Clock | undefined;
  readonly scheduler?: Scheduler | undefined;
  readonly logger?: Logger | undefined;
  /** @default the global `granit.iot.aws.jobs` meter */
  readonly meter?: Meter | undefined;
  /** Retry policy of the delta handler on the bus. */
  readonly subscribeOptions?: SubscribeOptions | undefined;
  readonly hooks?: AwsJobsTestHooks | undefined;
}

/** What `registerAwsJobs` returns. */
export interface AwsJobs {
  readonly dispatcher: AwsIoTJobsCommandDispatcher;
  readonly commands: DeviceCommandService;
  /** Register with the host: `host.addBackgroundService(jobs.poller)`. */
  readonly poller: JobStatusPoller;
}

/** Builds the jobs bridge and subscribes its delta handler (call before the bus starts). */
export function registerAwsJobs(dependencies: AwsJobsDependencies): AwsJobs {
  const metrics = new AwsJobsMetrics(dependencies.meter);
  const iot = dependencies.callPolicy.forClient(dependencies.iot, "iot");
  const dispatcher = new AwsIoTJobsCommandDispatcher({
    iot,
    trackingStore: dependencies.trackingStore,
    options: dependencies.options,
    credentials: dependencies.credentials,
    clock: dependencies.clock,
    logger: dependencies.logger,
    metrics,
    hooks: dependencies.hooks,
  });
  dependencies.bus.subscribe<DeviceDesiredStateChangedEvent>(
    "DeviceDesiredStateChangedEvent",
    DESIRED_STATE_HANDLER,
    createDesiredStateCommandHandler({
      bindingStore: dependencies.bindingStore,
      dispatcher,
      logger: dependencies.logger,
    }),
    dependencies.subscribeOptions,
  );
  const poller = new JobStatusPoller({
    iot,
    trackingStore: dependencies.trackingStore,
    dispatcher,
    options: dependencies.options,
    credentials: dependencies.credentials,
    clock: dependencies.clock,
    scheduler: dependencies.scheduler,
    logger: dependencies.logger,
    metrics,
  });
  const commands = new DeviceCommandService({
    dispatcher,
    trackingStore: dependencies.trackingStore,
    bindingStore: dependencies.bindingStore,
    clock: dependencies.clock,
  });
  return { dispatcher, commands, poller };
}
