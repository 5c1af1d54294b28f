/**
 * `addGranitBundleIoTAws(host, { aws })` — the seed's `AddGranitBundleIoTAws`: one call that wires the
 * six AWS bridge packages into a host, each exactly as it would be wired alone:
 *
 * 1. the credential provider (`IoT:Aws:Credentials`: IAM-role, or rotating with the Secrets Manager
 *    loader), registered as the `aws-credentials` readiness gate and started first;
 * 2. ONE `AwsCallPolicy` (`IoT:Aws:Calls`) shared by every package — quotas are per account;
 * 3. the SDK clients (built with `maxAttempts: 1`, data planes on the account's endpoints) or yours;
 * 4. the `iotaws_*` migrations and the PostgreSQL stores of `@granit/iot-aws-postgres`;
 * 5. `registerAwsProvisioning`, `registerAwsShadow`, `registerAwsJobs`, `createFleetProvisioning`
 *    with their bus handlers, and their background services (delta poller, job status poller, claim
 *    certificate rotation check, nonce purger);
 * 6. the fleet-provisioning endpoints (`fleetProvisioningPlugin`) at `/api/iot/fleet-provisioning`.
 *
 * It returns the handles a host mounts its routes with (`provisioning`, `shadow.shadows`,
 * `jobs.commands`, `fleet.claimCertificates` / `fleet.fleetKeys`, `devicePolicy`). Call it after the
 * host is created and before it starts (bus subscriptions must precede `bus.start()`).
 */
import { DescribeEndpointCommand } from "@aws-sdk/client-iot";
import { GetCallerIdentityCommand } from "@aws-sdk/client-sts";
import type { SubscribeOptions } from "@granit/iot";
import {
  AwsCallPolicy,
  type AwsClientLike,
  type AwsIoTCredentialProvider,
  createAwsIoTCredentialProvider,
} from "@granit/iot-aws";
import {
  createFleetProvisioning,
  FLEET_PROVISIONING_PREFIX,
  type FleetProvisioning,
  fleetProvisioningPlugin,
  type SerialPolicy,
} from "@granit/iot-aws-fleet-provisioning";
import { type AwsJobs, registerAwsJobs } from "@granit/iot-aws-jobs";
import {
  IOTAWS_MIGRATIONS,
  PostgresAwsThingBindingStore,
  PostgresBindingLock,
  PostgresJobTrackingStore,
  PostgresShadowSyncStateStore,
  postgresFleetProvisioningStores,
} from "@granit/iot-aws-postgres";
import {
  type AwsProvisioning,
  type DevicePolicyScope,
  devicePolicyDocument,
  ensureDevicePolicy,
  registerAwsProvisioning,
  SecretsManagerCredentialLoader,
} from "@granit/iot-aws-provisioning";
import { type AwsShadow, registerAwsShadow } from "@granit/iot-aws-shadow";
import { type AwsConnection, bringsOwnClients } from "./aws-connection.ts";
import type { DevicePolicyHandle } from "./device-policy-handle.ts";
import { AwsAccountUnknownError } from "./errors.ts";
import { buildAwsClients, type DataPlaneEndpointType } from "./internal/aws-clients.ts";
import type { IoTAwsBundleHost } from "./iot-aws-bundle-host.ts";
import { type IoTAwsOptions, readIoTAwsOptions } from "./iot-aws-options.ts";

/** Options of `addGranitBundleIoTAws`. */
export interface GranitBundleIoTAwsOptions {
  /** Where the AWS calls go: a region (the bundle builds the clients) or your own clients. */
  readonly aws: AwsConnection;
  /**
   * Parsed options per package; each one given replaces the host's `IoT:Aws:*` section.
   * @default the host's configuration sections (`host.config.sections`), else every default
   */
  readonly options?: Partial<IoTAwsOptions> | undefined;
  /**
   * Create `DevicePolicyName` from `devicePolicyDocument` when it does not exist (never changes an
   * existing one) — for development and the emulator; production creates it with IaC or
   * `POST /api/iot/aws/policy/ensure`. Done before the host starts when the credentials are ready
   * (IAM-role mode), else as soon as they are. @default false
   */
  readonly ensureDevicePolicy?: boolean | undefined;
  /**
   * Fleet provisioning by claim: `false` leaves it out (then no `MasterKey` is needed), or its
   * serial policy and where to mount `/verify` and `/registered`.
   * @default { prefix: "/api/iot/fleet-provisioning" } (needs `IoT:Aws:FleetProvisioning:MasterKey`)
   */
  readonly fleetProvisioning?:
    | false
    | { readonly serialPolicy?: SerialPolicy | undefined; readonly prefix?: string | undefined }
    | undefined;
  /** Delivery policy of the provisioning saga and decommission handlers. @default PROVISIONING_SUBSCRIBE_DEFAULTS */
  readonly provisioningSubscribe?: SubscribeOptions | undefined;
}

