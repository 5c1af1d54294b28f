/**
 * @granit/iot-aws-jobs — device commands as AWS IoT Jobs: the `DeviceCommandDispatcher` of
 * `@granit/iot` backed by `CreateJob` (idempotent on the correlation id, crash-safe through the
 * durable tracking store), the shadow delta → job handler, the status poller that publishes
 * `DeviceCommandCompletedEvent` / `DeviceCommandFailedEvent` exactly once, and the commands service
 * behind the host API. The simulated jobs device is in `@granit/iot-aws-jobs/testing`.
 */
export {
  AwsIoTJobsCommandDispatcher,
  type AwsIoTJobsCommandDispatcherDependencies,
  type AwsJobsTestHooks,
  DISPATCH_RECOVERY_DELAY_MS,
  type DispatchOptions,
  type ResumeResult,
  type TrackedDispatch,
} from "./aws-iot-jobs-command-dispatcher.ts";
export { AWS_JOBS_METER_NAME, AwsJobsMetrics } from "./aws-jobs-metrics.ts";
export {
  AWS_JOBS_SECTION,
  type AwsJobsOptions,
  awsJobsOptionsSchema,
  defaultAwsJobsOptions,
  JOB_ID_PREFIX_MAX_LENGTH,
  parseAwsJobsOptions,
} from "./aws-jobs-options.ts";
export {
  desiredStateCorrelationId,
  deterministicUuid,
  idempotentCommandCorrelationId,
} from "./correlation-ids.ts";
export {
  APPLY_DESIRED_STATE_OPERATION,
  createDesiredStateCommandHandler,
  DESIRED_STATE_HANDLER,
  type DesiredStateCommandHandlerDependencies,
} from "./desired-state-command-handler.ts";
export {
  DEVICE_COMMAND_EVENT_TYPES,
  type DeviceCommandCompletedEvent,
  type DeviceCommandEventBase,
  type DeviceCommandFailedEvent,
  type DeviceCommandOutcomeEvent,
} from "./device-command-events.ts";
export {
  DeviceCommandService,
  type DeviceCommandServiceDependencies,
  type SendDeviceCommandInput,
  type SentDeviceCommand,
} from "./device-command-service.ts";
export {
  CommandCorrelationConflictError,
  DynamicThingGroupConflictError,
  GranitIoTAwsJobsError,
  JobDispatchRejectedError,
  JobIdConflictError,
} from "./errors.ts";
export {
  JOB_STATUS_POLLER_NAME,
  JobStatusPoller,
  type JobStatusPollerDependencies,
  type PollRoundSummary,
} from "./job-status-poller.ts";
export { type AwsJobs, type AwsJobsDependencies, registerAwsJobs } from "./register-aws-jobs.ts";
