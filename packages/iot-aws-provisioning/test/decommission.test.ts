/**
 * Decommission from every binding state (including half-provisioned states left by a crash, and
 * Failed), twice in a row, and after a crash half-way through the teardown: afterwards the account
 * holds nothing of the device and the binding is Decommissioned and soft-deleted.
 */
import assert from "node:assert/strict";
import { after, afterEach, before, beforeEach, describe, it } from "node:test";
import { type Emulator, startEmulator } from "@granit/aws-iot-emulator";
import { ALL_TENANTS } from "@granit/iot";
import { ThingName } from "@granit/iot-aws";
import { type CrashPoint, type CrashPointName, secretNameOf } from "@granit/iot-aws-provisioning";
import { databaseTargets } from "@granit/iot-postgres/testing";
import { createDevicePolicy, type Environment, openEnvironment } from "./support/environment.ts";
import { assertGone, assertProvisioned, resourcesOf } from "./support/inventory.ts";
import { buildStack, POLICY_NAME, TENANT_A } from "./support/stack.ts";

class SimulatedCrash extends Error {
  override readonly name = "SimulatedCrash";
}

/** A crash hook that stops the run (like a dying process) at `point` of the armed device. */
function crashHook(): { hook: CrashPoint; arm: (point: CrashPointName, deviceId: string) => void } {
  let armed: { point: CrashPointName; deviceId: string } | null = null;
  return {
    hook: (point, deviceId) => {
      if (armed && armed.point === point && armed.deviceId === deviceId) {
        armed = null;
        throw new SimulatedCrash(point);
      }
    },
    arm: (point, deviceId) => {
      armed = { point, deviceId };
    },
  };
}

/** The states a binding can be left in, and the crash point (or setup) that leaves it there. */
const STATES: readonly { readonly state: string; readonly crash?: CrashPointName; readonly failed?: true }[] =
  [
    { state: "Pending (nothing in AWS)", crash: "reserve:after-checkpoint" },
    { state: "Pending with its thing created", crash: "thing:before-checkpoint" },
    { state: "ThingCreated", crash: "thing:after-checkpoint" },
    { state: "ThingCreated with the key escrowed", crash: "key:before-checkpoint" },
    { state: "KeyEscrowed", crash: "key:after-checkpoint" },
    { state: "KeyEscrowed with the intent recorded", crash: "certificate:after-intent" },
    { state: "KeyEscrowed with an unattached INACTIVE certificate", crash: "certificate:after-create" },
    { state: "KeyEscrowed with the certificate attached", crash: "certificate:before-checkpoint" },
    { state: "CertIssued", crash: "certificate:after-checkpoint" },
    { state: "SecretStored", crash: "secret:after-checkpoint" },
    { state: "SecretStored with an ACTIVE certificate", crash: "activate:before-checkpoint" },
    { state: "Active" },
    { state: "Failed", failed: true },
  ];

let emulator: Emulator;
/** While set, the emulator's clock stands still, so a detach cannot propagate whatever the wall time. */
let frozenAt: Date | null = null;
before(async () => {
  emulator = await startEmulator({ port: 0, detachPropagationMs: 40, clock: () => frozenAt ?? new Date() });
});
after(() => emulator.stop());

