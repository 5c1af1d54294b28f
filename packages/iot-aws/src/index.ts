/**
 * @granit/iot-aws — the AWS bridge core: the `AwsThingBinding` companion of `Device` and its
 * provisioning state machine, the `ThingName` value object and ARN parsers, the binding store port,
 * the credential provider (IAM-role / rotating) with its readiness gate, the AWS call discipline
 * (rate limits, retries, metrics) and the options helper every bridge package reuses.
 * Imports no `@aws-sdk/*` and no database driver: SDK clients are typed structurally.
 */

export {
  AWS_CALLS_SECTION,
  type AwsCallOptions,
  awsCallOptionsSchema,
  defaultAwsCallOptions,
  parseAwsCallOptions,
} from "./calls/aws-call-options.ts";
export {
  type AwsCallContext,
  AwsCallPolicy,
  type AwsCallPolicyDependencies,
  type AwsClientLike,
  type AwsCommandOutput,
  AwsServiceCaller,
  operationName,
} from "./calls/aws-call-policy.ts";
export { type AwsErrorKind, awsErrorName, classifyAwsError } from "./calls/aws-error-classification.ts";
export {
  AWS_DEFAULT_RATE_LIMITS,
  DEFAULT_UNLISTED_TOKENS_PER_SECOND,
  type RateLimit,
} from "./calls/aws-rate-limits.ts";
export {
  AWS_IOT_CREDENTIALS_SECTION,
  type AwsIoTCredentialOptions,
  awsIoTCredentialOptionsSchema,
  parseAwsIoTCredentialOptions,
} from "./credentials/aws-iot-credential-options.ts";
export {
  AWS_CREDENTIALS_GATE,
  type AwsCredentialIdentity,
  type AwsCredentialIdentityProvider,
  type AwsIoTCredentialLoader,
  type AwsIoTCredentialMode,
  type AwsIoTCredentialProvider,
  type AwsIoTCredentialProviderDependencies,
  type AwsIoTCredentialStatus,
  createAwsIoTCredentialProvider,
  type LoadedAwsIoTCredentials,
} from "./credentials/aws-iot-credential-provider.ts";
export {
  AWS_PARTITIONS,
  type CertificateArn,
  isArn,
  type ParsedArn,
  parseCertificateArn,
  parseSecretArn,
  parseThingArn,
  type SecretArn,
  type ThingArn,
} from "./domain/arn.ts";
export {
  AwsThingBinding,
  type AwsThingBindingSnapshot,
  type CreateAwsThingBindingInput,
  type CreateJitpAwsThingBindingInput,
  FAILURE_REASON_MAX_LENGTH,
} from "./domain/aws-thing-binding.ts";
export {
  CLAIM_CERTIFICATE_DESCRIPTION_MAX_LENGTH,
  CLAIM_CERTIFICATE_STATUSES,
  type ClaimCertificate,
  ClaimCertificateStatus,
  isClaimCertificateStatus,
  type NewClaimCertificateInput,
  newClaimCertificate,
  PROVISIONING_TEMPLATE_NAME,
  parseCertificateId,
} from "./domain/claim-certificate.ts";
export {
  FLEET_CREDENTIAL_STATUSES,
  type FleetCredential,
  FleetCredentialStatus,
} from "./domain/fleet-credential.ts";
export {
  FAILABLE_STATUSES,
  IN_FLIGHT_STATUSES,
  isActive,
  isAtLeast,
  isOnChain,
  isProvisioningStatus,
  isTerminal,
  JOB_DISPATCH_STATES,
  PROVISIONING_CHAIN,
  PROVISIONING_STATUSES,
  PROVISIONING_STEPS,
  type ProvisioningCheckpoint,
  ProvisioningStatus,
  type ProvisioningStep,
  SHADOW_SYNC_STATES,
  statusesAtLeast,
  TERMINAL_STATUSES,
} from "./domain/provisioning-status.ts";
export {
  HOST_TENANT_HEX,
  THING_NAME_MAX_LENGTH,
  THING_NAME_SERIAL_MAX_LENGTH,
  ThingName,
} from "./domain/thing-name.ts";
export {
  CLOSED_TRACKED_JOB_STATUSES,
  COMMAND_TARGET_KINDS,
  CommandTargetKind,
  canTransitionTrackedJob,
  isTrackedJobStatus,
  type NewTrackedJob,
  OPEN_TRACKED_JOB_STATUSES,
  TRACKED_JOB_STATUSES,
  TRACKED_JOB_TRANSITIONS,
  type TrackedJob,
  TrackedJobStatus,
} from "./domain/tracked-job.ts";
export {
  type ArnKind,
  AwsCallRetriesExhaustedError,
  AwsCredentialsNotReadyError,
  BindingCheckpointConflictError,
  GranitIoTAwsError,
  InvalidArnError,
  InvalidThingNameError,
  type ThingNameRule,
} from "./errors.ts";
export {
  AWS_THING_EVENT_TYPES,
  type AwsThingDecommissionedEvent,
  type AwsThingEvent,
  type AwsThingProvisionedEvent,
} from "./events/aws-thing-events.ts";
export type { ClaimCertificateExpiringEvent } from "./events/claim-certificate-expiring-event.ts";
export {
  canonicalJson,
  type DeviceDesiredStateChangedEvent,
  desiredStateFingerprint,
  type JsonObject,
  type JsonValue,
} from "./events/device-desired-state-changed-event.ts";
export { IOT_AWS_METER_NAME, iotAwsMeter } from "./metrics.ts";
export {
  booleanOption,
  type CamelCasedOptions,
  defineOptionsSection,
  integerOption,
  optionalStringOption,
  parseOptionsSection,
  stringOption,
} from "./options/parse-options-section.ts";
export type { AwsThingBindingStore, PageBindingsByStatusQuery } from "./ports/aws-thing-binding-store.ts";
export type { BindingLock, BindingLockResult } from "./ports/binding-lock.ts";
export type {
  ClaimCertificateExpiryStore,
  ClaimExpiryNotice,
  JitpClaimExpiry,
  PageExpiringQuery,
} from "./ports/claim-certificate-expiry-store.ts";
export type { ClaimCertificateStore, PageClaimCertificatesQuery } from "./ports/claim-certificate-store.ts";
export type { FleetCredentialStore, PageFleetCredentialsQuery } from "./ports/fleet-credential-store.ts";
export type { FleetRequestNonce, FleetRequestNonceStore } from "./ports/fleet-request-nonce-store.ts";
export type {
  BeginTrackingResult,
  ClaimDueJobsQuery,
  JobTrackingStore,
  PageJobsByDeviceQuery,
  TrackedJobClosure,
} from "./ports/job-tracking-store.ts";
export type {
  ClaimDueShadowSyncQuery,
  ShadowPollFailure,
  ShadowSyncClaim,
  ShadowSyncEntry,
  ShadowSyncStateStore,
  TrackShadowSyncInput,
} from "./ports/shadow-sync-state-store.ts";
export { ManualScheduler, type Scheduler, systemScheduler, type TimerHandle } from "./scheduler.ts";
