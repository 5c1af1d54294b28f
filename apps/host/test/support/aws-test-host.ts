/**
 * Test support: a test host (`startTestHost`) with the whole AWS bridge wired the way `npm start`
 * wires it — `wireAwsBridge` (the bundle and every AWS route module) — against an in-process emulator
 * through the real SDK clients, with short delivery backoffs so a test never waits long.
 */
import "../../src/telemetry/meter-provider.ts";

import { type Emulator, startEmulator } from "@granit/aws-iot-emulator";
import type { GranitIoTAwsBundle, IoTAwsOptions } from "@granit/bundle-iot-aws";
import { parseAwsCallOptions } from "@granit/iot-aws";
import { parseFleetProvisioningOptions } from "@granit/iot-aws-fleet-provisioning";
import { parseAwsProvisioningOptions } from "@granit/iot-aws-provisioning";
import type { DatabaseTarget } from "@granit/iot-postgres/testing";
import { wireAwsBridge } from "../../src/aws/aws-bridge.ts";
import { FleetProvisioningScopes } from "../../src/aws/fleet-provisioning-routes.ts";
import { startTestHost, type TestHost } from "./test-host.ts";

export const DEVICE_POLICY = "granit-device-policy";
export const FLEET_MASTER_KEY = Buffer.alloc(32, 7).toString("base64");
/** A host-operator token that also holds the fleet-provisioning scopes (as `npm start`'s does). */
export const FLEET_OPERATOR_TOKEN = "fleet-operator-token-000001";

export interface AwsTestHost {
  readonly t: TestHost;
  readonly emulator: Emulator;
  readonly bundle: GranitIoTAwsBundle;
  dispose(): Promise<void>;
}

export async function startAwsTestHost(
  target: DatabaseTarget,
  options: { readonly ensureDevicePolicy?: boolean; readonly options?: Partial<IoTAwsOptions> } = {},
): Promise<AwsTestHost> {
  let t: TestHost | undefined;
  const emulator = await startEmulator({
    port: 0,
    detachPropagationMs: 20,
    clock: () => t?.clock.now() ?? new Date(),
  });
  let bundle: GranitIoTAwsBundle | undefined;
  try {
    t = await startTestHost(target, {
      async beforeStart(host) {
        host.tokens.add({
          name: "fleet-operator",
          tenantId: null,
          scopes: [
            "IoT.Devices.Read",
            "IoT.Devices.Manage",
            FleetProvisioningScopes.Read,
            FleetProvisioningScopes.Manage,
          ],
          token: FLEET_OPERATOR_TOKEN,
        });
        bundle = await wireAwsBridge(host, {
          aws: { ...emulator.clientConfig(), accountId: emulator.accountId },
          ensureDevicePolicy: options.ensureDevicePolicy ?? true,
          provisioningSubscribe: { maxAttempts: 20, backoffMs: 50, maxBackoffMs: 500 },
          options: {
            calls: parseAwsCallOptions({ BaseDelayMilliseconds: 10, MaxDelayMilliseconds: 100 }),
            provisioning: parseAwsProvisioningOptions({
              DevicePolicyName: DEVICE_POLICY,
              ReconcileGraceSeconds: 0,
              TeardownBaseDelayMilliseconds: 10,
            }),
            fleetProvisioning: parseFleetProvisioningOptions({ MasterKey: FLEET_MASTER_KEY }),
            ...options.options,
          },
        });
      },
    });
  } catch (error) {
    await emulator.stop();
    throw error;
  }
  const wired = bundle as GranitIoTAwsBundle;
  const host = t;
  return {
    t: host,
    emulator,
    bundle: wired,
    async dispose() {
      await host.dispose();
      wired.destroy();
      await emulator.stop();
    },
  };
}
