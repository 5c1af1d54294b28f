/**
 * @granit/iot-aws-provisioning — the heart of the AWS bridge: the crash-proof provisioning saga
 * (thing, locally generated key escrowed in Secrets Manager, certificate from CSR, policy, Active),
 * the decommission, the operator retry, the reconciler, the per-device IoT policy and the Secrets
 * Manager credential loader of the rotating credential mode.
 */
export {
  AwsProvisioning,
  type AwsProvisioningDependencies,
  type AwsThingBindingView,
  type DecommissionOutcome,
  type ProvisioningOutcome,
  toBindingView,
} from "./aws-provisioning.ts";
export {
  CRASH_AT_ENV,
  CRASH_POINTS,
  type CrashPoint,
  type CrashPointName,
  crashPointFromEnv,
  noCrashPoints,
} from "./crash-point.ts";
export {
  DEVICE_CREDENTIALS_SCHEMA,
  type DeviceCredentials,
  type EscrowedDeviceKey,
  isCompleteDeviceCredentials,
  parseDeviceCredentials,
  serializeDeviceCredentials,
} from "./device-credentials.ts";
export {
  type DevicePolicyDocument,
  type DevicePolicyScope,
  type DevicePolicyStatement,
  devicePolicyDocument,
  type EnsureDevicePolicyResult,
  ensureDevicePolicy,
  THING_NAME_VARIABLE,
} from "./device-policy.ts";
export {
  BindingBusyError,
  CertificateRequestOutcomeUnknownError,
  CredentialSecretInvalidError,
  GranitIoTAwsProvisioningError,
  ProvisioningStepFailedError,
  TeardownIncompleteError,
  ThingNameTakenError,
} from "./errors.ts";
export { type AwsThingProvisioningRequestedEvent, PROVISIONING_EVENT_TYPES } from "./events.ts";
export { IOT_AWS_PROVISIONING_METER_NAME, provisioningMeter } from "./metrics.ts";
export {
  AWS_PROVISIONING_SECTION,
  type AwsProvisioningOptions,
  awsProvisioningOptionsSchema,
  DEFAULT_SECRET_NAME_TEMPLATE,
  parseAwsProvisioningOptions,
  secretNameOf,
} from "./options.ts";
export {
  DRIFT_KINDS,
  type DriftItem,
  type DriftKind,
  type ReconcileOptions,
  type ReconcileReport,
  type TenantDriftReport,
} from "./reconcile-report.ts";
export {
  DECOMMISSION_HANDLER,
  PROVISIONING_SAGA_HANDLER,
  PROVISIONING_SUBSCRIBE_DEFAULTS,
  type RegisterAwsProvisioningOptions,
  registerAwsProvisioning,
} from "./register-aws-provisioning.ts";
export {
  SecretsManagerCredentialLoader,
  type SecretsManagerCredentialLoaderOptions,
} from "./secrets-manager-credential-loader.ts";
