/**
 * The provisioning saga with the real SDK clients against the emulator and the real database
 * (PGlite, and PostgreSQL when DATABASE_URL is set).
 */
import assert from "node:assert/strict";
import { createPrivateKey, createPublicKey } from "node:crypto";
import { after, afterEach, before, beforeEach, describe, it } from "node:test";
import { CreateThingCommand } from "@aws-sdk/client-iot";
import {
  CreateSecretCommand,
  DeleteSecretCommand,
  GetSecretValueCommand,
} from "@aws-sdk/client-secrets-manager";
import { type Emulator, startEmulator } from "@granit/aws-iot-emulator";
import { ALL_TENANTS, type ReadinessGate, uuidv7 } from "@granit/iot";
import {
  AwsCredentialsNotReadyError,
  AwsThingBinding,
  type AwsThingBindingStore,
  ThingName,
} from "@granit/iot-aws";
import type { PostgresAwsThingBindingStore } from "@granit/iot-aws-postgres";
import { BindingBusyError, secretNameOf, ThingNameTakenError } from "@granit/iot-aws-provisioning";
import { databaseTargets } from "@granit/iot-postgres/testing";
import { Pkcs10CertificateRequest } from "./support/csr.ts";
import { createDevicePolicy, type Environment, openEnvironment } from "./support/environment.ts";
import { assertProvisioned, resourcesOf } from "./support/inventory.ts";
import { KEY_MATERIAL_MARKERS } from "./support/logs.ts";
import { buildStack, POLICY_NAME, TENANT_A } from "./support/stack.ts";

let emulator: Emulator;
before(async () => {
  emulator = await startEmulator({ port: 0, detachPropagationMs: 30 });
});
after(() => emulator.stop());

