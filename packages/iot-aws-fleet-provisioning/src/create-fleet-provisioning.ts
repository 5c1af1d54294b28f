/**
 * The one wiring function a host (or the bundle) calls: from the parsed options and the stores it
 * builds the service, the authenticator, the admin services, the background services and the
 * plugin options.
 *
 * ```ts
 * const fleet = await createFleetProvisioning({
 *   options: parseFleetProvisioningOptions(config.IoT?.Aws?.FleetProvisioning),
 *   unitOfWork: database, devices: host.deviceStore, bindings,
 *   stores: postgresFleetProvisioningStores(database, host.bus), // @granit/iot-aws-postgres
 *   clock: host.clock, logger: host.logger,
 * });
 * await host.app.register(fleetProvisioningPlugin, { prefix: FLEET_PROVISIONING_PREFIX, ...fleet.pluginOptions });
 * for (const service of fleet.backgroundServices) host.addBackgroundService(service);
 * ```
 */
import {
  type Clock,
  type DeviceStore,
  type Logger,
  OptionsValidationError,
  systemClock,
  type UnitOfWork,
} from "@granit/iot";
import type {
  AwsThingBindingStore,
  ClaimCertificateExpiryStore,
  ClaimCertificateStore,
  FleetCredentialStore,
  FleetRequestNonceStore,
  Scheduler,
} from "@granit/iot-aws";
import type { Meter } from "@opentelemetry/api";
import { ClaimCertificateRegistry } from "./claim-certificate-registry.ts";
import { ClaimCertificateRotationCheckService } from "./claim-certificate-rotation-check-service.ts";
import { FleetKeyAdmin } from "./fleet-key-admin.ts";
import { FleetKeyCipher } from "./fleet-key-cipher.ts";
import { FleetProvisioningMetrics } from "./fleet-provisioning-metrics.ts";
import { FLEET_PROVISIONING_SECTION, type FleetProvisioningOptions } from "./fleet-provisioning-options.ts";
import type { FleetProvisioningPluginOptions } from "./fleet-provisioning-plugin.ts";
import { FleetProvisioningService } from "./fleet-provisioning-service.ts";
import { FleetRequestAuthenticator } from "./fleet-request-authenticator.ts";
import { FleetRequestNoncePurger } from "./fleet-request-nonce-purger.ts";
import { SerialDenyList } from "./serial-deny-list.ts";
import type { SerialPolicy } from "./serial-policy.ts";

/** The persistence this package needs (`postgresFleetProvisioningStores` of `@granit/iot-aws-postgres`). */
export interface FleetProvisioningStores {
  readonly claimCertificates: ClaimCertificateStore;
  readonly fleetCredentials: FleetCredentialStore;
  readonly nonces: FleetRequestNonceStore;
  readonly claimExpiry: ClaimCertificateExpiryStore;
}

export interface CreateFleetProvisioningInput {
  readonly options: FleetProvisioningOptions;
  /** One transaction for `/registered` (the `Database`). */
  readonly unitOfWork: UnitOfWork;
  readonly devices: DeviceStore;
  readonly bindings: AwsThingBindingStore;
  readonly stores: FleetProvisioningStores;
  /** @default allowAllSerialPolicy */
  readonly serialPolicy?: SerialPolicy;
  /** @default systemClock */
  readonly clock?: Clock;
  /** Timers of the background services. @default systemScheduler */
  readonly scheduler?: Scheduler;
  readonly logger?: Logger;
  /** @default the global provider's `granit.iot.aws.fleet_provisioning` meter */
  readonly meter?: Meter;
}

/** Everything the host mounts and starts. */
export interface FleetProvisioning {
  readonly service: FleetProvisioningService;
  readonly authenticator: FleetRequestAuthenticator;
  /** `{ service, auth, bodyLimit }` for `fleetProvisioningPlugin`. */
  readonly pluginOptions: FleetProvisioningPluginOptions;
  readonly fleetKeys: FleetKeyAdmin;
  readonly claimCertificates: ClaimCertificateRegistry;
  readonly rotationCheck: ClaimCertificateRotationCheckService;
  readonly noncePurger: FleetRequestNoncePurger;
  /** `[rotationCheck, noncePurger]`, for `host.addBackgroundService`. */
  readonly backgroundServices: readonly { name: string; start(): void; stop(): Promise<void> }[];
  readonly denyList: SerialDenyList;
  readonly metrics: FleetProvisioningMetrics;
}

/**
 * Builds the fleet-provisioning feature. Throws `OptionsValidationError` when `MasterKey` is not
 * configured, and when `DeniedSerialNumbersFile` cannot be read.
 */
export async function createFleetProvisioning(
  input: CreateFleetProvisioningInput,
): Promise<FleetProvisioning> {
  const { options, stores } = input;
  if (!options.masterKey) {
    throw new OptionsValidationError(
      `${FLEET_PROVISIONING_SECTION}:MasterKey`,
      "is required to encrypt and verify fleet keys: 32 random bytes as base64 (`openssl rand -base64 32`), passed as a secret (env IoT__Aws__FleetProvisioning__MasterKey)",
    );
  }
  const clock = input.clock ?? systemClock;
  const metrics = new FleetProvisioningMetrics(input.meter);
  const cipher = new FleetKeyCipher(options.masterKey, options.previousMasterKeys);
  let denyList: SerialDenyList;
  try {
    denyList = await SerialDenyList.load({
      serials: options.deniedSerialNumbers,
      file: options.deniedSerialNumbersFile,
      logger: input.logger,
    });
  } catch (error) {
    throw new OptionsValidationError(
      `${FLEET_PROVISIONING_SECTION}:DeniedSerialNumbersFile`,
      (error as Error).message,
      {
        cause: error,
      },
    );
  }
  const authenticator = new FleetRequestAuthenticator({
    credentials: stores.fleetCredentials,
    cipher,
    clock,
    toleranceSeconds: options.signatureToleranceSeconds,
    cacheSeconds: options.credentialCacheSeconds,
    metrics,
    logger: input.logger,
  });
  const service = new FleetProvisioningService({
    unitOfWork: input.unitOfWork,
    devices: input.devices,
    bindings: input.bindings,
    claimCertificates: stores.claimCertificates,
    nonces: stores.nonces,
    denyList,
    serialPolicy: input.serialPolicy,
    clock,
    metrics,
    logger: input.logger,
    claimCertificateCacheMs: options.credentialCacheSeconds * 1000,
  });
  const rotationCheck = new ClaimCertificateRotationCheckService({
    store: stores.claimExpiry,
    options,
    clock,
    scheduler: input.scheduler,
    metrics,
    logger: input.logger,
  });
  const noncePurger = new FleetRequestNoncePurger({
    nonces: stores.nonces,
    clock,
    scheduler: input.scheduler,
    logger: input.logger,
  });
  return {
    service,
    authenticator,
    pluginOptions: { service, auth: authenticator, bodyLimit: options.bodyLimitBytes },
    fleetKeys: new FleetKeyAdmin({
      credentials: stores.fleetCredentials,
      cipher,
      clock,
      onRevoked: (keyId) => authenticator.forget(keyId),
    }),
    claimCertificates: new ClaimCertificateRegistry({
      store: stores.claimCertificates,
      clock,
      onChanged: (certificateId) => service.forgetClaimCertificate(certificateId),
    }),
    rotationCheck,
    noncePurger,
    backgroundServices: [rotationCheck, noncePurger],
    denyList,
    metrics,
  };
}