for (const target of databaseTargets()) {
  describe(`decommission on ${target.name}`, { skip: target.skip }, () => {
    let env: Environment;
    const crashes = crashHook();
    let serial = 0;
    const names = (device: { tenantId: string | null; serialNumber: string }) => {
      const thingName = ThingName.from(device.tenantId, device.serialNumber).value;
      return { thingName, secretName: secretNameOf(env.stack.options.secretNameTemplate, thingName) };
    };
    const storedRow = async (deviceId: string) =>
      (
        await env.tdb.database.execute<{ provisioning_status: string; deleted: boolean }>(
          "SELECT provisioning_status, deleted_at IS NOT NULL AS deleted FROM iotaws_thing_bindings WHERE device_id = $1",
          [deviceId],
        )
      )[0];

    beforeEach(async () => {
      emulator.reset();
      env = await openEnvironment(target, emulator, { crashPoint: crashes.hook });
      env.stack.bus.subscribe("AwsThingDecommissionedEvent", "test.recorder", async () => {});
      await env.stack.bus.start();
      await env.stack.bus.stop();
      await createDevicePolicy(env.stack, emulator);
    });
    afterEach(() => env.dispose());

    for (const { state, crash, failed } of STATES) {
      it(`tears down a device whose binding is ${state}, and a second decommission changes nothing`, async () => {
        const device = await env.stack.addDevice(`DECOM-${++serial}`);
        const { thingName, secretName } = names(device);
        if (crash) {
          crashes.arm(crash, device.id);
          await assert.rejects(env.stack.provisioning.provision(device.id), SimulatedCrash);
        } else if (failed) {
          const noPolicy = buildStack({
            database: env.tdb.database,
            aws: emulator.clientConfig(),
            provisioning: { DevicePolicyName: "policy-nobody-created" },
          });
          assert.equal(await noPolicy.provisioning.provision(device.id), "failed");
        } else {
          assert.equal(await env.stack.provisioning.provision(device.id), "activated");
        }

        assert.equal(await env.stack.provisioning.decommission(device.id), "decommissioned");

        assertGone(emulator.inventory(), thingName, secretName);
        assert.equal(
          await env.stack.bindings.findByDevice(device.id, ALL_TENANTS),
          null,
          "binding soft-deleted",
        );
        assert.deepEqual(await storedRow(device.id), {
          provisioning_status: "Decommissioned",
          deleted: true,
        });
        const [events] = await env.tdb.database.execute<{ n: number }>(
          "SELECT count(*)::int AS n FROM iot_bus_deliveries WHERE event_type = 'AwsThingDecommissionedEvent'",
        );
        assert.equal(events?.n, 1, "AwsThingDecommissionedEvent committed with the binding");
        assert.equal(
          await env.metrics.sum("granit.iot.aws.binding.decommissioned", { tenant_id: TENANT_A }),
          1,
        );

        const calls = emulator.calls().length;
        assert.equal(await env.stack.provisioning.decommission(device.id), "no-binding");
        assert.equal(emulator.calls().length, calls, "the second decommission makes no AWS call");
        assertGone(emulator.inventory(), thingName, secretName);
      });
    }

    for (const point of [
      "decommission:after-detach",
      "decommission:after-delete-certificate",
      "decommission:after-delete-secret",
      "decommission:after-delete-thing",
    ] as const) {
      it(`finishes a teardown that crashed at ${point} when it is delivered again`, async () => {
        const device = await env.stack.addDevice(`DECOM-${++serial}`);
        const { thingName, secretName } = names(device);
        await env.stack.provisioning.provision(device.id);
        crashes.arm(point, device.id);

        await assert.rejects(env.stack.provisioning.decommission(device.id), SimulatedCrash);
        assert.equal(await env.stack.provisioning.decommission(device.id), "decommissioned");

        assertGone(emulator.inventory(), thingName, secretName);
        assert.deepEqual(await storedRow(device.id), {
          provisioning_status: "Decommissioned",
          deleted: true,
        });
      });
    }

    it("retries the deletes a detach has not yet released (AWS detaches asynchronously)", async () => {
      const device = await env.stack.addDevice(`DECOM-${++serial}`);
      const { thingName, secretName } = names(device);
      await env.stack.provisioning.provision(device.id);

      // Freeze the emulator's clock: the detach stays pending until the first refused delete is seen.
      frozenAt = new Date();
      const refusedDelete = () =>
        emulator.calls().some((c) => c.operation === "DeleteCertificate" && c.status >= 400);
      const teardown = env.stack.provisioning.decommission(device.id);
      try {
        while (!refusedDelete()) await new Promise((resolve) => setTimeout(resolve, 5));
      } finally {
        frozenAt = null;
      }
      assert.equal(await teardown, "decommissioned");

      const counts = emulator.callCounts();
      assert.ok((counts["iot:DeleteCertificate"] ?? 0) >= 2, JSON.stringify(counts));
      assertGone(emulator.inventory(), thingName, secretName);
    });

    it("has nothing to tear down for a device that never got a binding", async () => {
      const device = await env.stack.addDevice(`DECOM-${++serial}`);
      const calls = emulator.calls().length;

      assert.equal(await env.stack.provisioning.decommission(device.id), "no-binding");

      assert.equal(emulator.calls().length, calls);
    });

    it("keeps the secret recoverable for the configured window instead of deleting it at once", async () => {
      const windowed = buildStack({
        database: env.tdb.database,
        aws: emulator.clientConfig(),
        provisioning: { SecretRecoveryWindowInDays: 7 },
      });
      const device = await windowed.addDevice(`DECOM-${++serial}`);
      const { thingName, secretName } = names(device);
      await windowed.provisioning.provision(device.id);

      assert.equal(await windowed.provisioning.decommission(device.id), "decommissioned");

      const secret = emulator.inventory().secrets.find((s) => s.name === secretName);
      assert.ok(secret?.deletedDate, "scheduled for deletion, not gone");
      assertGone(emulator.inventory(), thingName, secretName);
    });

    it("leaves a certificate an operator attached alone, only detaching it", async () => {
      const device = await env.stack.addDevice(`DECOM-${++serial}`);
      const other = await env.stack.addDevice(`DECOM-${++serial}`);
      const { thingName } = names(device);
      await env.stack.provisioning.provision(device.id);
      await env.stack.provisioning.provision(other.id);
      const otherView = await env.stack.provisioning.describeBinding(other.id, TENANT_A);
      const { AttachThingPrincipalCommand } = await import("@aws-sdk/client-iot");
      await env.stack.iot.send(
        new AttachThingPrincipalCommand({ thingName, principal: otherView?.certificateArn ?? "" }),
      );

      await env.stack.provisioning.decommission(device.id);

      assertProvisioned(
        emulator.inventory(),
        await env.stack.provisioning.describeBinding(other.id, TENANT_A),
        {
          ...names(other),
          policyName: POLICY_NAME,
        },
      );
      assert.equal(resourcesOf(emulator.inventory(), thingName, "-").things.length, 0);
    });
  });
}