/** The store with one method replaced; every other one is the real store's. */
function replacing<K extends keyof AwsThingBindingStore>(
  store: PostgresAwsThingBindingStore,
  name: K,
  replacement: AwsThingBindingStore[K],
): AwsThingBindingStore {
  return new Proxy(store, {
    get(target, property) {
      if (property === name) return replacement;
      const value = Reflect.get(target, property, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

/** The store, except that writes reaching `status` are lost (the commit never lands). */
function losingWritesTo(store: PostgresAwsThingBindingStore, status: string): AwsThingBindingStore {
  return replacing(store, "update", async (binding, scope) => {
    if (binding.provisioningStatus === status) throw new Error("Connection terminated unexpectedly");
    return store.update(binding, scope);
  });
}

async function publishedEvents(env: Environment, type: string): Promise<number> {
  const [row] = await env.tdb.database.execute<{ n: number }>(
    "SELECT count(*)::int AS n FROM iot_bus_deliveries WHERE event_type = $1",
    [type],
  );
  return row?.n ?? 0;
}

for (const target of databaseTargets()) {
  describe(`provisioning saga on ${target.name}`, { skip: target.skip }, () => {
    let env: Environment;
    let serial = 0;
    const nextSerial = () => `SAGA-${++serial}`;
    const expected = (thingName: string) => ({
      thingName,
      secretName: secretNameOf(env.stack.options.secretNameTemplate, thingName),
      policyName: POLICY_NAME,
    });

    beforeEach(async () => {
      emulator.reset();
      emulator.setFaults([]);
      env = await openEnvironment(target, emulator);
      // Subscriptions make the bus keep the events the saga publishes, for the assertions below.
      env.stack.bus.subscribe("AwsThingProvisionedEvent", "test.recorder", async () => {});
      env.stack.bus.subscribe("AwsThingProvisioningRequestedEvent", "test.recorder", async () => {});
      await env.stack.bus.start();
      await env.stack.bus.stop();
      await createDevicePolicy(env.stack, emulator);
    });
    afterEach(async () => {
      assert.doesNotMatch(env.logs.text(), KEY_MATERIAL_MARKERS[0] as RegExp, "no PEM in any log line");
      assert.doesNotMatch(
        env.logs.text(),
        KEY_MATERIAL_MARKERS[1] as RegExp,
        "no private key in any log line",
      );
      await env.dispose();
    });

    it("provisions a device: one thing, one ACTIVE certificate with the policy, one secret whose key matches it", async () => {
      const device = await env.stack.addDevice(nextSerial());
      const thingName = ThingName.from(device.tenantId, device.serialNumber).value;

      const outcome = await env.stack.provisioning.provision(device.id);

      assert.equal(outcome, "activated");
      const view = await env.stack.provisioning.describeBinding(device.id, TENANT_A);
      assertProvisioned(emulator.inventory(), view, expected(thingName));
      assert.equal(
        await publishedEvents(env, "AwsThingProvisionedEvent"),
        1,
        "AwsThingProvisionedEvent committed with Active",
      );
      assert.equal(await env.metrics.sum("granit.iot.aws.thing.created", { tenant_id: TENANT_A }), 1);
      assert.equal(await env.metrics.sum("granit.iot.aws.certificate.issued", { source: "created" }), 1);
      assert.equal(await env.metrics.sum("granit.iot.aws.binding.activated", { tenant_id: TENANT_A }), 1);
      assert.ok(
        (await env.metrics.sum("granit.iot.aws.provisioning.step.duration", { step: "certificate" })) >= 1,
      );
      const transitions = env.logs.lines.filter((l) => l.fields.to !== undefined).map((l) => l.fields.to);
      assert.deepEqual(transitions, ["ThingCreated", "KeyEscrowed", "CertIssued", "SecretStored", "Active"]);
      assert.ok(
        env.logs.lines.every((l) => l.fields.deviceId === undefined || l.fields.deviceId === device.id),
      );
    });

    it("escrows a P-256 key and a valid PKCS#10 request for CN={thingName} signed by that key", async () => {
      const device = await env.stack.addDevice(nextSerial());
      const thingName = ThingName.from(device.tenantId, device.serialNumber).value;
      await env.stack.provisioning.provision(device.id);

      const secret = await env.stack.secrets.send(
        new GetSecretValueCommand({ SecretId: expected(thingName).secretName }),
      );
      const stored = JSON.parse(secret.SecretString ?? "{}") as {
        privateKeyPem: string;
        certificateSigningRequestPem: string;
      };
      const csr = new Pkcs10CertificateRequest(stored.certificateSigningRequestPem);
      assert.equal(csr.subject, `CN=${thingName}`);
      assert.equal(await csr.verify(), true, "the request's signature verifies with its own public key");
      const privateKey = createPrivateKey(stored.privateKeyPem);
      assert.equal(privateKey.asymmetricKeyDetails?.namedCurve, "prime256v1");
      assert.deepEqual(
        Buffer.from(csr.publicKey.rawData),
        createPublicKey(privateKey).export({ type: "spki", format: "der" }),
        "the request carries the escrowed key's public half",
      );
    });

    for (const { status, overlapped, leftAt } of [
      { status: "ThingCreated", overlapped: ["secretsmanager:CreateSecret"], leftAt: "Pending" },
      {
        status: "KeyEscrowed",
        overlapped: ["iot:CreateCertificateFromCsr", "iot:AttachThingPrincipal"],
        leftAt: "ThingCreated",
      },
      {
        status: "CertIssued",
        overlapped: ["secretsmanager:PutSecretValue", "iot:AttachPolicy"],
        leftAt: "KeyEscrowed",
      },
      {
        status: "SecretStored",
        overlapped: ["iot:AttachPolicy", "iot:UpdateCertificate"],
        leftAt: "CertIssued",
      },
    ]) {
      it(`replays to one set of resources when the ${status} commit that ${overlapped.join(" + ")} overlapped is lost`, async () => {
        const device = await env.stack.addDevice(nextSerial());
        const thingName = ThingName.from(device.tenantId, device.serialNumber).value;
        const lossy = buildStack({
          database: env.tdb.database,
          aws: emulator.clientConfig(),
          wrapBindings: (store) => losingWritesTo(store, status),
        });

        await assert.rejects(lossy.provisioning.provision(device.id), /Connection terminated/);

        for (const call of overlapped) assert.equal(emulator.callCounts()[call], 1, `${call} went out`);
        const left = await env.stack.bindings.findByDevice(device.id, TENANT_A);
        assert.equal(left?.provisioningStatus, leftAt, "the overlapped checkpoint never committed");
        const active = emulator.inventory().certificates.filter((c) => c.status === "ACTIVE");
        assert.equal(
          active.length,
          status === "SecretStored" ? 1 : 0,
          "UpdateCertificate ran iff overlapped",
        );
        assert.ok(
          active.every((c) => c.arn === left?.certificateArn),
          "an ACTIVE certificate is one the binding records",
        );

        assert.equal(await env.stack.provisioning.provision(device.id), "activated");
        assertProvisioned(
          emulator.inventory(),
          await env.stack.provisioning.describeBinding(device.id, TENANT_A),
          expected(thingName),
        );
        assert.equal(
          emulator.callCounts()["iot:CreateCertificateFromCsr"],
          1,
          "one certificate requested in all: the replay adopted it, or the lost run never asked",
        );
        assert.equal(emulator.callCounts()["secretsmanager:CreateSecret"], 1, "one key escrowed in all");
      });
    }

    it("commits the intent with ThingCreated, before the certificate is requested", async () => {
      const device = await env.stack.addDevice(nextSerial());
      const lossy = buildStack({
        database: env.tdb.database,
        aws: emulator.clientConfig(),
        wrapBindings: (store) => losingWritesTo(store, "KeyEscrowed"),
      });

      await assert.rejects(lossy.provisioning.provision(device.id), /Connection terminated/);

      const left = await env.stack.bindings.findByDevice(device.id, TENANT_A);
      assert.equal(left?.provisioningStatus, "ThingCreated");
      assert.ok(left?.certificateRequestedAt, "the intent is durable with the thing");
      const [requested] = emulator.calls().filter((c) => c.operation === "CreateCertificateFromCsr");
      assert.ok(requested, "CreateCertificateFromCsr went out");
      assert.ok(
        (left?.certificateRequestedAt?.getTime() ?? Number.POSITIVE_INFINITY) <= Date.parse(requested.at),
        "recorded before the request",
      );
    });

    it("resumes a binding left at ThingCreated without the intent: records it, then requests one certificate", async () => {
      const device = await env.stack.addDevice(nextSerial());
      const stopBeforeTheCertificate = buildStack({
        database: env.tdb.database,
        aws: emulator.clientConfig(),
        crashPoint: (point) => {
          if (point === "key:before-checkpoint") throw new Error("stopped after the escrow");
        },
      });
      await assert.rejects(stopBeforeTheCertificate.provisioning.provision(device.id), /after the escrow/);
      // What an earlier version of the saga left: ThingCreated without the intent, the key escrowed.
      await env.tdb.database.execute(
        "UPDATE iotaws_thing_bindings SET certificate_requested_at = NULL WHERE device_id = $1",
        [device.id],
      );
      assert.equal(
        (await env.stack.bindings.findByDevice(device.id, TENANT_A))?.provisioningStatus,
        "ThingCreated",
      );
      const before = emulator.callCounts()["iot:CreateCertificateFromCsr"] ?? 0;

      assert.equal(await env.stack.provisioning.provision(device.id), "activated");

      assert.equal(emulator.callCounts()["iot:CreateCertificateFromCsr"], before + 1);
      assert.equal(emulator.callCounts()["secretsmanager:CreateSecret"], 1, "the escrowed key reused");
      assert.equal(emulator.callCounts()["iot:ListCertificates"] ?? 0, 0, "no search: nothing to adopt");
      const thingName = ThingName.from(device.tenantId, device.serialNumber).value;
      assertProvisioned(
        emulator.inventory(),
        await env.stack.provisioning.describeBinding(device.id, TENANT_A),
        expected(thingName),
      );
    });

    it("makes no AWS call when the binding is already Active", async () => {
      const device = await env.stack.addDevice(nextSerial());
      await env.stack.provisioning.provision(device.id);
      const calls = emulator.calls().length;

      assert.equal(await env.stack.provisioning.provision(device.id), "already-active");

      assert.equal(emulator.calls().length, calls);
    });

    it("describes the thing first and never creates one that exists", async () => {
      const device = await env.stack.addDevice(nextSerial());
      const thingName = ThingName.from(device.tenantId, device.serialNumber).value;
      await env.stack.iot.send(new CreateThingCommand({ thingName }));

      await env.stack.provisioning.provision(device.id);

      assert.equal(emulator.callCounts()["iot:CreateThing"], 1, "only the test created it");
      assertProvisioned(
        emulator.inventory(),
        await env.stack.provisioning.describeBinding(device.id, TENANT_A),
        expected(thingName),
      );
    });

    it("runs one saga when two hosts get the same event at once; the other is told to retry", async () => {
      const device = await env.stack.addDevice(nextSerial());
      const other = buildStack({ database: await env.tdb.openAnother(), aws: emulator.clientConfig() });

      const results = await Promise.allSettled([
        env.stack.provisioning.provision(device.id),
        other.provisioning.provision(device.id),
      ]);

      const busy = results.filter((r) => r.status === "rejected");
      assert.ok(busy.every((r) => r.status === "rejected" && r.reason instanceof BindingBusyError));
      assert.equal(
        await other.provisioning.provision(device.id),
        "already-active",
        "the redelivery finds it done",
      );
      const thingName = ThingName.from(device.tenantId, device.serialNumber).value;
      assertProvisioned(
        emulator.inventory(),
        await env.stack.provisioning.describeBinding(device.id, TENANT_A),
        expected(thingName),
      );
      assert.equal(emulator.callCounts()["iot:CreateCertificateFromCsr"], 1);
    });

    it("ignores a device deleted before its event was delivered, without any AWS call", async () => {
      const callsBefore = emulator.calls().length;

      const outcome = await env.stack.provisioning.provision(uuidv7());

      assert.equal(outcome, "device-gone");
      assert.equal(emulator.calls().length, callsBefore);
      assert.ok(env.logs.lines.some((l) => /nothing to provision/.test(l.message)));
    });

    it("reserves nothing, and makes no AWS call, for a device decommissioned after the saga read it", async () => {
      const device = await env.stack.addDevice(nextSerial());
      // The saga reads the device while it takes the lock; a decommission (teardown included) that
      // completes in between must still stop it: the reservation re-checks the device under the lock.
      const racing = buildStack({
        database: env.tdb.database,
        aws: emulator.clientConfig(),
        wrapBindings: (store) =>
          replacing(store, "reserve", async (binding) => {
            const stored = await env.stack.devices.findById(device.id, TENANT_A);
            stored?.decommission({ at: new Date(), by: "operator" });
            if (stored) await env.stack.devices.update(stored);
            return store.reserve(binding);
          }),
      });
      const callsBefore = emulator.calls().length;

      assert.equal(await racing.provisioning.provision(device.id), "device-gone");

      assert.equal(emulator.calls().length, callsBefore, "no AWS call");
      assert.equal(await env.stack.bindings.findByDevice(device.id, ALL_TENANTS), null, "nothing reserved");
    });

    it("refuses, retryably and without any AWS call, a thing name another device's binding still holds", async () => {
      const device = await env.stack.addDevice(nextSerial());
      const thingName = ThingName.from(device.tenantId, device.serialNumber);
      // A device with the same serial, deleted while its decommission has not run yet.
      await env.stack.bindings.add(
        AwsThingBinding.create(
          { deviceId: uuidv7(), tenantId: device.tenantId, thingName },
          { at: new Date(), by: "earlier device" },
        ),
      );
      const callsBefore = emulator.calls().length;

      await assert.rejects(env.stack.provisioning.provision(device.id), (error: unknown) => {
        assert.ok(error instanceof ThingNameTakenError);
        assert.equal(error.retryable, true);
        assert.equal(error.thingName, thingName.value);
        return true;
      });

      assert.equal(emulator.calls().length, callsBefore, "no AWS call");
      assert.equal(await env.stack.bindings.findByDevice(device.id, TENANT_A), null, "nothing reserved");
    });

    it("leaves a binding created by fleet provisioning alone", async () => {
      const device = await env.stack.addDevice(nextSerial());
      const thingName = ThingName.from(device.tenantId, device.serialNumber);
      await env.stack.bindings.add(
        AwsThingBinding.createForJitp(
          {
            deviceId: device.id,
            tenantId: device.tenantId,
            thingName,
            thingArn: `arn:aws:iot:us-east-1:000000000000:thing/${thingName.value}`,
            certificateArn: `arn:aws:iot:us-east-1:000000000000:cert/${"a".repeat(64)}`,
            certificateSecretArn: "arn:aws:secretsmanager:us-east-1:000000000000:secret:placeholder-AbC123",
          },
          { at: new Date(), by: "fleet" },
        ),
      );

      const callsBefore = emulator.calls().length;

      assert.equal(await env.stack.provisioning.provision(device.id), "already-active");
      assert.equal(emulator.calls().length, callsBefore);
    });

    it("marks the binding Failed with an actionable reason when the device policy is missing, and resumes from the checkpoint after an operator retry", async () => {
      emulator.reset(); // no device policy in the account
      const device = await env.stack.addDevice(nextSerial());

      assert.equal(await env.stack.provisioning.provision(device.id), "failed");

      const failed = await env.stack.provisioning.describeBinding(device.id, TENANT_A);
      assert.equal(failed?.status, "Failed");
      assert.equal(failed?.failedFromStatus, "SecretStored");
      assert.match(failed?.failureReason ?? "", new RegExp(`IoT policy '${POLICY_NAME}' does not exist`));
      assert.match(failed?.failureReason ?? "", /ensureDevicePolicy/);
      assert.equal(await env.metrics.sum("granit.iot.aws.provisioning.failed", { step: "SecretStored" }), 1);
      assert.equal(
        await env.stack.provisioning.provision(device.id),
        "failed",
        "a redelivery waits for the operator",
      );

      await createDevicePolicy(env.stack, emulator);
      const retried = await env.stack.provisioning.retryProvisioning(device.id, {
        tenant: TENANT_A,
        actor: "ops",
      });
      assert.equal(retried.status, "SecretStored");
      assert.equal(await publishedEvents(env, "AwsThingProvisioningRequestedEvent"), 1);
      assert.equal(await env.stack.provisioning.provision(device.id), "activated");

      const thingName = ThingName.from(device.tenantId, device.serialNumber).value;
      assertProvisioned(
        emulator.inventory(),
        await env.stack.provisioning.describeBinding(device.id, TENANT_A),
        expected(thingName),
      );
      assert.equal(emulator.callCounts()["iot:CreateThing"], 1, "the thing was not made again");
      assert.equal(
        emulator.callCounts()["iot:CreateCertificateFromCsr"],
        1,
        "the certificate was not made again",
      );
    });

    it("refuses an operator retry of a binding that is not Failed, and of another tenant's binding", async () => {
      const device = await env.stack.addDevice(nextSerial());
      await env.stack.provisioning.provision(device.id);

      await assert.rejects(
        env.stack.provisioning.retryProvisioning(device.id, { tenant: TENANT_A, actor: "ops" }),
        { name: "InvalidStatusTransitionError" },
      );
      await assert.rejects(
        env.stack.provisioning.retryProvisioning(device.id, { tenant: null, actor: "ops" }),
        { name: "EntityNotFoundError" },
      );
    });

    it("sends nothing while the credential gate is closed and keeps the binding at its checkpoint", async () => {
      let open = false;
      const gate: ReadinessGate = { name: "aws-credentials", isReady: () => open };
      const gated = buildStack({
        database: env.tdb.database,
        aws: emulator.clientConfig(),
        credentials: gate,
      });
      const device = await gated.addDevice(nextSerial());
      const callsBefore = emulator.calls().length;

      await assert.rejects(gated.provisioning.provision(device.id), AwsCredentialsNotReadyError);

      assert.equal(emulator.calls().length, callsBefore, "no request reached AWS");
      assert.equal(
        (await gated.bindings.findByDevice(device.id, ALL_TENANTS))?.provisioningStatus,
        "Pending",
      );
      open = true;
      assert.equal(await gated.provisioning.provision(device.id), "activated");
    });

    it("absorbs throttling and HTTP 500 on every operation without marking the binding Failed", async () => {
      const devices = await Promise.all([1, 2, 3, 4].map(() => env.stack.addDevice(nextSerial())));
      emulator.setFaults([
        { operation: "*", kind: "throttle", probability: 0.3 },
        { operation: "*", kind: "error500", probability: 0.1 },
      ]);

      for (const device of devices)
        assert.equal(await env.stack.provisioning.provision(device.id), "activated");

      emulator.setFaults([]);
      const inventory = emulator.inventory();
      for (const device of devices) {
        const thingName = ThingName.from(device.tenantId, device.serialNumber).value;
        assertProvisioned(
          inventory,
          await env.stack.provisioning.describeBinding(device.id, TENANT_A),
          expected(thingName),
        );
      }
      assert.equal(inventory.certificates.length, devices.length, "no stray certificate");
    });

    it("looks for the certificate instead of asking again when CreateCertificateFromCsr answers 500", async () => {
      const device = await env.stack.addDevice(nextSerial());
      emulator.setFaults([{ operation: "CreateCertificateFromCsr", kind: "error500", count: 1 }]);

      assert.equal(await env.stack.provisioning.provision(device.id), "activated");

      assert.ok(env.logs.lines.some((l) => /outcome unknown/.test(l.message)));
      assert.ok((emulator.callCounts()["iot:ListCertificates"] ?? 0) >= 1, "searched before minting");
      const thingName = ThingName.from(device.tenantId, device.serialNumber).value;
      assertProvisioned(
        emulator.inventory(),
        await env.stack.provisioning.describeBinding(device.id, TENANT_A),
        expected(thingName),
      );
    });

    it("takes over a leftover secret of an earlier device with the same thing name", async () => {
      const device = await env.stack.addDevice(nextSerial());
      const thingName = ThingName.from(device.tenantId, device.serialNumber).value;
      const secretName = secretNameOf(env.stack.options.secretNameTemplate, thingName);
      await env.stack.secrets.send(
        new CreateSecretCommand({ Name: secretName, SecretString: '{"left":"over"}' }),
      );

      assert.equal(await env.stack.provisioning.provision(device.id), "activated");

      assertProvisioned(
        emulator.inventory(),
        await env.stack.provisioning.describeBinding(device.id, TENANT_A),
        expected(thingName),
      );
      assert.equal(emulator.callCounts()["secretsmanager:CreateSecret"], 1, "only the test created a secret");
    });

    it("fails with an actionable reason when the secret name is held by a secret scheduled for deletion", async () => {
      const device = await env.stack.addDevice(nextSerial());
      const thingName = ThingName.from(device.tenantId, device.serialNumber).value;
      const secretName = secretNameOf(env.stack.options.secretNameTemplate, thingName);
      await env.stack.secrets.send(new CreateSecretCommand({ Name: secretName, SecretString: "{}" }));
      await env.stack.secrets.send(
        new DeleteSecretCommand({ SecretId: secretName, RecoveryWindowInDays: 7 }),
      );

      assert.equal(await env.stack.provisioning.provision(device.id), "failed");

      const view = await env.stack.provisioning.describeBinding(device.id, TENANT_A);
      assert.equal(view?.failedFromStatus, "ThingCreated");
      assert.match(view?.failureReason ?? "", /scheduled for deletion/);
      assert.match(view?.failureReason ?? "", /RestoreSecret/);
      assert.equal(resourcesOf(emulator.inventory(), thingName, secretName).certificates.length, 0);
    });

    it("never shows key material in the binding view or a failure reason", async () => {
      const device = await env.stack.addDevice(nextSerial());
      await env.stack.provisioning.provision(device.id);

      const view = JSON.stringify(await env.stack.provisioning.describeBinding(device.id, TENANT_A));

      for (const marker of KEY_MATERIAL_MARKERS) assert.doesNotMatch(view, marker);
      assert.match(view, /certificateSecretArn/);
    });
  });
}
