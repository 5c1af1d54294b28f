/**
 * `addGranitBundleIoTAws` on a small host over the emulator, through the real SDK clients: one call
 * wires provisioning, shadow, jobs and fleet provisioning the way each would be wired alone, with
 * one credential gate and one call policy, and the host's background services.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { GetThingShadowCommand } from "@aws-sdk/client-iot-data-plane";
import { IoTJobsDataPlaneClient } from "@aws-sdk/client-iot-jobs-data-plane";
import { CreateSecretCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { type Emulator, startEmulator } from "@granit/aws-iot-emulator";
import {
  AwsAccountUnknownError,
  addGranitBundleIoTAws,
  type GranitBundleIoTAwsOptions,
  type GranitIoTAwsBundle,
} from "@granit/bundle-iot-aws";
import { Device, OptionsValidationError } from "@granit/iot";
import { parseAwsIoTCredentialOptions } from "@granit/iot-aws";
import { fleetAuthorizationHeader, parseFleetProvisioningOptions } from "@granit/iot-aws-fleet-provisioning";
import { SimulatedJobsDevice } from "@granit/iot-aws-jobs/testing";
import { devicePolicyDocument, parseAwsProvisioningOptions } from "@granit/iot-aws-provisioning";
import type { ShadowDeltaPoller } from "@granit/iot-aws-shadow";
import { databaseTargets } from "@granit/iot-postgres/testing";
import { type BundleTestHost, createBundleTestHost } from "./support/bundle-test-host.ts";

const TENANT = "0194a5e0-aaaa-7aaa-8aaa-aaaaaaaaaaaa";
const POLICY = "granit-device-policy";
const MASTER_KEY = Buffer.alloc(32, 3).toString("base64");

const baseOptions = (): NonNullable<GranitBundleIoTAwsOptions["options"]> => ({
  provisioning: parseAwsProvisioningOptions({ DevicePolicyName: POLICY, TeardownBaseDelayMilliseconds: 10 }),
  fleetProvisioning: parseFleetProvisioningOptions({ MasterKey: MASTER_KEY }),
});

for (const target of databaseTargets()) {
  describe(`addGranitBundleIoTAws (${target.name})`, { skip: target.skip }, () => {
    let emulator: Emulator;
    let host: BundleTestHost | undefined;
    let bundle: GranitIoTAwsBundle | undefined;

    before(async () => {
      emulator = await startEmulator({ port: 0, detachPropagationMs: 10 });
    });
    after(() => emulator?.stop());

    const wire = async (options: Partial<GranitBundleIoTAwsOptions> = {}) => {
      host = await createBundleTestHost(target);
      bundle = await addGranitBundleIoTAws(host, {
        aws: { ...emulator.clientConfig(), accountId: emulator.accountId },
        options: baseOptions(),
        ensureDevicePolicy: true,
        provisioningSubscribe: { maxAttempts: 20, backoffMs: 20, maxBackoffMs: 200 },
        ...options,
      });
      return { host, bundle };
    };
    const release = async () => {
      await host?.stop();
      bundle?.destroy();
      host = undefined;
      bundle = undefined;
      emulator.reset();
    };
    const provisionDevice = async (h: BundleTestHost, serialNumber: string) => {
      const device = Device.provision(
        { tenantId: TENANT, serialNumber, model: "GW-100", firmware: "1.0.0" },
        { at: h.clock.now(), by: "test" },
      );
      await h.deviceStore.add(device);
      await h.bus.drain();
      return device;
    };

    it("provisions a device, syncs its shadow and runs its job, with one call of wiring", async () => {
      try {
        const { host, bundle } = await wire();
        await host.start();

        const device = await provisionDevice(host, "BUNDLE-0001");
        const binding = await bundle.provisioning.describeBinding(device.id, TENANT);
        device.activate({ at: host.clock.now(), by: "test" });
        await host.deviceStore.update(device);
        await host.bus.drain();
        await bundle.shadow.shadows.setDesired(device.id, TENANT, { firmware: "2.0.0" });
        host.clock.advance(60_000);
        await (bundle.shadow.deltaSource as ShadowDeltaPoller).sweepOnce(bundle.shadow.deltaHandler.observe);
        await host.bus.drain();
        const jobsData = new IoTJobsDataPlaneClient({ ...emulator.clientConfig(), maxAttempts: 1 });
        const run = await new SimulatedJobsDevice({
          client: jobsData,
          thingName: binding?.thingName ?? "",
        }).runNext();
        jobsData.destroy();
        host.clock.advance(300_000);
        await bundle.jobs.poller.pollOnce();
        const commands = await bundle.jobs.commands.list({ tenantId: TENANT, actor: "test" }, device.id, {
          limit: 10,
        });

        assert.equal(binding?.status, "Active");
        const inventory = emulator.inventory();
        assert.equal(inventory.things.length, 1);
        assert.equal(inventory.certificates[0]?.status, "ACTIVE");
        assert.deepEqual(inventory.certificates[0]?.policies, [POLICY]);
        const shadow = inventory.shadows.find((s) => s.thingName === binding?.thingName);
        assert.equal((shadow?.state.reported as { status?: string } | undefined)?.status, "Active");
        assert.deepEqual(run?.job.parameters, { firmware: "2.0.0" });
        assert.equal(commands.items[0]?.status, "Succeeded");
        const services = host.services.map((s) => s.name);
        for (const name of [
          "granit.iot.aws.credentials",
          "granit.iot.aws.shadow.delta-poller",
          "granit.iot.aws.jobs.status-poller",
          "claim-certificate-rotation-check",
          "fleet-request-nonce-purge",
        ]) {
          assert.ok(services.includes(name), `background service ${name} is registered`);
        }
        assert.equal(services[0], "granit.iot.aws.credentials", "the credentials start first (stop last)");
        assert.deepEqual(
          host.gates.map((g) => [g.name, g.isReady()]),
          [["aws-credentials", true]],
        );
      } finally {
        await release();
      }
    });

    it("creates the device policy before the host starts, for the emulator's region and account", async () => {
      try {
        const { bundle } = await wire();

        const policies = emulator.inventory().policies;

        assert.deepEqual(
          policies.map((p) => p.name),
          [POLICY],
        );
        const expected = devicePolicyDocument({ region: emulator.region, accountId: emulator.accountId });
        assert.deepEqual(JSON.parse(policies[0]?.document ?? "{}"), expected);
        assert.deepEqual(bundle.devicePolicy.document(), expected);
        assert.deepEqual(bundle.account, { region: emulator.region, accountId: emulator.accountId });
        assert.deepEqual(await bundle.devicePolicy.ensure(), {
          policyName: POLICY,
          created: false,
          matches: true,
        });
      } finally {
        await release();
      }
    });

    it("serves the signed fleet-provisioning endpoints at /api/iot/fleet-provisioning", async () => {
      try {
        const { host, bundle } = await wire();
        await host.start();
        const key = await bundle.fleet?.fleetKeys.create({ tenantId: TENANT, actor: "test" });
        assert.ok(key);
        const body = JSON.stringify({ serialNumber: "FLEET-0001" });
        const path = "/api/iot/fleet-provisioning/verify";

        const signed = await fetch(`${host.url()}${path}`, {
          method: "POST",
          body,
          headers: {
            "content-type": "application/json",
            authorization: fleetAuthorizationHeader({
              keyId: key.keyId,
              secret: key.secret,
              method: "POST",
              path,
              body,
              timestamp: host.clock.now().toISOString(),
            }),
          },
        });
        const unsigned = await fetch(`${host.url()}${path}`, {
          method: "POST",
          body,
          headers: { "content-type": "application/json" },
        });

        assert.equal(signed.status, 200);
        assert.equal(((await signed.json()) as { allowProvisioning: boolean }).allowProvisioning, true);
        assert.equal(unsigned.status, 401);
      } finally {
        await release();
      }
    });

    it("leaves fleet provisioning out when asked (no MasterKey needed), and names the key when it is missing", async () => {
      try {
        const { host, bundle } = await wire({
          fleetProvisioning: false,
          options: { provisioning: baseOptions().provisioning },
        });
        await host.start();
        const response = await fetch(`${host.url()}/api/iot/fleet-provisioning/verify`, { method: "POST" });

        assert.equal(bundle.fleet, null);
        assert.equal(response.status, 404);
        assert.ok(!host.services.some((s) => /claim-certificate|fleet-request/.test(s.name)));
      } finally {
        await release();
      }
      await assert.rejects(
        () => wire({ options: { provisioning: baseOptions().provisioning } }),
        (error: unknown) =>
          error instanceof OptionsValidationError && error.key === "IoT:Aws:FleetProvisioning:MasterKey",
      );
      await host?.testDatabase.dispose();
      host = undefined;
    });

    it("signs the bridge's calls with the keys of the rotating secret, read by the bootstrap identity", async () => {
      const secrets = new SecretsManagerClient({ ...emulator.clientConfig(), maxAttempts: 1 });
      try {
        const created = await secrets.send(
          new CreateSecretCommand({
            Name: "granit/bridge-keys",
            SecretString: JSON.stringify({
              accessKeyId: "AKIAROTATED000000001",
              secretAccessKey: "rotated-secret",
            }),
          }),
        );
        const { host, bundle } = await wire({
          options: {
            ...baseOptions(),
            credentials: parseAwsIoTCredentialOptions({ FleetCredentialSecretArn: created.ARN }),
          },
          ensureDevicePolicy: false,
        });
        assert.equal(host.gates[0]?.isReady(), false, "closed until the first fetch");
        await host.start();
        await bundle.devicePolicy.ensure();
        await provisionDevice(host, "ROTATED-0001");

        const calls = emulator.calls();
        const bridge = calls.filter((c) => c.service === "iot");
        const bootstrap = calls.filter(
          (c) => c.operation === "GetSecretValue" && c.accessKeyId !== "AKIAROTATED000000001",
        );

        assert.equal(bundle.credentials.mode, "rotating");
        assert.equal(bundle.credentials.status().source, "loaded-keys");
        assert.equal(host.gates[0]?.isReady(), true);
        assert.ok(bridge.length > 0);
        assert.deepEqual([...new Set(bridge.map((c) => c.accessKeyId))], ["AKIAROTATED000000001"]);
        assert.ok(bootstrap.length >= 1, "the loader reads the secret with the bootstrap identity");
        assert.equal(emulator.inventory().things.length, 1);
      } finally {
        secrets.destroy();
        await release();
      }
    });

    it("asks DescribeEndpoint once for a data plane without an endpoint, through the call policy", async () => {
      try {
        const { bundle } = await wire({
          aws: {
            region: emulator.region,
            credentials: emulator.clientConfig().credentials,
            endpoints: { iot: emulator.url, secretsManager: emulator.url },
            accountId: emulator.accountId,
          },
        });

        // The emulator answers its own host:port and AWS answers no scheme: the client dials https.
        const first = await bundle.clients.iotData
          .send(new GetThingShadowCommand({ thingName: "x" }))
          .catch((e) => e);
        const second = await bundle.clients.iotData
          .send(new GetThingShadowCommand({ thingName: "x" }))
          .catch((e) => e);

        assert.equal(emulator.callCounts()["iot:DescribeEndpoint"], 1);
        assert.ok(first instanceof Error && second instanceof Error);
        assert.ok(
          !emulator.calls().some((c) => c.service === "iotdata"),
          "nothing reached the data plane over http",
        );
      } finally {
        await release();
      }
    });

    it("answers AwsAccountUnknownError for the policy document when your clients come without an account", async () => {
      try {
        const built = await wire();
        const ownHost = await createBundleTestHost(target);
        const own = await addGranitBundleIoTAws(ownHost, {
          aws: {
            clients: {
              iot: built.bundle.clients.iot as never,
              iotData: built.bundle.clients.iotData as never,
              secrets: built.bundle.clients.secrets as never,
            },
            region: emulator.region,
          },
          options: baseOptions(),
        });

        assert.throws(() => own.devicePolicy.document(), AwsAccountUnknownError);
        await assert.rejects(() => own.devicePolicy.ensure(), AwsAccountUnknownError);
        assert.equal(own.clients.iot, built.bundle.clients.iot);
        own.destroy(); // yours stay open
        await built.bundle.devicePolicy.ensure();
        await ownHost.testDatabase.dispose();
      } finally {
        await release();
      }
    });
  });
}
