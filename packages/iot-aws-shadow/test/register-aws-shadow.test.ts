/**
 * The wiring a host gets from `registerAwsShadow`, end to end on a running bus: a device activated
 * through the device store shows up in its shadow, a new Active binding is polled, and a desired
 * state set through the data plane reaches a subscriber of `DeviceDesiredStateChangedEvent`.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { DeviceDesiredStateChangedEvent } from "@granit/iot-aws";
import { TestMetrics } from "@granit/iot-aws/testing";
import { PostgresDeviceStore, PostgresMessageBus } from "@granit/iot-postgres";
import { databaseTargets } from "@granit/iot-postgres/testing";
import { AWS_SHADOW_HANDLERS, registerAwsShadow } from "../src/index.ts";
import {
  activeBinding,
  change,
  deviceOf,
  openWorld,
  provisioningDevice,
  readShadow,
  sagaMakesActive,
  TENANT_A,
  updateShadow,
} from "./support/world.ts";

async function until(done: () => boolean | Promise<boolean>, what: string): Promise<void> {
  for (let turn = 0; turn < 10_000; turn++) {
    if (await done()) return;
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
  assert.fail(`gave up waiting for ${what}`);
}

for (const target of databaseTargets()) {
  describe(`registerAwsShadow (${target.name})`, { skip: target.skip }, () => {
    it("pushes lifecycle statuses and publishes desired states through the bus it was given", async () => {
      const world = await openWorld(target);
      const bus = new PostgresMessageBus(world.tdb.database, { pollIntervalMs: 20 });
      const testMetrics = new TestMetrics("granit.iot.aws.shadow");
      const bindings = world.bindings;
      const devices = new PostgresDeviceStore(world.tdb.database, bus);
      const shadow = registerAwsShadow({
        bus,
        bindings,
        devices,
        syncState: world.syncState,
        unitOfWork: world.tdb.database,
        dataClient: world.data,
        callPolicy: world.policy,
        clock: world.clock,
        scheduler: world.scheduler,
        meter: testMetrics.meter,
      });
      const received: DeviceDesiredStateChangedEvent[] = [];
      bus.subscribe<DeviceDesiredStateChangedEvent>(
        "DeviceDesiredStateChangedEvent",
        "jobs.stand-in",
        async (e) => {
          received.push(e);
        },
      );
      await bus.start();
      try {
        const handlers = await world.tdb.database.execute<{ event_type: string; handler: string }>(
          "SELECT event_type, handler FROM iot_bus_subscriptions WHERE handler LIKE 'granit.iot.aws.shadow.%' ORDER BY 1, 2",
        );
        assert.deepEqual(
          handlers.map((h) => `${h.event_type} → ${h.handler}`),
          [
            `AwsThingProvisionedEvent → ${AWS_SHADOW_HANDLERS.provisionedStatus}`,
            `AwsThingProvisionedEvent → ${AWS_SHADOW_HANDLERS.syncState}`,
            `DeviceActivatedEvent → ${AWS_SHADOW_HANDLERS.lifecycle}`,
            `DeviceReactivatedEvent → ${AWS_SHADOW_HANDLERS.lifecycle}`,
            `DeviceSuspendedEvent → ${AWS_SHADOW_HANDLERS.lifecycle}`,
          ],
        );

        // An Active binding (its AwsThingProvisionedEvent goes through the bus) is tracked for polling.
        const binding = await activeBinding(world); // publishes into the shared outbox table
        await bus.drain();
        assert.equal((await world.syncState.find(binding.id))?.thingName, binding.thingName.value);

        // The device is activated through its own store: the event reaches the push handler.
        const device = deviceOf(world, binding);
        await devices.add(device);
        device.activate(change(world, "operator"));
        await devices.update(device);
        await bus.drain();
        assert.equal((await readShadow(world, binding.thingName.value)).state.reported.status, "Active");

        // An app sets a desired state; the background service publishes it; a subscriber gets it once.
        await updateShadow(world, binding.thingName.value, { desired: { firmware: "1.5.0" } });
        for (const service of shadow.backgroundServices) await service.start();
        await until(async () => {
          await bus.drain();
          return received.length > 0;
        }, "the desired-state event");
        for (const service of shadow.backgroundServices) await service.stop();
        assert.equal(received.length, 1);
        assert.deepEqual(received[0]?.delta, { firmware: "1.5.0" });
        assert.equal(received[0]?.tenantId, TENANT_A);
        assert.equal(await testMetrics.sum("granit.iot.aws.shadow.pushes", { tenant_id: TENANT_A }), 1);
        assert.equal(await testMetrics.sum("granit.iot.aws.shadow.deltas.published"), 1);
      } finally {
        await bus.stop();
        await world.dispose();
      }
    });

    it("pushes the status of a device activated before the saga made its binding Active", async () => {
      const world = await openWorld(target);
      const bus = new PostgresMessageBus(world.tdb.database, { pollIntervalMs: 20 });
      const testMetrics = new TestMetrics("granit.iot.aws.shadow");
      const devices = new PostgresDeviceStore(world.tdb.database, bus);
      registerAwsShadow({
        bus,
        bindings: world.bindings,
        devices,
        syncState: world.syncState,
        unitOfWork: world.tdb.database,
        dataClient: world.data,
        callPolicy: world.policy,
        clock: world.clock,
        scheduler: world.scheduler,
        meter: testMetrics.meter,
      });
      await bus.start();
      try {
        // Created and activated at once (the README's curl example): the binding is still Pending.
        const { device, binding, thing } = await provisioningDevice(world, devices);
        device.activate(change(world, "operator"));
        await devices.update(device);
        await bus.drain();
        assert.equal(
          await testMetrics.sum("granit.iot.aws.shadow.push.skipped", { reason: "not_active" }),
          1,
        );

        await sagaMakesActive(world, binding);
        await bus.drain();

        assert.equal((await readShadow(world, thing)).state.reported.status, "Active");
        assert.equal(await testMetrics.sum("granit.iot.aws.shadow.pushes", { status: "Active" }), 1);
      } finally {
        await bus.stop();
        await world.dispose();
      }
    });
  });
}
