/**
 * The AWS provisioning routes on a real host: devices created through the devices API are
 * provisioned by the saga (subscribed on the host's bus) against the emulator; the routes show the
 * binding, retry a Failed one and reconcile — with the host's bearer auth, tenant isolation and
 * problem details, and never a secret value in a response.
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
  type AwsProvisioning,
  devicePolicyDocument,
  ensureDevicePolicy,
  parseAwsProvisioningOptions,
  registerAwsProvisioning,
} from "@granit/iot-aws-provisioning";
import { databaseTargets } from "@granit/iot-postgres/testing";
import { registerProvisioningRoutes } from "../src/aws/provisioning-routes.ts";
import { startTestHost, TENANT_A, TENANT_B, type TestHost, TOKENS } from "./support/test-host.ts";

const POLICY = "granit-device-policy";

for (const target of databaseTargets()) {
  describe(`AWS provisioning routes (${target.name})`, { skip: target.skip }, () => {
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
          const provisioning: AwsProvisioning = registerAwsProvisioning({
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
          const scope = { region: emulator.region, accountId: emulator.accountId };
          registered = registerProvisioningRoutes(host.app, {
            tokens: host.tokens,
            provisioning,
            devicePolicy: {
              policyName: POLICY,
              document: () => devicePolicyDocument(scope),
              ensure: () =>
                ensureDevicePolicy({ iot, callPolicy: policy }, POLICY, devicePolicyDocument(scope)),
            },
          });
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

    const createPolicy = () =>
      ensureDevicePolicy(
        { iot, callPolicy: policy },
        POLICY,
        devicePolicyDocument({ region: emulator.region, accountId: emulator.accountId }),
      );
    const provisioned = async (token: string) => {
      const device = await t.createDevice(token);
      await t.host.bus.drain();
      return device;
    };

    it("shows the binding of a provisioned device: status and ARNs, never the secret value", async () => {
      await createPolicy();
      const device = await provisioned(TOKENS.tenantA);

      const response = await t.call("GET", `/api/iot/aws/bindings/${device.id}`, {
        token: TOKENS.tenantAReader,
      });

      assert.equal(response.status, 200);
      assert.equal(response.body.status, "Active");
      assert.equal(response.body.deviceId, device.id);
      assert.equal(response.body.tenantId, TENANT_A);
      assert.match(response.body.certificateArn, /^arn:aws:iot:us-east-1:000000000000:cert\/[0-9a-f]{64}$/);
      assert.match(response.body.certificateSecretArn, /^arn:aws:secretsmanager:/);
      assert.doesNotMatch(response.text, /-----BEGIN|PRIVATE KEY|privateKeyPem/);
    });

    it("answers 404 for another tenant's device and for an unknown one, 401 without a token", async () => {
      const device = await provisioned(TOKENS.tenantA);

      const other = await t.call("GET", `/api/iot/aws/bindings/${device.id}`, { token: TOKENS.tenantB });
      const unknown = await t.call("GET", "/api/iot/aws/bindings/0194a5e0-0000-7000-8000-000000000000", {
        token: TOKENS.tenantA,
      });
      const anonymous = await t.call("GET", `/api/iot/aws/bindings/${device.id}`);

      assert.equal(other.status, 404);
      assert.equal(other.body.type, "urn:granit:iot:problem:not-found");
      assert.equal(unknown.status, 404);
      assert.equal(anonymous.status, 401);
    });

    it("retries a Failed binding once its cause is fixed, and refuses to retry one that is not Failed", async () => {
      emulator.reset(); // the device policy is gone: the next device fails at activation
      const device = await provisioned(TOKENS.tenantA);
      const failed = await t.call("GET", `/api/iot/aws/bindings/${device.id}`, { token: TOKENS.tenantA });
      assert.equal(failed.body.status, "Failed");
      assert.match(failed.body.failureReason, /IoT policy 'granit-device-policy' does not exist/);

      const forbidden = await t.call("POST", `/api/iot/aws/bindings/${device.id}/retry`, {
        token: TOKENS.tenantAReader,
      });
      assert.equal(forbidden.status, 403);
      await createPolicy();
      const retried = await t.call("POST", `/api/iot/aws/bindings/${device.id}/retry`, {
        token: TOKENS.tenantA,
      });
      assert.equal(retried.status, 202);
      assert.equal(retried.body.status, "SecretStored");
      await t.host.bus.drain();
      const active = await t.call("GET", `/api/iot/aws/bindings/${device.id}`, { token: TOKENS.tenantA });
      assert.equal(active.body.status, "Active");

      const again = await t.call("POST", `/api/iot/aws/bindings/${device.id}/retry`, {
        token: TOKENS.tenantA,
      });
      assert.equal(again.status, 409);
      assert.equal(again.body.type, "urn:granit:iot:problem:invalid-status-transition");
    });

    it("reconciles: reports drift of the token's tenant, repairs only when asked", async () => {
      await createPolicy();
      const stray = ThingName.from(TENANT_B, "STRAY-ROUTE").value;
      await iot.send(new CreateThingCommand({ thingName: stray }));

      const tenantA = await t.call("POST", "/api/iot/aws/reconcile", { token: TOKENS.tenantA, json: {} });
      const report = await t.call("POST", "/api/iot/aws/reconcile", { token: TOKENS.operator, json: {} });
      const repaired = await t.call("POST", "/api/iot/aws/reconcile", {
        token: TOKENS.operator,
        json: { repair: { thingsWithoutBinding: true } },
      });
      const invalid = await t.call("POST", "/api/iot/aws/reconcile", {
        token: TOKENS.operator,
        json: { repair: { everything: true } },
      });

      assert.equal(tenantA.status, 200);
      assert.equal(tenantA.body.totals.thingsWithoutBinding, 0, "tenant A does not see tenant B's things");
      assert.equal(report.status, 200);
      assert.equal(report.body.totals.thingsWithoutBinding, 1);
      const tenantB = report.body.tenants.find(
        (tenant: { tenantId: string }) => tenant.tenantId === TENANT_B,
      );
      assert.equal(tenantB.counts.thingsWithoutBinding, 1);
      assert.equal(repaired.body.repaired.thingsWithoutBinding, 1);
      assert.ok(!emulator.inventory().things.some((thing) => thing.name === stray));
      assert.equal(invalid.status, 400);
      assert.equal(invalid.body.type, "urn:granit:iot:problem:validation");
    });

    it("serves the device policy and lets only the host operator create it", async () => {
      emulator.reset();

      const printed = await t.call("GET", "/api/iot/aws/policy", { token: TOKENS.tenantAReader });
      const tenant = await t.call("POST", "/api/iot/aws/policy/ensure", { token: TOKENS.tenantA });
      const created = await t.call("POST", "/api/iot/aws/policy/ensure", { token: TOKENS.operator });
      const again = await t.call("POST", "/api/iot/aws/policy/ensure", { token: TOKENS.operator });

      assert.equal(printed.status, 200);
      assert.equal(printed.body.policyName, POLICY);
      assert.deepEqual(
        printed.body.document,
        devicePolicyDocument({ region: emulator.region, accountId: emulator.accountId }),
      );
      assert.equal(tenant.status, 403);
      assert.deepEqual(created.body, { policyName: POLICY, created: true, matches: true });
      assert.deepEqual(again.body, { policyName: POLICY, created: false, matches: true });
    });
  });
}
