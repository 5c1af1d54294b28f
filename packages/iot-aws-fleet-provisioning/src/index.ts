/**
 * @granit/iot-aws-fleet-provisioning — fleet provisioning by claim for the AWS IoT Core bridge:
 * the signed `/verify` and `/registered` endpoints (a Fastify plugin over a framework-free service),
 * the claim-certificate registry and its rotation check, per-tenant fleet keys (HMAC-SHA256, secrets
 * encrypted at rest), and — in `@granit/iot-aws-fleet-provisioning/lambda` — the pre-provisioning
 * hook and registration forwarder Lambda handlers.
 */
export { ClaimCertificateRegistry } from "./claim-certificate-registry.ts";
export {
  type ClaimCertificateRotationCheckDependencies,
  type ClaimCertificateRotationCheckOptions,
  ClaimCertificateRotationCheckService,
  ROTATION_CHECK_SWEEP,
  type RotationCheckReport,
} from "./claim-certificate-rotation-check-service.ts";
export {
  type CreateFleetProvisioningInput,
  createFleetProvisioning,
  type FleetProvisioning,
  type FleetProvisioningStores,
} from "./create-fleet-provisioning.ts";
export { DENY_REASON_TEXT, DENY_REASONS, DenyReason } from "./deny-reason.ts";
export {
  FleetAuthenticationError,
  FleetAuthFailure,
  FleetKeyCipherError,
  FleetRegistrationConflictError,
  FleetRegistrationDeniedError,
  FleetTenantMismatchError,
  GranitFleetProvisioningError,
  type RegistrationConflict,
  ThingNameMismatchError,
  type ThingNameMismatchRule,
} from "./errors.ts";
export {
  FLEET_KEY_DESCRIPTION_MAX_LENGTH,
  FleetKeyAdmin,
  type FleetKeyAdminOptions,
  type FleetKeyView,
  type IssuedFleetKey,
} from "./fleet-key-admin.ts";
export { FleetKeyCipher } from "./fleet-key-cipher.ts";
export {
  MAX_TEMPLATE_PARAMETERS,
  parseRegisterRequest,
  parseVerifyRequest,
  type RegisterRequest,
  type RegisterResult,
  registerRequestSchema,
  type VerifyAllowed,
  type VerifyDenied,
  type VerifyRequest,
  type VerifyResult,
  verifyRequestSchema,
} from "./fleet-provisioning-contracts.ts";
export { FLEET_PROVISIONING_METER_NAME, FleetProvisioningMetrics } from "./fleet-provisioning-metrics.ts";
export {
  decodeMasterKey,
  FLEET_PROVISIONING_DEFAULTS,
  FLEET_PROVISIONING_SECTION,
  type FleetProvisioningOptions,
  fleetProvisioningOptionsSchema,
  parseFleetProvisioningOptions,
} from "./fleet-provisioning-options.ts";
export {
  FLEET_PROVISIONING_PREFIX,
  type FleetProvisioningPluginOptions,
  fleetProvisioningPlugin,
} from "./fleet-provisioning-plugin.ts";
export {
  CLAIM_CERTIFICATE_ID_PARAMETER,
  FleetProvisioningService,
  type FleetProvisioningServiceDependencies,
  type FleetRequestContext,
  THING_NAME_PARAMETER,
} from "./fleet-provisioning-service.ts";
export {
  type AuthenticatedFleetRequest,
  type FleetCaller,
  FleetRequestAuthenticator,
  type FleetRequestAuthenticatorOptions,
  type PendingFleetRequest,
} from "./fleet-request-authenticator.ts";
export { FleetRequestNoncePurger } from "./fleet-request-nonce-purger.ts";
export {
  computeFleetSignature,
  FLEET_KEY_ID_PATTERN,
  FLEET_SIGNATURE_ALGORITHM,
  type FleetAuthorization,
  type FleetSignatureInput,
  fleetAuthorizationHeader,
  fleetStringToSign,
  parseFleetAuthorization,
  parseFleetTimestamp,
  sha256Hex,
} from "./fleet-request-signature.ts";
export { SerialDenyList, type SerialDenyListOptions } from "./serial-deny-list.ts";
export {
  allowAllSerialPolicy,
  type SerialPolicy,
  type SerialPolicyContext,
  type SerialPolicyVerdict,
} from "./serial-policy.ts";