/** The SDK clients the bridge uses (built by the bundle, or yours). */
export interface IoTAwsClients {
  readonly iot: AwsClientLike;
  readonly iotData: AwsClientLike;
  /** The IoT Jobs data plane (what devices call); `undefined` when you brought clients without it. */
  readonly iotJobsData: AwsClientLike | undefined;
  readonly secrets: AwsClientLike;
}

/** What `addGranitBundleIoTAws` wired, for the host to mount its routes and report on. */
export interface GranitIoTAwsBundle {
  readonly options: IoTAwsOptions;
  readonly credentials: AwsIoTCredentialProvider;
  readonly callPolicy: AwsCallPolicy;
  readonly clients: IoTAwsClients;
  /** `registerAwsProvisioning`'s saga, decommission, retry and reconcile. */
  readonly provisioning: AwsProvisioning;
  /** `registerAwsShadow`'s push, delta source and `shadows` service. */
  readonly shadow: AwsShadow;
  /** `registerAwsJobs`'s dispatcher, status poller and `commands` service. */
  readonly jobs: AwsJobs;
  /** `createFleetProvisioning`'s services; `null` when left out. */
  readonly fleet: FleetProvisioning | null;
  readonly devicePolicy: DevicePolicyHandle;
  /** The region, and the account id once known (given, or read with STS). */
  readonly account: { readonly region: string; readonly accountId: string | null };
  /** Closes the SDK clients the bundle built (after the host stopped); yours stay open. */
  destroy(): void;
}

const ACCOUNT_ID = /^\d{12}$/;

