import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import {
  ALL_TENANTS,
  ConcurrencyConflictError,
  Device,
  DeviceCredential,
  DuplicateKeyError,
  ManualClock,
} from "@granit/iot";
import { PostgresDeviceStore, PostgresMessageBus } from "@granit/iot-postgres";
import { databaseTargets, type TestDatabase } from "@granit/iot-postgres/testing";

const TENANT_A = "0a7c2b6e-0000-4000-8000-00000000000a";
const TENANT_B = "0b7c2b6e-0000-4000-8000-00000000000b";
const clock = new ManualClock("2026-05-01T00:00:00Z");
const change = (by = "tester") => ({ at: clock.advance(1000), by });

function newDevice(serialNumber: string, tenantId: string | null = TENANT_A): Device {
  return Device.provision({ tenantId, serialNumber, model: "GW-200", firmware: "1.0.0" }, change());
}

for (const target of databaseTargets()) {
  describe(`PostgresDeviceStore on ${target.name}`, { skip: target.skip }, () => {
    let tdb: TestDatabase;
    let store: PostgresDeviceStore;
    const deliveries = async () =>
      Number(
        (await tdb.database.execute<{ n: string }>("SELECT count(*)::text AS n FROM iot_bus_deliveries"))[0]
          ?.n,
      );

    before(async () => {
      tdb = await target.open();
      const bus = new PostgresMessageBus(tdb.database);
      bus.subscribe("DeviceProvisionedEvent", "test.sink", async () => {});
      bus.subscribe("DeviceActivatedEvent", "test.sink", async () => {});
      await bus.start();
      await bus.stop(); // registered the subscriptions; deliveries stay in the table for inspection
      store = new PostgresDeviceStore(tdb.database, bus);
    });
    after(() => tdb.dispose());

    it("round-trips every field, the credential secret included, and writes the event and the timeline", async () => {
      const device = Device.provision(
        {
          tenantId: TENANT_A,
          serialNumber: "RT-1",
          model: "GW-200",
          firmware: "1.0.0",
          label: "Roof",
          tags: { site: "north" },
          credential: DeviceCredential.create("api-key", "protected-value"),
        },
        change("alice"),
      );
      await store.add(device);
      const loaded = await store.findById(device.id, TENANT_A);
      assert.ok(loaded);
      assert.deepEqual(loaded.toJSON(), device.toJSON());
      assert.equal(loaded.credential?.revealProtectedSecret(), "protected-value");
      const timeline = await store.timeline(device.id, TENANT_A);
      assert.deepEqual(
        timeline.map((t) => t.message),
        ["Device provisioned: RT-1 (status = Provisioning)"],
      );
      assert.equal(timeline[0]?.actor, "alice");
    });

    it("refuses a second device with the same serial number in one tenant, writing nothing", async () => {
      await store.add(newDevice("DUP-1"));
      const before = await deliveries();
      await assert.rejects(store.add(newDevice("DUP-1")), DuplicateKeyError);
      assert.equal(await deliveries(), before);
      assert.equal((await store.findAllBySerialNumber("DUP-1")).length, 1);
    });

    it("allows the same serial number in another tenant and among host devices once", async () => {
      await store.add(newDevice("SHARED-1", TENANT_A));
      await store.add(newDevice("SHARED-1", TENANT_B));
      await store.add(newDevice("SHARED-1", null));
      await assert.rejects(store.add(newDevice("SHARED-1", null)), DuplicateKeyError);
      assert.equal((await store.findAllBySerialNumber("SHARED-1")).length, 3);
    });

    it("hides another tenant's device as not found", async () => {
      const device = newDevice("ISO-1", TENANT_A);
      await store.add(device);
      assert.equal(await store.findById(device.id, TENANT_B), null);
      assert.equal(await store.findById(device.id, null), null);
      assert.ok(await store.findById(device.id, TENANT_A));
      assert.ok(await store.findById(device.id, ALL_TENANTS));
      assert.equal(await store.findBySerialNumber(TENANT_B, "ISO-1"), null);
      assert.deepEqual(await store.timeline(device.id, TENANT_B), []);
      assert.equal(await store.recordHeartbeat(device.id, TENANT_B, clock.now()), false);
    });

    it("fails a stale write with ConcurrencyConflictError and keeps the first writer's change", async () => {
      const device = newDevice("OCC-1");
      await store.add(device);
      const first = await store.findById(device.id, TENANT_A);
      const second = await store.findById(device.id, TENANT_A);
      assert.ok(first && second);
      first.activate(change("first"));
      await store.update(first);
      const before = await deliveries();
      second.decommission(change("second"));
      await assert.rejects(store.update(second), ConcurrencyConflictError);
      const stored = await store.findById(device.id, TENANT_A);
      assert.equal(stored?.status, "Active");
      assert.equal(stored?.audit.modifiedBy, "first");
      assert.equal(await deliveries(), before);
      assert.equal((await store.timeline(device.id, TENANT_A)).length, 2);
    });

    it("soft-deletes: the row stays with its audit, reads skip it, the serial becomes free", async () => {
      const device = newDevice("DEL-1");
      await store.add(device);
      device.decommission(change());
      device.markDeleted(change("remover"));
      await store.update(device);
      assert.equal(await store.findById(device.id, TENANT_A), null);
      assert.equal(await store.findBySerialNumber(TENANT_A, "DEL-1"), null);
      const raw = await tdb.database.execute<{ deleted_by: string }>(
        "SELECT deleted_by FROM iot_devices WHERE id = $1",
        [device.id],
      );
      assert.equal(raw[0]?.deleted_by, "remover");
      await store.add(newDevice("DEL-1"));
    });

    it("records a heartbeat with one update, without an event or a version bump", async () => {
      const device = newDevice("HB-1");
      await store.add(device);
      const before = await deliveries();
      const at = new Date("2026-05-02T12:00:00Z");
      assert.equal(await store.recordHeartbeat(device.id, TENANT_A, at), true);
      const loaded = await store.findById(device.id, TENANT_A);
      assert.equal(loaded?.lastHeartbeatAt?.toISOString(), at.toISOString());
      assert.equal(loaded?.version, device.version);
      assert.equal(await deliveries(), before);
      assert.equal(await store.recordHeartbeat("00000000-0000-4000-8000-000000000000", TENANT_A, at), false);
    });

    it("pages a tenant's devices by cursor, filtered by status, each exactly once", async () => {
      const tenant = "0c7c2b6e-0000-4000-8000-00000000000c";
      const ids: string[] = [];
      for (let i = 0; i < 25; i++) {
        const device = newDevice(`PAGE-${i}`, tenant);
        if (i % 5 === 0) device.activate(change());
        await store.add(device);
        ids.push(device.id);
      }
      const seen: string[] = [];
      let cursor: string | null = null;
      do {
        const page = await store.list({ tenant, limit: 7, cursor });
        seen.push(...page.items.map((d) => d.id));
        cursor = page.nextCursor;
      } while (cursor);
      assert.deepEqual(seen.sort(), [...ids].sort());
      const active = await store.list({ tenant, status: "Active", limit: 100 });
      assert.equal(active.items.length, 5);
      assert.equal(await store.count(tenant, "Active"), 5);
      assert.equal(await store.count(tenant), 25);
    });

    it("joins a caller's transaction: a rollback leaves neither row, event nor timeline entry", async () => {
      const device = newDevice("TX-1");
      const before = await deliveries();
      await assert.rejects(
        tdb.database.run(async (scope) => {
          await store.add(device, scope);
          throw new Error("abort");
        }),
        /abort/,
      );
      assert.equal(await store.findById(device.id, ALL_TENANTS), null);
      assert.equal(await deliveries(), before);
      assert.deepEqual(await store.timeline(device.id, ALL_TENANTS), []);
    });
  });
}
