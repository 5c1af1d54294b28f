/**
 * An in-process test environment: a fresh database schema (`databaseTargets()`), the emulator, the
 * provisioning stack with a capturing logger and a readable meter, and the device policy created in
 * the emulated account.
 */
import type { Emulator } from "@granit/aws-iot-emulator";
import { TestMetrics } from "@granit/iot-aws/testing";
import { IOTAWS_MIGRATIONS } from "@granit/iot-aws-postgres";
import { devicePolicyDocument, ensureDevicePolicy } from "@granit/iot-aws-provisioning";
import { IOT_MIGRATIONS } from "@granit/iot-postgres";
import type { DatabaseTarget, TestDatabase } from "@granit/iot-postgres/testing";
import { CapturingLogger } from "./logs.ts";
import { buildStack, POLICY_NAME, type Stack, type StackOptions } from "./stack.ts";

export interface Environment {
  readonly stack: Stack;
  readonly tdb: TestDatabase;
  readonly logs: CapturingLogger;
  readonly metrics: TestMetrics;
  dispose(): Promise<void>;
}

export async function openEnvironment(
  target: DatabaseTarget,
  emulator: Emulator,
  options: Omit<StackOptions, "database" | "aws"> = {},
): Promise<Environment> {
  const tdb = await target.open({ migrations: [IOT_MIGRATIONS, IOTAWS_MIGRATIONS] });
  const logs = new CapturingLogger();
  const metrics = new TestMetrics("granit.iot.aws.provisioning");
  const stack = buildStack({
    database: tdb.database,
    aws: emulator.clientConfig(),
    logger: logs,
    meter: metrics.meter,
    ...options,
  });
  return {
    stack,
    tdb,
    logs,
    metrics,
    async dispose() {
      await stack.bus.stop();
      stack.iot.destroy();
      stack.secrets.destroy();
      await tdb.dispose();
    },
  };
}

/** Creates the device policy in the account (after an emulator reset). */
export async function createDevicePolicy(stack: Stack, emulator: Emulator): Promise<void> {
  await ensureDevicePolicy(
    { iot: stack.iot, callPolicy: stack.policy },
    POLICY_NAME,
    devicePolicyDocument({ region: emulator.region, accountId: emulator.accountId }),
  );
}
