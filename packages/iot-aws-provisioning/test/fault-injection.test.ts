/**
 * Fault injection: 10 % throttling and 2 % HTTP 500 on every AWS operation while 200 devices are
 * provisioned through the durable bus → all 200 Active, none Failed, nothing dead-lettered, no
 * stray certificate. Throttling is absorbed by the call policy (and, past its budget, by the bus
 * redelivering); a 500 on CreateCertificateFromCsr is answered by a search, never a blind retry.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { type Emulator, startEmulator } from "@granit/aws-iot-emulator";
import { ThingName } from "@granit/iot-aws";
import { secretNameOf } from "@granit/iot-aws-provisioning";
import { databaseTargets } from "@granit/iot-postgres/testing";
import { createDevicePolicy, type Environment, openEnvironment } from "./support/environment.ts";
import { assertProvisioned } from "./support/inventory.ts";
import { POLICY_NAME, TENANT_A, TENANT_B } from "./support/stack.ts";

const DEVICES = 200;

let emulator: Emulator;
before(async () => {
  emulator = await startEmulator({ port: 0, detachPropagationMs: 30 });
});
after(() => emulator.stop());

for (const target of databaseTargets()) {
  describe(`fault injection on ${target.name}: 10 % throttling + 2 % HTTP 500 on every operation`, {
    skip: target.skip,
  }, () => {
    let env: Environment;
    before(async () => {
      emulator.reset();
      emulator.setFaults([]);
      env = await openEnvironment(target, emulator, {
        register: true,
        bus: { concurrency: 16, leaseMs: 30_000 },
      });
      await createDevicePolicy(env.stack, emulator);
    });
    after(() => env.dispose());

    it(`provisions all ${DEVICES} devices, none Failed`, async () => {
      await env.stack.bus.start();
      emulator.setFaults([
        { operation: "*", kind: "throttle", probability: 0.1 },
        { operation: "*", kind: "error500", probability: 0.02 },
      ]);
      const devices = [];
      for (let i = 0; i < DEVICES; i++) {
        devices.push(
          await env.stack.addDevice(`FAULT-${String(i).padStart(3, "0")}`, i % 2 ? TENANT_A : TENANT_B),
        );
      }

      await env.stack.bus.drain(120_000);

      emulator.setFaults([]);
      const failures = emulator
        .calls()
        .filter(
          (c) => c.status >= 400 && /Throttling|InternalFailure|InternalServiceError/.test(c.error ?? ""),
        );
      const inventory = emulator.inventory();
      for (const device of devices) {
        const thingName = ThingName.from(device.tenantId, device.serialNumber).value;
        assertProvisioned(
          inventory,
          await env.stack.provisioning.describeBinding(device.id, device.tenantId),
          {
            thingName,
            secretName: secretNameOf(env.stack.options.secretNameTemplate, thingName),
            policyName: POLICY_NAME,
          },
        );
      }
      assert.equal(inventory.certificates.length, DEVICES, "no stray certificate");
      assert.deepEqual(await env.stack.bus.deadLetters(), []);
      assert.equal(await env.metrics.sum("granit.iot.aws.provisioning.failed"), 0);
      assert.equal(
        await env.metrics.sum("granit.iot.aws.binding.activated", { tenant_id: TENANT_A }),
        DEVICES / 2,
      );
      const total = Object.values(emulator.callCounts()).reduce((a, b) => a + b, 0);
      console.log(`# ${total} AWS calls, ${failures.length} of them answered with an injected fault`);
      assert.ok(failures.length > DEVICES / 2, "faults were injected");
    });
  });
}
