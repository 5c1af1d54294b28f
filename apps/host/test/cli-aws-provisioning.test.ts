/**
 * `granit-iot bindings show|retry` and `granit-iot reconcile [--repair]` against the real
 * provisioning routes (`src/aws/provisioning-routes.ts`) of a test host whose devices are
 * provisioned by the saga (subscribed on the host's bus) against the emulator — run as a child
 * process: human output, `--json`, refusals (exit 1), scopes (exit 4), and the effects in AWS.
 */
import "../src/telemetry/meter-provider.ts";

import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { CreateThingCommand, IoTClient } from "@aws-sdk/client-iot";
import { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { type Emulator, startEmulator } from "@granit/aws-iot-emulator";
import { AwsCallPolicy, ThingName } from "@granit/iot-aws";
import {
  IOTAWS_MIGRATIONS,
  PostgresAwsThingBindingStore,
  PostgresBindingLock,
} from "@granit/iot-aws-postgres";
import {
  devicePolicyDocument,
  ensureDevicePolicy,
  parseAwsProvisioningOptions,
  registerAwsProvisioning,
} from "@granit/iot-aws-provisioning";
import { databaseTargets } from "@granit/iot-postgres/testing";
import { registerProvisioningRoutes } from "../src/aws/provisioning-routes.ts";
import { type CliResult, granitIot, removeTempDirs } from "./cli-fixtures/run-cli.ts";
import { startTestHost, TENANT_A, type TestHost, TOKENS } from "./support/test-host.ts";

const POLICY = "granit-device-policy";

after(removeTempDirs);

for (const target of databaseTargets()) {
  describe(`granit-iot bindings and reconcile on real routes (${target.name})`, { skip: target.skip }, () => {
    let emulator: Emulator;
    let t: TestHost;
    let iot: IoTClient;
    let secrets: SecretsManagerClient;
    let policy: AwsCallPolicy;
    let registered: Promise<void> | undefined;

    before(async () => {
      emulator = await startEmulator({ port: 0, detachPropagationMs: 20 });
      iot = new IoTClient({ ...emulator.clientConfig(), maxAttempts: 1 });
      secrets = new SecretsManagerClient({ ...emulator.clientConfig(), maxAttempts: 1 });
      policy = new AwsCallPolicy({ baseDelayMilliseconds: 10, maxDelayMilliseconds: 100 });
      t = await startTestHost(target, {
        beforeStart: (host) => {
          host.addMigration(IOTAWS_MIGRATIONS);
          const provisioning = registerAwsProvisioning({
            bus: host.bus,
            deviceStore: host.deviceStore,
            bindingStore: new PostgresAwsThingBindingStore(host.database, host.bus),
            bindingLock: new PostgresBindingLock(host.database),
            unitOfWork: host.database,
            iot,
            secrets,
            callPolicy: policy,
            options: parseAwsProvisioningOptions({ DevicePolicyName: POLICY, ReconcileGraceSeconds: 0 }),
            logger: host.logger,
            subscribe: { maxAttempts: 20, backoffMs: 50, maxBackoffMs: 500 },
          });
          registered = registerProvisioningRoutes(host.app, { tokens: host.tokens, provisioning });
        },
      });
      await registered;
    });
    after(async () => {
      await t?.dispose();
      iot?.destroy();
      secrets?.destroy();
      await emulator?.stop();
    });

    const cli = (args: readonly string[], token: string = TOKENS.tenantA): Promise<CliResult> =>
      granitIot([...args, "--url", t.host.url, "--token", token]);
    const createPolicy = () =>
      ensureDevicePolicy(
        { iot, callPolicy: policy },
        POLICY,
        devicePolicyDocument({ region: emulator.region, accountId: emulator.accountId }),
      );
    const provisioned = async () => {
      const device = await t.createDevice(TOKENS.tenantA);
      await t.host.bus.drain();
      return device;
    };

    it("shows the binding of a provisioned device as a key/value block, and the API's JSON with --json", async () => {
      await createPolicy();
      const device = await provisioned();

      const human = await cli(["bindings", "show", device.id], TOKENS.tenantAReader);
      const json = await cli(["bindings", "show", device.id, "--json"]);

      assert.equal(human.code, 0, human.stderr);
      assert.match(human.stdout, new RegExp(`^deviceId: +${device.id}$`, "m"));
      assert.match(human.stdout, /^status: +Active$/m);
      assert.match(human.stdout, /^failureReason: +-$/m);
      assert.match(human.stdout, /^certificateArn: +arn:aws:iot:us-east-1:000000000000:cert\/[0-9a-f]{64}$/m);
      assert.match(human.stdout, /^certificateSecretArn: +arn:aws:secretsmanager:/m);
      assert.doesNotMatch(human.stdout + json.stdout, /BEGIN|PRIVATE KEY/);
      const api = await t.call("GET", `/api/iot/aws/bindings/${device.id}`, { token: TOKENS.tenantA });
      assert.deepEqual(json.json(), api.body);
    });

    it("exits 1 with the host's detail for a device without a binding in the token's tenant", async () => {
      const device = await provisioned();

      const other = await cli(["bindings", "show", device.id], TOKENS.tenantB);

      assert.equal(other.code, 1);
      assert.equal(
        other.stderr,
        `error: The resource was not found. (HTTP 404, GET /api/iot/aws/bindings/${device.id})\n` +
          `  Device '${device.id}' has no AWS binding (unknown device, not provisioned yet, or decommissioned).\n`,
      );
    });

    it("reports a thing without binding, repairs it with --repair, and finds it gone", async () => {
      const orphan = ThingName.from(TENANT_A, "CLI-ORPHAN-1").value;
      await iot.send(new CreateThingCommand({ thingName: orphan }));

      const report = await cli(["reconcile"], TOKENS.operator);
      const repair = await cli(["reconcile", "--repair", "thingsWithoutBinding"], TOKENS.operator);
      const after = await cli(["reconcile", "--json"], TOKENS.operator);

      assert.equal(report.code, 0, report.stderr);
      assert.match(report.stdout, /^Scanned \d+ bindings, \d+ things, \d+ certificates \(.* → .*\)\.$/m);
      assert.match(report.stdout, /^DRIFT +FOUND$/m);
      assert.match(report.stdout, /^thingsWithoutBinding +1$/m);
      assert.match(
        report.stdout,
        new RegExp(`^thingsWithoutBinding +${TENANT_A} +${orphan} +- +- +\\S`, "m"),
      );
      assert.equal(repair.code, 0, repair.stderr);
      assert.match(repair.stdout, /^DRIFT +FOUND +REPAIRED$/m);
      assert.match(repair.stdout, /^thingsWithoutBinding +1 +1$/m);
      assert.match(repair.stdout, new RegExp(`${orphan} +- +repaired +thing`));
      assert.equal(after.json().totals.thingsWithoutBinding, 0);
      assert.ok(
        !emulator.inventory().things.some((thing) => thing.name === orphan),
        "the orphan thing is deleted",
      );
    });

    it("asks for every repair with --repair all (the host accepts every kind)", async () => {
      const result = await cli(["reconcile", "--repair", "all", "--json"], TOKENS.operator);

      assert.equal(result.code, 0, result.stderr);
      const report = result.json();
      assert.deepEqual(Object.keys(report.repaired).sort(), [
        "bindingsMissingCertificate",
        "bindingsMissingSecret",
        "bindingsMissingThing",
        "orphanCertificates",
        "thingsWithoutBinding",
        "unattachedCertificates",
      ]);
      assert.deepEqual(report.tenants, [], "no drift left after the previous repair");
    });

    it("exits 4 when a read-only token asks for a reconcile, and 2 for an unknown drift kind", async () => {
      const reader = await cli(["reconcile"], TOKENS.tenantAReader);
      const unknown = await cli(["reconcile", "--repair", "everything"], TOKENS.operator);

      assert.equal(reader.code, 4);
      assert.match(
        reader.stderr,
        /^error: The token may not do this\. \(HTTP 403, POST \/api\/iot\/aws\/reconcile\)\n/,
      );
      assert.equal(unknown.code, 2);
      assert.match(unknown.stderr, /^error: --repair: unknown drift kind 'everything'/);
    });

    it("retries a Failed provisioning once its cause is fixed; exit 1 when the binding is not Failed", async () => {
      emulator.reset(); // the device policy is gone: the next device fails at activation
      const device = await provisioned();

      const failed = await cli(["bindings", "show", device.id]);
      await createPolicy();
      const retry = await cli(["bindings", "retry", device.id]);
      await t.host.bus.drain();
      const active = await cli(["bindings", "show", device.id, "--json"]);
      const again = await cli(["bindings", "retry", device.id]);

      assert.equal(failed.code, 0);
      assert.match(failed.stdout, /^status: +Failed$/m);
      assert.match(
        failed.stdout,
        new RegExp(`^failureReason: +.*IoT policy '${POLICY}' does not exist`, "m"),
      );
      assert.match(failed.stdout, /^failedFromStatus: +SecretStored$/m);
      assert.equal(retry.code, 0, retry.stderr);
      assert.match(
        retry.stdout,
        new RegExp(`^Provisioning of device ${device.id} resumes from SecretStored \\(thing \\S+\\)\\.\\n$`),
      );
      assert.equal(active.json().status, "Active");
      assert.equal(again.code, 1);
      assert.match(
        again.stderr,
        /^error: The device's status does not allow this operation\. \(HTTP 409, POST /,
      );
    });
  });
}
