/**
 * The catch-up push: when a binding becomes Active (`AwsThingProvisionedEvent`), the device's current
 * status reaches its shadow — also when its lifecycle event was handled (and skipped) while the
 * binding was still provisioning — ordered against the lifecycle events by device version. Against
 * the emulator with the real `IoTDataPlaneClient`, a real database and the real stores; "delivering"
 * an event means handing the handler the payload the bus stored in its outbox row.
 */
import assert from "node:assert/strict";
import { after, before, beforeEach, describe, it } from "node:test";
import { CreateThingCommand } from "@aws-sdk/client-iot";
import {
  GetThingShadowCommand,
  type IoTDataPlaneClient,
  ResourceNotFoundException,
} from "@aws-sdk/client-iot-data-plane";
import type { DeviceActivatedEvent, DeviceStore, DeviceSuspendedEvent, DomainEvent } from "@granit/iot";
import { Device } from "@granit/iot";
import { AwsThingBinding, type AwsThingProvisionedEvent, ThingName } from "@granit/iot-aws";
import { PostgresDeviceStore, PostgresMessageBus } from "@granit/iot-postgres";
import { databaseTargets } from "@granit/iot-postgres/testing";
import {
  AWS_SHADOW_HANDLERS,
  ProvisionedShadowPushHandler,
  SHADOW_LIFECYCLE_EVENT_TYPES,
  type ShadowLifecycleEvent,
  type ShadowPushResult,
} from "../src/index.ts";
import {
  change,
  components,
  gate,
  hookedDataClient,
  openWorld,
  provisioningDevice,
  readShadow,
  resetWorld,
  sagaMakesActive,
  TENANT_A,
  type World,
} from "./support/world.ts";

let jitpSerial = 0;

/** The events the bus stored for `handler` (its outbox rows), oldest first. */
async function outbox<E extends DomainEvent>(world: World, handler: string, type: E["type"]): Promise<E[]> {
  const rows = await world.tdb.database.execute<{ payload: E | string }>(
    "SELECT payload FROM iot_bus_deliveries WHERE handler = $1 AND event_type = $2 ORDER BY id",
    [handler, type],
  );
  return rows.map((r) => (typeof r.payload === "string" ? JSON.parse(r.payload) : r.payload));
}

async function provisionedEventOf(world: World, deviceId: string): Promise<AwsThingProvisionedEvent> {
  const events = await outbox<AwsThingProvisionedEvent>(
    world,
    AWS_SHADOW_HANDLERS.provisionedStatus,
    "AwsThingProvisionedEvent",
  );
  const event = events.find((e) => e.deviceId === deviceId);
  if (!event) throw new Error(`no AwsThingProvisionedEvent for ${deviceId} in the outbox`);
  return event;
}

async function lifecycleEventOf<E extends ShadowLifecycleEvent>(
  world: World,
  deviceId: string,
  type: E["type"],
): Promise<E> {
  const events = await outbox<E>(world, AWS_SHADOW_HANDLERS.lifecycle, type);
  const event = events.find((e) => e.deviceId === deviceId);
  if (!event) throw new Error(`no ${type} for ${deviceId} in the outbox`);
  return event;
}

/** The UpdateThingShadow calls of `thing` in the emulator's call log. */
function shadowWrites(world: World, thing: string): number {
  return (world.emulator?.calls() ?? []).filter(
    (c) => c.service === "iotdata" && c.operation === "UpdateThingShadow" && c.thingName === thing,
  ).length;
}

function skipped(result: ShadowPushResult): string | null {
  return result.pushed ? null : result.reason;
}

