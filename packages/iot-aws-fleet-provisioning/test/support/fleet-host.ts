/**
 * A real `@granit/iot-host` on port 0 over a test database, with this package's plugin mounted at
 * `/api/iot/fleet-provisioning`, the provisioning saga of `@granit/iot-aws-provisioning` subscribed on
 * the host's bus against the AWS IoT emulator, and a recorder of the device and binding events. The
 * host runs on the wall clock, as the Lambda handlers sign with it.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { IoTClient } from "@aws-sdk/client-iot";
import { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import type { Emulator } from "@granit/aws-iot-emulator";
import type { DomainEvent } from "@granit/iot";
import { AWS_DEFAULT_RATE_LIMITS, AwsCallPolicy } from "@granit/iot-aws";
import {
  createFleetProvisioning,
  FLEET_PROVISIONING_PREFIX,
  type FleetProvisioning,
  fleetProvisioningPlugin,
  type IssuedFleetKey,
  parseFleetProvisioningOptions,
} from "@granit/iot-aws-fleet-provisioning";
import {
  IOTAWS_MIGRATIONS,
  PostgresAwsThingBindingStore,
  PostgresBindingLock,
  postgresFleetProvisioningStores,
} from "@granit/iot-aws-postgres";
import {
  devicePolicyDocument,
  ensureDevicePolicy,
  parseAwsProvisioningOptions,
  registerAwsProvisioning,
} from "@granit/iot-aws-provisioning";
import { createHost, type Host, loadConfig } from "@granit/iot-host";
import { IOT_MIGRATIONS } from "@granit/iot-postgres";
import type { DatabaseTarget, TestDatabase } from "@granit/iot-postgres/testing";
import { MASTER_KEY, TENANT_A, TENANT_B } from "./fleet-fixture.ts";

export const DEVICE_POLICY = "granit-device-policy";

export interface FleetHost {
  readonly host: Host;
  readonly tdb: TestDatabase;
  readonly fleet: FleetProvisioning;
  readonly bindings: PostgresAwsThingBindingStore;
  /** Base URL of the fleet endpoints, as `GRANIT_FLEET_URL`. */
  readonly fleetUrl: string;
  readonly keys: { readonly a: IssuedFleetKey; readonly b: IssuedFleetKey };
  readonly iot: IoTClient;
  readonly secrets: SecretsManagerClient;
  /** Events delivered on the host's bus (call `host.bus.drain()` first). */
  readonly delivered: DomainEvent[];
  dispose(): Promise<void>;
}

export async function startFleetHost(
  target: DatabaseTarget,
  emulator: Emulator,
  options: { config?: Record<string, unknown> } = {},
): Promise<FleetHost> {
  const dataDir = mkdtempSync(join(tmpdir(), "granit-fleet-host-"));
  const config = loadConfig({
    env: {},
    overrides: {
      Host: { Port: 0, DataDir: dataDir },
      Logging: { Level: "silent" },
      IoT: { MessageBus: { PollIntervalMilliseconds: 50 } },
      Auth: { Tokens: [{ Name: "operator", Token: "fleet-host-operator-token", TenantId: null }] },
    },
  });
  const tdb = await target.open({ migrations: [IOT_MIGRATIONS, IOTAWS_MIGRATIONS] });
  const host = await createHost(config, { database: tdb.database });
  host.addMigration(IOTAWS_MIGRATIONS);
  const bindings = new PostgresAwsThingBindingStore(tdb.database, host.bus);
  const fleet = await createFleetProvisioning({
    options: parseFleetProvisioningOptions({ MasterKey: MASTER_KEY, ...options.config }),
    unitOfWork: tdb.database,
    devices: host.deviceStore,
    bindings,
    stores: postgresFleetProvisioningStores(tdb.database, host.bus),
    clock: host.clock,
    logger: host.logger,
  });
  await host.app.register(fleetProvisioningPlugin, {
    prefix: FLEET_PROVISIONING_PREFIX,
    ...fleet.pluginOptions,
  });

  // The provisioning saga, as the bundle wires it: real SDK clients (maxAttempts 1) under a call policy.
  const aws = { ...emulator.clientConfig(), maxAttempts: 1 };
  const iot = new IoTClient(aws);
  const secrets = new SecretsManagerClient(aws);
  const callPolicy = new AwsCallPolicy({
    maxAttempts: 5,
    baseDelayMilliseconds: 10,
    maxDelayMilliseconds: 100,
    maxElapsedSeconds: 30,
    defaultTokensPerSecond: 100_000,
    rateLimits: Object.fromEntries(
      Object.keys(AWS_DEFAULT_RATE_LIMITS).map((k) => [k, { tokensPerSecond: 100_000 }]),
    ),
  });
  await ensureDevicePolicy(
    { iot, callPolicy },
    DEVICE_POLICY,
    devicePolicyDocument({ region: emulator.region, accountId: emulator.accountId }),
  );
  registerAwsProvisioning({
    deviceStore: host.deviceStore,
    bindingStore: bindings,
    bindingLock: new PostgresBindingLock(tdb.database),
    unitOfWork: tdb.database,
    bus: host.bus,
    iot,
    secrets,
    callPolicy,
    options: parseAwsProvisioningOptions({ DevicePolicyName: DEVICE_POLICY }),
    subscribe: { maxAttempts: 20, backoffMs: 50, maxBackoffMs: 500 },
  });
  const delivered: DomainEvent[] = [];
  for (const type of ["DeviceProvisionedEvent", "DeviceActivatedEvent", "AwsThingProvisionedEvent"]) {
    host.bus.subscribe(type, "test.recorder", async (event) => {
      delivered.push(event);
    });
  }
  for (const service of fleet.backgroundServices) host.addBackgroundService(service);
  await host.start();
  const keys = {
    a: await fleet.fleetKeys.create({ tenantId: TENANT_A, actor: "alice" }, { description: "hook" }),
    b: await fleet.fleetKeys.create({ tenantId: TENANT_B, actor: "bob" }, { description: "hook" }),
  };
  return {
    host,
    tdb,
    fleet,
    bindings,
    fleetUrl: `${host.url}${FLEET_PROVISIONING_PREFIX}`,
    keys,
    iot,
    secrets,
    delivered,
    async dispose() {
      await host.stop();
      iot.destroy();
      secrets.destroy();
      await tdb.dispose();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
