/**
 * Granit → AWS: lifecycle events pushed to the classic shadow, against the emulator with the real
 * `IoTDataPlaneClient` and a real database.
 */
import assert from "node:assert/strict";
import { after, before, beforeEach, describe, it } from "node:test";
import { GetThingShadowCommand, ResourceNotFoundException } from "@aws-sdk/client-iot-data-plane";
import type { DeviceActivatedEvent, DeviceReactivatedEvent, DeviceSuspendedEvent } from "@granit/iot";
import { databaseTargets } from "@granit/iot-postgres/testing";
import {
  activeBinding,
  change,
  components,
  deviceOf,
  gate,
  hookedDataClient,
  lifecycle,
  openWorld,
  readShadow,
  resetWorld,
  TENANT_A,
  updateShadow,
  type World,
} from "./support/world.ts";

for (const target of databaseTargets()) {
  describe(`lifecycle status pushed to the shadow (emulator, ${target.name})`, { skip: target.skip }, () => {
    let world: World;
    before(async () => {
      world = await openWorld(target);
    });
    beforeEach(() => resetWorld(world));
    after(() => world?.dispose());

    it("reports Active on activation, Suspended on suspension and Active on reactivation", async () => {
      const { push, testMetrics } = components(world);
      const binding = await activeBinding(world);
      const device = deviceOf(world, binding);
      const thing = binding.thingName.value;

      await world.scheduler.advance(1000);
      const activated = lifecycle<DeviceActivatedEvent>(world, device, "activate");
      assert.equal((await push.handle(activated)).pushed, true);
      const first = await readShadow(world, thing);
      assert.deepEqual(first.state.reported, {
        status: "Active",
        updatedAt: world.clock.now().toISOString(),
      });

      await world.scheduler.advance(1000);
      await push.handle(lifecycle<DeviceSuspendedEvent>(world, device, "suspend"));
      assert.equal((await readShadow(world, thing)).state.reported.status, "Suspended");

      await world.scheduler.advance(1000);
      const reactivated = lifecycle<DeviceReactivatedEvent>(world, device, "reactivate");
      await push.handle(reactivated);
      const last = await readShadow(world, thing);
      assert.deepEqual(last.state.reported, { status: "Active", updatedAt: world.clock.now().toISOString() });

      const stored = await world.bindings.findByDevice(binding.deviceId, TENANT_A);
      assert.equal(stored?.lastShadowReportedAt?.toISOString(), last.state.reported.updatedAt);
      assert.equal(stored?.shadowReportedDeviceVersion, reactivated.deviceVersion);
      assert.equal(await testMetrics.sum("granit.iot.aws.shadow.pushes", { tenant_id: TENANT_A }), 3);
      assert.equal(await testMetrics.sum("granit.iot.aws.shadow.pushes", { status: "Suspended" }), 1);
    });

    it("never pushes for a Failed or a Decommissioned binding, nor for a device without one", async () => {
      const { push, testMetrics } = components(world);
      const failed = await activeBinding(world);
      failed.markFailed("certificate revoked out of band", change(world));
      await world.bindings.update(failed);
      const decommissioned = await activeBinding(world);
      decommissioned.markDecommissioned(change(world));
      await world.bindings.update(decommissioned);
      const unbound = await activeBinding(world);
      await world.bindings.softDelete(unbound, change(world));

      for (const binding of [failed, decommissioned, unbound]) {
        const event = lifecycle<DeviceActivatedEvent>(world, deviceOf(world, binding), "activate");
        const result = await push.handle(event);
        assert.equal(result.pushed, false);
        await assert.rejects(
          world.data.send(new GetThingShadowCommand({ thingName: binding.thingName.value })),
          ResourceNotFoundException,
          "no shadow was written",
        );
      }
      assert.equal(await testMetrics.sum("granit.iot.aws.shadow.push.skipped", { reason: "not_active" }), 2);
      assert.equal(await testMetrics.sum("granit.iot.aws.shadow.push.skipped", { reason: "no_binding" }), 1);
      assert.deepEqual(
        world.emulator?.calls().filter((c) => c.service === "iotdata" && c.operation === "UpdateThingShadow"),
        [],
      );
    });

    it("skips an older event redelivered after a newer one: the shadow stays Suspended", async () => {
      const { push, testMetrics } = components(world);
      const binding = await activeBinding(world);
      const device = deviceOf(world, binding);
      const activated = lifecycle<DeviceActivatedEvent>(world, device, "activate");
      await world.scheduler.advance(1000);
      const suspended = lifecycle<DeviceSuspendedEvent>(world, device, "suspend");
      await push.handle(suspended); // the newer event arrives first
      const before = await readShadow(world, binding.thingName.value);

      assert.deepEqual(await push.handle(activated), { pushed: false, reason: "stale" });
      const after = await readShadow(world, binding.thingName.value);
      assert.equal(after.state.reported.status, "Suspended");
      assert.equal(after.version, before.version, "the shadow was not written at all");
      assert.equal(await testMetrics.sum("granit.iot.aws.shadow.push.skipped", { reason: "stale" }), 1);
    });

    it("does not write the shadow again when the same event is redelivered", async () => {
      const { push } = components(world);
      const binding = await activeBinding(world);
      const activated = lifecycle<DeviceActivatedEvent>(world, deviceOf(world, binding), "activate");
      await push.handle(activated);
      const before = await readShadow(world, binding.thingName.value);
      await world.scheduler.advance(5000);
      assert.deepEqual(await push.handle(activated), { pushed: false, reason: "already_reported" });
      assert.equal((await readShadow(world, binding.thingName.value)).version, before.version);
    });

    it("pushes on redelivery after a crash between recording the event and writing the shadow", async () => {
      const { push } = components(world);
      const binding = await activeBinding(world);
      const activated = lifecycle<DeviceActivatedEvent>(world, deviceOf(world, binding), "activate");
      // The crashed attempt got as far as the claim: the binding says "reported", the shadow has nothing.
      const claimedAt = world.clock.now();
      binding.recordShadowReported(activated.deviceVersion, { at: claimedAt, by: "granit.iot.aws.shadow" });
      await world.bindings.update(binding);
      await world.scheduler.advance(3000);

      const result = await push.handle(activated);
      assert.equal(result.pushed, true);
      assert.deepEqual((await readShadow(world, binding.thingName.value)).state.reported, {
        status: "Active",
        updatedAt: claimedAt.toISOString(),
      });
    });

    it("retries a 409 version conflict after a fresh read, keeping what the device wrote meanwhile", async () => {
      const binding = await activeBinding(world);
      const thing = binding.thingName.value;
      await updateShadow(world, thing, { reported: { temperature: 20 } });
      let raced = false;
      const client = hookedDataClient(world.data, {
        async before(operation) {
          if (operation === "UpdateThingShadow" && !raced) {
            raced = true; // the device reports between our read and our write
            await updateShadow(world, thing, { reported: { temperature: 21 } });
          }
        },
      });
      const { push } = components(world, {}, client);
      const result = await push.handle(
        lifecycle<DeviceActivatedEvent>(world, deviceOf(world, binding), "activate"),
      );

      assert.equal(result.pushed, true);
      const shadow = await readShadow(world, thing);
      assert.deepEqual(shadow.state.reported, {
        temperature: 21,
        status: "Active",
        updatedAt: world.clock.now().toISOString(),
      });
      const updates = (world.emulator?.calls() ?? []).filter((c) => c.operation === "UpdateThingShadow");
      assert.deepEqual(
        updates.map((c) => c.error ?? c.status),
        [200, 200, "ConflictException", 200],
        "seed, device, our conflicting write, our retry",
      );
    });

    for (const moment of [
      "after its read",
      "just before its write",
      "after finding no shadow yet",
    ] as const) {
      it(`lets the newer of two concurrent pushes win when the older one pauses ${moment}`, async () => {
        const binding = await activeBinding(world);
        const thing = binding.thingName.value;
        const device = deviceOf(world, binding);
        const activated = lifecycle<DeviceActivatedEvent>(world, device, "activate");
        if (moment !== "after finding no shadow yet") await components(world).push.handle(activated);
        await world.scheduler.advance(1000);
        const suspended = lifecycle<DeviceSuspendedEvent>(world, device, "suspend");
        await world.scheduler.advance(1000);
        const reactivated = lifecycle<DeviceReactivatedEvent>(world, device, "reactivate");

        const paused = gate();
        const resume = gate();
        let held = false;
        const hold = async () => {
          if (held) return;
          held = true;
          paused.open();
          await resume.wait;
        };
        const slowHost = components(
          world,
          {},
          hookedDataClient(world.data, {
            after: (operation) =>
              moment === "after its read" && operation === "GetThingShadow" ? hold() : undefined,
            before: (operation, input) => {
              if (operation !== "UpdateThingShadow") return;
              const body = new TextDecoder().decode(input.payload as Uint8Array);
              const creating = body === '{"state":{"reported":{}}}'; // the older one found no shadow
              if (moment === "after finding no shadow yet" ? creating : moment === "just before its write") {
                return hold();
              }
            },
          }),
        );
        const older = slowHost.push.handle(suspended);
        await paused.wait;
        const newer = await components(world).push.handle(reactivated); // another host, running through
        resume.open();

        assert.equal(newer.pushed, true);
        assert.deepEqual(await older, { pushed: false, reason: "superseded" });
        assert.equal((await readShadow(world, thing)).state.reported.status, "Active");
      });
    }

    it("pushes nothing when AutoPushLifecycleStatus is off", async () => {
      const { push, testMetrics } = components(world, { autoPushLifecycleStatus: false });
      const binding = await activeBinding(world);
      assert.deepEqual(
        await push.handle(lifecycle<DeviceActivatedEvent>(world, deviceOf(world, binding), "activate")),
        { pushed: false, reason: "disabled" },
      );
      assert.equal(await testMetrics.sum("granit.iot.aws.shadow.push.skipped", { reason: "disabled" }), 1);
      assert.equal(
        (await world.bindings.findByDevice(binding.deviceId, TENANT_A))?.shadowReportedDeviceVersion,
        null,
      );
    });

    it("fails the delivery and counts it when AWS keeps failing, then succeeds on redelivery", async () => {
      const { push, testMetrics } = components(world);
      const binding = await activeBinding(world);
      const activated = lifecycle<DeviceActivatedEvent>(world, deviceOf(world, binding), "activate");
      world.emulator?.setFaults([
        { service: "iotdata", operation: "UpdateThingShadow", kind: "error500", count: 1 },
      ]);

      await assert.rejects(push.handle(activated), { name: "AwsCallRetriesExhaustedError" });
      assert.equal(
        await testMetrics.sum("granit.iot.aws.shadow.push.failures", {
          tenant_id: TENANT_A,
          error_type: "AwsCallRetriesExhaustedError",
        }),
        1,
      );
      assert.equal((await push.handle(activated)).pushed, true, "the bus redelivers; the fault is gone");
      assert.equal((await readShadow(world, binding.thingName.value)).state.reported.status, "Active");
    });
  });
}
