/**
 * @granit/iot-aws-postgres — the isolated `iotaws_*` persistence of the AWS bridge on PostgreSQL or
 * PGlite: its own migration history (a host without AWS never gets these tables) and the
 * `AwsThingBinding` store. Later features add their tables as files of `src/schema/`.
 */
export { PostgresBindingLock } from "./binding-lock.ts";
export { MAX_BINDING_PAGE_SIZE, PostgresAwsThingBindingStore } from "./binding-store.ts";
export {
  MAX_EXPIRY_PAGE_SIZE,
  PostgresClaimCertificateExpiryStore,
} from "./claim-certificate-expiry-store.ts";
export { MAX_CLAIM_CERTIFICATE_PAGE_SIZE, PostgresClaimCertificateStore } from "./claim-certificate-store.ts";
export { MAX_FLEET_CREDENTIAL_PAGE_SIZE, PostgresFleetCredentialStore } from "./fleet-credential-store.ts";
export {
  type PostgresFleetProvisioningStores,
  postgresFleetProvisioningStores,
} from "./fleet-provisioning-stores.ts";
export { PostgresFleetRequestNonceStore } from "./fleet-request-nonce-store.ts";
export { MAX_TRACKED_JOB_PAGE_SIZE, PostgresJobTrackingStore } from "./job-tracking-store.ts";
export { IOTAWS_MIGRATIONS, migrateIoTAws } from "./migrations.ts";
export {
  iotawsClaimCertificates,
  iotawsClaimExpiryNotices,
  iotawsFleetCredentials,
  iotawsFleetRequestNonces,
  iotawsFleetSweeps,
} from "./schema/fleet-provisioning.ts";
export { iotawsShadowSync } from "./schema/shadow-sync.ts";
export { iotawsThingBindings } from "./schema/thing-bindings.ts";
export { iotawsTrackedJobs } from "./schema/tracked-jobs.ts";
export { MAX_SHADOW_SYNC_CLAIM, PostgresShadowSyncStateStore } from "./shadow-sync-state-store.ts";