/** Wires the six AWS bridge packages into `host` (before `host.start()`). */
export async function addGranitBundleIoTAws(
  host: IoTAwsBundleHost,
  bundleOptions: GranitBundleIoTAwsOptions,
): Promise<GranitIoTAwsBundle> {
  const options = readIoTAwsOptions(host.config?.sections, bundleOptions.options);
  const logger = host.logger.child({ package: "@granit/bundle-iot-aws" });
  const connection = bundleOptions.aws;
  const clock = host.clock;

  // 1–3. Credentials, the one call policy, the clients.
  let provider: AwsIoTCredentialProvider | undefined;
  let callPolicy: AwsCallPolicy | undefined;
  const rotating = options.credentials.fleetCredentialSecretArn !== null;
  const describeEndpoint = async (type: DataPlaneEndpointType): Promise<string> => {
    if (!callPolicy) throw new Error("DescribeEndpoint before the call policy exists");
    const out = await callPolicy
      .forClient(clients.iot, "iot")
      .call(new DescribeEndpointCommand({ endpointType: type }));
    if (!out.endpointAddress) throw new Error(`DescribeEndpoint(${type}) answered no endpointAddress`);
    logger.info({ endpointType: type, endpoint: out.endpointAddress }, "AWS IoT data-plane endpoint");
    return out.endpointAddress;
  };
  const built = bringsOwnClients(connection)
    ? null
    : buildAwsClients(connection, {
        rotating: rotating
          ? () => {
              const keys = provider?.sdkCredentials();
              if (!keys) throw new Error("the rotating credential provider has no keys yet");
              return keys();
            }
          : undefined,
        describeEndpoint,
      });
  const own = bringsOwnClients(connection) ? connection.clients : null;
  const clients = {
    iot: (own?.iot ?? built?.iot) as AwsClientLike,
    iotData: (own?.iotData ?? built?.iotData) as AwsClientLike,
    iotJobsData: (own ? own.iotJobsData : built?.iotJobsData) as AwsClientLike | undefined,
    secrets: (own?.secrets ?? built?.secrets) as AwsClientLike,
  };
  const bootstrapSecrets = (
    own ? (own.bootstrapSecrets ?? own.secrets) : built?.bootstrapSecrets
  ) as AwsClientLike;
  const sts = (own ? own.sts : built?.sts) as AwsClientLike | undefined;

  provider = createAwsIoTCredentialProvider(options.credentials, {
    loader: rotating
      ? new SecretsManagerCredentialLoader({
          secrets: bootstrapSecrets,
          secretArn: options.credentials.fleetCredentialSecretArn,
        })
      : undefined,
    logger,
  });
  const credentials = provider;
  callPolicy = new AwsCallPolicy(options.calls, { credentials, logger });
  const policy = callPolicy;
  host.readiness.register(credentials);
  host.addBackgroundService({
    name: "granit.iot.aws.credentials",
    start: () => credentials.start(),
    stop: () => credentials.stop(),
  });

  // 4. Persistence.
  host.addMigration(IOTAWS_MIGRATIONS);
  const { database, bus } = host;
  const bindings = new PostgresAwsThingBindingStore(database, bus);

  // 5. The four feature packages.
  const provisioning = registerAwsProvisioning({
    bus,
    deviceStore: host.deviceStore,
    bindingStore: bindings,
    bindingLock: new PostgresBindingLock(database),
    unitOfWork: database,
    iot: clients.iot,
    secrets: clients.secrets,
    callPolicy: policy,
    options: options.provisioning,
    clock,
    logger,
    subscribe: bundleOptions.provisioningSubscribe,
  });
  const shadow = registerAwsShadow({
    bus,
    bindings,
    devices: host.deviceStore,
    syncState: new PostgresShadowSyncStateStore(database),
    unitOfWork: database,
    dataClient: clients.iotData as AwsShadowDataClient,
    callPolicy: policy,
    options: options.shadow,
    clock,
    logger,
  });
  const jobs = registerAwsJobs({
    bus,
    bindingStore: bindings,
    trackingStore: new PostgresJobTrackingStore(database, bus),
    iot: clients.iot,
    callPolicy: policy,
    credentials,
    options: options.jobs,
    clock,
    logger,
  });
  const fleetSettings = bundleOptions.fleetProvisioning ?? {};
  const fleet =
    fleetSettings === false
      ? null
      : await createFleetProvisioning({
          options: options.fleetProvisioning,
          unitOfWork: database,
          devices: host.deviceStore,
          bindings,
          stores: postgresFleetProvisioningStores(database, bus),
          ...(fleetSettings.serialPolicy ? { serialPolicy: fleetSettings.serialPolicy } : {}),
          clock,
          logger,
        });
  for (const service of shadow.backgroundServices) host.addBackgroundService(service);
  host.addBackgroundService(jobs.poller);
  for (const service of fleet?.backgroundServices ?? []) host.addBackgroundService(service);

  // 6. The fleet endpoints.
  if (fleet && fleetSettings !== false) {
    await host.app.register(fleetProvisioningPlugin, {
      prefix: fleetSettings.prefix ?? FLEET_PROVISIONING_PREFIX,
      ...fleet.pluginOptions,
    });
  }

  // The account (device policy ARNs): given, or STS GetCallerIdentity once the credentials are ready.
  const region = connection.region;
  let accountId: string | null = connection.accountId ?? null;
  let accountLookup: Promise<string> | undefined;
  const resolveAccount = async (): Promise<string> => {
    if (accountId) return accountId;
    if (!sts) throw new AwsAccountUnknownError("no aws.accountId and no STS client");
    accountLookup ??= policy
      .forClient(sts, "sts")
      .call(new GetCallerIdentityCommand({}))
      .then(
        (out) => {
          if (!out.Account || !ACCOUNT_ID.test(out.Account)) {
            throw new AwsAccountUnknownError("STS GetCallerIdentity answered no account");
          }
          accountId = out.Account;
          return out.Account;
        },
        (error: unknown) => {
          accountLookup = undefined;
          throw error instanceof AwsAccountUnknownError
            ? error
            : new AwsAccountUnknownError(`STS GetCallerIdentity failed: ${(error as Error).message}`, {
                cause: error,
              });
        },
      );
    return accountLookup;
  };
  const scope = (id: string): DevicePolicyScope => ({
    region,
    accountId: id,
    partition: partitionOf(region),
  });
  const policyName = options.provisioning.devicePolicyName;
  const devicePolicy: DevicePolicyHandle = {
    policyName,
    document() {
      if (!accountId) {
        void resolveAccount().catch(() => {});
        throw new AwsAccountUnknownError("not read yet: the credentials may not be ready");
      }
      return devicePolicyDocument(scope(accountId));
    },
    async ensure(context = {}) {
      const id = await resolveAccount();
      return ensureDevicePolicy(
        { iot: clients.iot, callPolicy: policy },
        policyName,
        devicePolicyDocument(scope(id)),
        context,
      );
    },
  };
  const ensurePolicy = async () => {
    const result = await devicePolicy.ensure();
    if (result.created) logger.info({ policyName }, "created the device policy");
    else if (!result.matches) {
      logger.warn(
        { policyName },
        "the device policy exists but differs from devicePolicyDocument; it was left unchanged",
      );
    }
  };
  if (bundleOptions.ensureDevicePolicy && credentials.isReady()) {
    await ensurePolicy();
  } else {
    host.addBackgroundService({
      name: "granit.iot.aws.account",
      start: async () => {
        try {
          await resolveAccount();
          if (bundleOptions.ensureDevicePolicy) await ensurePolicy();
        } catch (error) {
          logger.warn({ err: (error as Error).message }, "AWS account id or device policy not ready yet");
        }
      },
      stop: () => {},
    });
  }

  return {
    options,
    credentials,
    callPolicy: policy,
    clients,
    provisioning,
    shadow,
    jobs,
    fleet,
    devicePolicy,
    get account() {
      return { region, accountId };
    },
    destroy() {
      built?.destroy();
    },
  };
}

type AwsShadowDataClient = Parameters<typeof registerAwsShadow>[0]["dataClient"];

/** The ARN partition of a region (`aws`, `aws-cn`, `aws-us-gov`). */
function partitionOf(region: string): string {
  if (region.startsWith("cn-")) return "aws-cn";
  if (region.startsWith("us-gov-")) return "aws-us-gov";
  return "aws";
}