for (const target of databaseTargets()) {
  describe(`device status pushed when its binding becomes Active (emulator, ${target.name})`, {
    skip: target.skip,
  }, () => {
    let world: World;
    let devices: PostgresDeviceStore;

    /** The lifecycle push and the catch-up push on one push path, with fresh metrics (one host). */
    function host(dataClient: Pick<IoTDataPlaneClient, "send"> = world.data) {
      const built = components(world, {}, dataClient);
      const provisioned = new ProvisionedShadowPushHandler({
        devices,
        push: built.push,
        metrics: built.metrics,
      });
      return { ...built, provisioned };
    }

    before(async () => {
      world = await openWorld(target);
      devices = new PostgresDeviceStore(world.tdb.database, world.bus);
      // The shadow's subscriptions exist (outbox rows are written for them); no bus delivers them here.
      const bus = new PostgresMessageBus(world.tdb.database);
      for (const type of SHADOW_LIFECYCLE_EVENT_TYPES) {
        bus.subscribe(type, AWS_SHADOW_HANDLERS.lifecycle, async () => {});
      }
      bus.subscribe("AwsThingProvisionedEvent", AWS_SHADOW_HANDLERS.provisionedStatus, async () => {});
      await bus.start();
      await bus.stop();
    });
    beforeEach(() => resetWorld(world));
    after(() => world?.dispose());

    it("reports Active for a device activated while its binding was Pending, once the binding is Active", async () => {
      const { push, provisioned, testMetrics } = host();
      const { device, binding, thing } = await provisioningDevice(world, devices);
      device.activate(change(world, "operator"));
      await devices.update(device);
      const activated = await lifecycleEventOf<DeviceActivatedEvent>(
        world,
        device.id,
        "DeviceActivatedEvent",
      );
      assert.deepEqual(await push.handle(activated), { pushed: false, reason: "not_active" });

      await world.scheduler.advance(2000);
      await sagaMakesActive(world, binding);
      const result = await provisioned.handle(await provisionedEventOf(world, device.id));

      assert.equal(result.pushed, true);
      assert.deepEqual((await readShadow(world, thing)).state.reported, {
        status: "Active",
        updatedAt: world.clock.now().toISOString(),
      });
      const stored = await world.bindings.findByDevice(device.id, TENANT_A);
      assert.equal(stored?.shadowReportedDeviceVersion, device.version);
      assert.equal(await testMetrics.sum("granit.iot.aws.shadow.pushes", { status: "Active" }), 1);
    });

    it("reports Suspended for a device suspended while its binding was still provisioning", async () => {
      const { push, provisioned } = host();
      const { device, binding, thing } = await provisioningDevice(world, devices);
      device.activate(change(world, "operator"));
      await devices.update(device);
      device.suspend("shipping to the wrong site", change(world, "operator"));
      await devices.update(device);
      for (const type of ["DeviceActivatedEvent", "DeviceSuspendedEvent"] as const) {
        const event = await lifecycleEventOf(world, device.id, type);
        assert.equal(skipped(await push.handle(event)), "not_active");
      }

      await sagaMakesActive(world, binding);
      await provisioned.handle(await provisionedEventOf(world, device.id));

      assert.equal((await readShadow(world, thing)).state.reported.status, "Suspended");
    });

    it("writes the shadow once when AwsThingProvisionedEvent is delivered twice", async () => {
      const { provisioned, testMetrics } = host();
      const { device, binding, thing } = await provisioningDevice(world, devices);
      device.activate(change(world, "operator"));
      await devices.update(device);
      await sagaMakesActive(world, binding);
      const event = await provisionedEventOf(world, device.id);

      assert.equal((await provisioned.handle(event)).pushed, true);
      const first = await readShadow(world, thing);
      const writes = shadowWrites(world, thing);
      await world.scheduler.advance(5000);
      assert.deepEqual(await provisioned.handle(event), { pushed: false, reason: "already_reported" });

      const second = await readShadow(world, thing);
      assert.equal(second.version, first.version, "the shadow was not written again");
      assert.deepEqual(second.state.reported, first.state.reported);
      assert.equal(shadowWrites(world, thing), writes);
      assert.equal(await testMetrics.sum("granit.iot.aws.shadow.pushes"), 1);
    });

    it("keeps the newer suspension pushed after the catch-up, and skips the activation delivered last", async () => {
      const { push, provisioned } = host();
      const { device, binding, thing } = await provisioningDevice(world, devices);
      device.activate(change(world, "operator"));
      await devices.update(device);
      await sagaMakesActive(world, binding);
      assert.equal((await provisioned.handle(await provisionedEventOf(world, device.id))).pushed, true);
      assert.equal((await readShadow(world, thing)).state.reported.status, "Active");

      await world.scheduler.advance(1000);
      device.suspend("maintenance", change(world, "operator"));
      await devices.update(device);
      const suspended = await lifecycleEventOf<DeviceSuspendedEvent>(
        world,
        device.id,
        "DeviceSuspendedEvent",
      );
      assert.equal((await push.handle(suspended)).pushed, true);
      // The activation, first delivered only now (after the binding became Active and after the catch-up).
      const activated = await lifecycleEventOf<DeviceActivatedEvent>(
        world,
        device.id,
        "DeviceActivatedEvent",
      );
      assert.deepEqual(await push.handle(activated), { pushed: false, reason: "stale" });

      assert.equal((await readShadow(world, thing)).state.reported.status, "Suspended");
    });

    it("keeps the suspension pushed before the catch-up, which then finds it already reported", async () => {
      const { push, provisioned } = host();
      const { device, binding, thing } = await provisioningDevice(world, devices);
      device.activate(change(world, "operator"));
      await devices.update(device);
      await sagaMakesActive(world, binding);
      await world.scheduler.advance(1000);
      device.suspend("maintenance", change(world, "operator"));
      await devices.update(device);
      const suspended = await lifecycleEventOf<DeviceSuspendedEvent>(
        world,
        device.id,
        "DeviceSuspendedEvent",
      );
      assert.equal((await push.handle(suspended)).pushed, true);
      const before = await readShadow(world, thing);

      await world.scheduler.advance(1000);
      const result = await provisioned.handle(await provisionedEventOf(world, device.id));

      assert.deepEqual(result, { pushed: false, reason: "already_reported" });
      const after = await readShadow(world, thing);
      assert.equal(after.state.reported.status, "Suspended");
      assert.equal(after.version, before.version);
    });

    it("keeps the newer suspension when the catch-up read the device before it and claims after it", async () => {
      const { device, binding, thing } = await provisioningDevice(world, devices);
      device.activate(change(world, "operator"));
      await devices.update(device);
      await sagaMakesActive(world, binding);
      const event = await provisionedEventOf(world, device.id);

      // The catch-up reads the device (Active) and pauses; the suspension is pushed meanwhile.
      const paused = gate();
      const resume = gate();
      const slowDevices: Pick<DeviceStore, "findById"> = {
        async findById(id, tenant, scope) {
          const found = await devices.findById(id, tenant, scope);
          paused.open();
          await resume.wait;
          return found;
        },
      };
      const slow = host();
      const catchUp = new ProvisionedShadowPushHandler({
        devices: slowDevices,
        push: slow.push,
        metrics: slow.metrics,
      }).handle(event);
      await paused.wait;
      await world.scheduler.advance(1000);
      device.suspend("maintenance", change(world, "operator"));
      await devices.update(device);
      const suspended = await lifecycleEventOf<DeviceSuspendedEvent>(
        world,
        device.id,
        "DeviceSuspendedEvent",
      );
      assert.equal((await host().push.handle(suspended)).pushed, true);
      resume.open();

      assert.deepEqual(await catchUp, { pushed: false, reason: "stale" });
      assert.equal((await readShadow(world, thing)).state.reported.status, "Suspended");
    });

    it("keeps the newer suspension when the catch-up pauses just before its write", async () => {
      const { device, binding, thing } = await provisioningDevice(world, devices);
      device.activate(change(world, "operator"));
      await devices.update(device);
      await sagaMakesActive(world, binding);
      const event = await provisionedEventOf(world, device.id);

      const paused = gate();
      const resume = gate();
      let held = false;
      const slow = host(
        hookedDataClient(world.data, {
          async before(operation, input) {
            const body = new TextDecoder().decode(input.payload as Uint8Array);
            if (operation !== "UpdateThingShadow" || !body.includes('"status"') || held) return;
            held = true;
            paused.open();
            await resume.wait;
          },
        }),
      );
      const catchUp = slow.provisioned.handle(event);
      await paused.wait; // claimed version 2, read the shadow, about to write "Active"
      await world.scheduler.advance(1000);
      device.suspend("maintenance", change(world, "operator"));
      await devices.update(device);
      const suspended = await lifecycleEventOf<DeviceSuspendedEvent>(
        world,
        device.id,
        "DeviceSuspendedEvent",
      );
      assert.equal((await host().push.handle(suspended)).pushed, true);
      resume.open();

      // Its write carries the shadow version it read: 409, read again, see the newer claim, stop.
      assert.deepEqual(await catchUp, { pushed: false, reason: "superseded" });
      assert.equal((await readShadow(world, thing)).state.reported.status, "Suspended");
    });

    it("pushes nothing for a device still Provisioning or already Decommissioned", async () => {
      const { provisioned, testMetrics } = host();
      const never = await provisioningDevice(world, devices);
      const gone = await provisioningDevice(world, devices);
      gone.device.decommission(change(world, "operator"));
      await devices.update(gone.device);

      for (const { device, binding, thing } of [never, gone]) {
        await sagaMakesActive(world, binding);
        const result = await provisioned.handle(await provisionedEventOf(world, device.id));
        assert.deepEqual(result, { pushed: false, reason: "not_reportable" });
        await assert.rejects(
          world.data.send(new GetThingShadowCommand({ thingName: thing })),
          ResourceNotFoundException,
          "no shadow was written",
        );
        assert.equal(
          (await world.bindings.findByDevice(device.id, TENANT_A))?.shadowReportedDeviceVersion,
          null,
        );
      }
      assert.deepEqual(
        world.emulator?.calls().filter((c) => c.service === "iotdata" && c.operation === "UpdateThingShadow"),
        [],
      );
      assert.equal(
        await testMetrics.sum("granit.iot.aws.shadow.push.skipped", { reason: "not_reportable" }),
        2,
      );
    });

    it("pushes Active for a device fleet provisioning created Active with a JITP binding", async () => {
      const { push, provisioned } = host();
      const thingName = ThingName.from(TENANT_A, `JT-${String(++jitpSerial).padStart(5, "0")}`);
      const thing = await world.iot.send(new CreateThingCommand({ thingName: thingName.value }));
      // As fleet provisioning registers it: device created and activated, binding Active, one transaction.
      const device = Device.provision(
        { tenantId: TENANT_A, serialNumber: thingName.serialNumber, model: "GW-100", firmware: "1.0.0" },
        change(world, "fleet"),
      );
      device.activate(change(world, "fleet"));
      const binding = AwsThingBinding.createForJitp(
        {
          deviceId: device.id,
          tenantId: TENANT_A,
          thingName,
          thingArn: thing.thingArn ?? "",
          certificateArn: `arn:aws:iot:${world.aws.region}:${world.aws.accountId}:cert/${"d".repeat(64)}`,
        },
        change(world, "fleet"),
      );
      await world.tdb.database.transaction(async (_tx, scope) => {
        await devices.add(device, scope);
        await world.bindings.add(binding, scope);
      });

      const event = await provisionedEventOf(world, device.id);
      assert.equal(event.provisionedViaJitp, true);
      assert.equal((await provisioned.handle(event)).pushed, true);
      assert.equal((await readShadow(world, thingName.value)).state.reported.status, "Active");
      // The activation of the same version, delivered after: already there, nothing written.
      const writes = shadowWrites(world, thingName.value);
      const activated = await lifecycleEventOf<DeviceActivatedEvent>(
        world,
        device.id,
        "DeviceActivatedEvent",
      );
      assert.deepEqual(await push.handle(activated), { pushed: false, reason: "already_reported" });
      assert.equal(shadowWrites(world, thingName.value), writes);
    });
  });
}
