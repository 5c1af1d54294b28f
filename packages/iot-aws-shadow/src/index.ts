/**
 * @granit/iot-aws-shadow — the Device Shadow bridge. Granit → AWS: a device's lifecycle status is
 * pushed to its classic shadow (`reported.status`), in order and only for Active bindings. AWS → Granit:
 * a shared, rate-limited delta poller publishes `DeviceDesiredStateChangedEvent` once per desired state,
 * behind a `DeltaSource` seam an MQTT subscriber can take over. Plus the shadow reads and desired-state
 * writes the HTTP API needs, the `IoT:Aws:Shadow` options and the `granit.iot.aws.shadow` meter.
 */
export type { DeltaObservation, DeltaObserver, DeltaSource } from "./delta-source.ts";
export {
  type DeltaObservationOutcome,
  DesiredStateDeltaHandler,
  type DesiredStateDeltaHandlerDependencies,
} from "./desired-state-delta-handler.ts";
export {
  DeviceShadowService,
  type DeviceShadowView,
  MAX_SHADOW_NESTING,
  MAX_SHADOW_STATE_BYTES,
  validateDesired,
} from "./device-shadow-service.ts";
export {
  DesiredStateTooLargeError,
  GranitIoTAwsShadowError,
  MalformedShadowDocumentError,
  ShadowPushConflictError,
} from "./errors.ts";
export {
  LifecycleShadowPushHandler,
  type LifecycleShadowPushHandlerDependencies,
  REPORTED_LIFECYCLE_STATUS,
  type ReportedShadowStatus,
  SHADOW_LIFECYCLE_EVENT_TYPES,
  type ShadowLifecycleEvent,
  type ShadowPushResult,
  type ShadowStatusPush,
} from "./lifecycle-shadow-push-handler.ts";
export {
  ProvisionedShadowPushHandler,
  type ProvisionedShadowPushHandlerDependencies,
  REPORTED_DEVICE_STATUS,
} from "./provisioned-shadow-push-handler.ts";
export {
  AWS_SHADOW_HANDLERS,
  type AwsShadow,
  type AwsShadowBackgroundService,
  type AwsShadowDependencies,
  registerAwsShadow,
} from "./register-aws-shadow.ts";
export {
  RECONCILE_EVERY_INTERVALS,
  ShadowDeltaPoller,
  type ShadowDeltaPollerDependencies,
  type ShadowDeltaPollerOptions,
  type ShadowSweepResult,
} from "./shadow-delta-poller.ts";
export {
  desiredTimestampsOf,
  parseShadowDeltaMessage,
  parseShadowDocument,
  type ShadowDeltaMessage,
  type ShadowDocument,
} from "./shadow-document.ts";
export {
  AWS_SHADOW_METER_NAME,
  ShadowMetrics,
  type ShadowPollOutcome,
  type ShadowPushSkipReason,
} from "./shadow-metrics.ts";
export {
  AWS_SHADOW_REQUESTS_PER_THING_PER_SECOND,
  AWS_SHADOW_SECTION,
  type AwsShadowOptions,
  awsShadowOptionsSchema,
  defaultAwsShadowOptions,
  parseAwsShadowOptions,
} from "./shadow-options.ts";
export {
  isShadowNotFound,
  isVersionConflict,
  type ShadowCallContext,
  type ShadowStateUpdate,
  ThingShadowClient,
} from "./thing-shadow-client.ts";
