/**
 * The provisioning stack of one "host" over a database and an AWS endpoint (the emulator or moto):
 * device and binding stores, the binding lock, the bus, the real SDK clients (maxAttempts 1) under
 * an `AwsCallPolicy` with fast retries, and `AwsProvisioning`. Used in-process by the tests and by
 * the child processes of the crash and chaos tests.
 */
import { IoTClient } from "@aws-sdk/client-iot";
import { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { Device, type Logger, type ReadinessGate, silentLogger } from "@granit/iot";
import {
  AWS_DEFAULT_RATE_LIMITS,
  AwsCallPolicy,
  type AwsThingBindingStore,
  type RateLimit,
} from "@granit/iot-aws";
import { PostgresAwsThingBindingStore, PostgresBindingLock } from "@granit/iot-aws-postgres";
import {
  AwsProvisioning,
  type AwsProvisioningOptions,
  type CrashPoint,
  parseAwsProvisioningOptions,
  registerAwsProvisioning,
} from "@granit/iot-aws-provisioning";
import {
  type Database,
  PostgresDeviceStore,
  PostgresMessageBus,
  type PostgresMessageBusOptions,
} from "@granit/iot-postgres";
import type { Meter } from "@opentelemetry/api";

export const POLICY_NAME = "granit-device-policy";
export const TENANT_A = "0194a5e0-aaaa-7aaa-8aaa-aaaaaaaaaaaa";
export const TENANT_B = "0194a5e0-bbbb-7bbb-8bbb-bbbbbbbbbbbb";

export interface AwsEndpoint {
  readonly endpoint: string;
  readonly region: string;
  readonly credentials: { readonly accessKeyId: string; readonly secretAccessKey: string };
}

/** Rate limits so high the policy never paces (tests measure behaviour, not quotas). */
export function unthrottledRateLimits(): Record<string, RateLimit> {
  return Object.fromEntries(
    Object.keys(AWS_DEFAULT_RATE_LIMITS).map((key) => [key, { tokensPerSecond: 100_000 }]),
  );
}

export interface StackOptions {
  readonly database: Database;
  readonly aws: AwsEndpoint;
  readonly provisioning?: Record<string, unknown>;
  readonly crashPoint?: CrashPoint;
  readonly logger?: Logger;
  readonly meter?: Meter;
  readonly bus?: PostgresMessageBusOptions;
  /** Subscribe the saga and decommission handlers on the bus (host mode). */
  readonly register?: boolean;
  /** The credential gate of the call policy. */
  readonly credentials?: ReadinessGate;
  /** Call policy overrides. */
  readonly calls?: Partial<ConstructorParameters<typeof AwsCallPolicy>[0]>;
  /** What the saga gets as its binding store (e.g. a wrapper that loses some writes). */
  readonly wrapBindings?: (store: PostgresAwsThingBindingStore) => AwsThingBindingStore;
}

export interface Stack {
  readonly database: Database;
  readonly bus: PostgresMessageBus;
  readonly devices: PostgresDeviceStore;
  readonly bindings: PostgresAwsThingBindingStore;
  readonly iot: IoTClient;
  readonly secrets: SecretsManagerClient;
  readonly policy: AwsCallPolicy;
  readonly options: AwsProvisioningOptions;
  readonly provisioning: AwsProvisioning;
  /** Creates a device (its DeviceProvisionedEvent goes to the bus outbox). */
  addDevice(serialNumber: string, tenantId?: string | null): Promise<Device>;
}

export function buildStack(options: StackOptions): Stack {
  const { database } = options;
  const logger = options.logger ?? silentLogger;
  const bus = new PostgresMessageBus(database, { pollIntervalMs: 50, logger, ...options.bus });
  const devices = new PostgresDeviceStore(database, bus);
  const bindings = new PostgresAwsThingBindingStore(database, bus);
  const clientConfig = { ...options.aws, maxAttempts: 1 };
  const iot = new IoTClient(clientConfig);
  const secrets = new SecretsManagerClient(clientConfig);
  const policy = new AwsCallPolicy(
    {
      maxAttempts: 10,
      baseDelayMilliseconds: 10,
      maxDelayMilliseconds: 200,
      maxElapsedSeconds: 60,
      defaultTokensPerSecond: 100_000,
      rateLimits: unthrottledRateLimits(),
      ...options.calls,
    },
    { logger, credentials: options.credentials },
  );
  const provisioningOptions = parseAwsProvisioningOptions({
    DevicePolicyName: POLICY_NAME,
    TeardownBaseDelayMilliseconds: 20,
    TeardownMaxWaitSeconds: 20,
    ReconcileGraceSeconds: 0,
    ...options.provisioning,
  });
  const deps = {
    deviceStore: devices,
    bindingStore: options.wrapBindings?.(bindings) ?? bindings,
    bindingLock: new PostgresBindingLock(database),
    unitOfWork: database,
    bus,
    iot,
    secrets,
    callPolicy: policy,
    options: provisioningOptions,
    logger,
    meter: options.meter,
    crashPoint: options.crashPoint,
  };
  const provisioning = options.register
    ? registerAwsProvisioning({ ...deps, subscribe: { maxAttempts: 100, backoffMs: 50, maxBackoffMs: 1000 } })
    : new AwsProvisioning(deps);
  return {
    database,
    bus,
    devices,
    bindings,
    iot,
    secrets,
    policy,
    options: provisioningOptions,
    provisioning,
    async addDevice(serialNumber, tenantId = TENANT_A) {
      const device = Device.provision(
        { tenantId, serialNumber, model: "GW-100", firmware: "1.0.0" },
        { at: new Date(), by: "test" },
      );
      await devices.add(device);
      return device;
    },
  };
}
