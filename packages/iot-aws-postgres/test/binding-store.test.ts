import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { after, before, describe, it } from "node:test";
import {
  ALL_TENANTS,
  type ChangeContext,
  ConcurrencyConflictError,
  Device,
  DomainValidationError,
  DuplicateKeyError,
  ManualClock,
  uuidv7,
} from "@granit/iot";
import { AwsThingBinding, IN_FLIGHT_STATUSES, ProvisioningStatus, ThingName } from "@granit/iot-aws";
import { IOTAWS_MIGRATIONS, migrateIoTAws, PostgresAwsThingBindingStore } from "@granit/iot-aws-postgres";
import { IOT_MIGRATIONS, PostgresDeviceStore, PostgresMessageBus } from "@granit/iot-postgres";
import { databaseTargets, type TestDatabase } from "@granit/iot-postgres/testing";

const TENANT_A = "0a7c2b6e-0000-4000-8000-00000000000a";
const TENANT_B = "0b7c2b6e-0000-4000-8000-00000000000b";
const ACCOUNT = "123456789012";
const clock = new ManualClock("2026-05-01T00:00:00Z");
const change = (by = "saga"): ChangeContext => ({ at: clock.advance(1000), by });

let serial = 0;
function newBinding(
  tenantId: string | null = TENANT_A,
  options: { serial?: string; deviceId?: string } = {},
) {
  const thingName = ThingName.from(tenantId, options.serial ?? `SN-${++serial}`);
  return AwsThingBinding.create({ deviceId: options.deviceId ?? uuidv7(), tenantId, thingName }, change());
}

const arns = (binding: AwsThingBinding, n = 1) => ({
  thing: `arn:aws:iot:eu-west-1:${ACCOUNT}:thing/${binding.thingName}`,
  cert: `arn:aws:iot:eu-west-1:${ACCOUNT}:cert/${n.toString(16).padStart(64, "0")}`,
  secret: `arn:aws:secretsmanager:eu-west-1:${ACCOUNT}:secret:iot/devices/${binding.thingName}/key-AbC123`,
});

function walkToActive(binding: AwsThingBinding): AwsThingBinding {
  const a = arns(binding);
  binding.recordThingCreated(a.thing, change());
  binding.recordKeyEscrowed(a.secret, change());
  binding.recordCertificateRequested(change());
  binding.recordCertificateIssued(a.cert, change());
  binding.recordSecretStored(change());
  binding.markActive(change());
  return binding;
}

function jitpBinding(tenantId: string | null = TENANT_A): AwsThingBinding {
  const draft = newBinding(tenantId);
  const a = arns(draft);
  return AwsThingBinding.createForJitp(
    {
      deviceId: draft.deviceId,
      tenantId,
      thingName: draft.thingName,
      thingArn: a.thing,
      certificateArn: a.cert,
      certificateSecretArn: a.secret,
    },
    change("fleet"),
  );
}

/**
 * Inserts `count` Active bindings in one statement (random ids, tenants A and B), which is what a
 * fleet that grew over years looks like to a poller; reading them back goes through the store.
 */
async function seedActiveBindings(tdb: TestDatabase, count: number): Promise<void> {
  await tdb.database.execute(
    `INSERT INTO iotaws_thing_bindings (id, device_id, tenant_id, thing_name, thing_arn, certificate_arn,
       certificate_secret_arn, provisioning_status, provisioned_via_jitp, created_at, created_by, version)
     SELECT gen_random_uuid(), gen_random_uuid(), t.tenant::uuid, t.name,
       'arn:aws:iot:eu-west-1:${ACCOUNT}:thing/' || t.name,
       'arn:aws:iot:eu-west-1:${ACCOUNT}:cert/' || lpad(to_hex(t.i), 64, '0'),
       'arn:aws:secretsmanager:eu-west-1:${ACCOUNT}:secret:iot/devices/' || t.name || '/key-AbC123',
       'Active', false, now(), 'seed', 7
     FROM (SELECT i, tenant, 't' || replace(tenant, '-', '') || '-BULK-' || lpad(i::text, 6, '0') AS name
           FROM generate_series(1, $1::int) AS i,
                LATERAL (SELECT CASE WHEN i % 3 = 0 THEN $2 ELSE $3 END AS tenant) AS pick) AS t`,
    [count, TENANT_B, TENANT_A],
  );
}

for (const target of databaseTargets()) {
  describe(`PostgresAwsThingBindingStore on ${target.name}`, { skip: target.skip }, () => {
    let tdb: TestDatabase;
    let store: PostgresAwsThingBindingStore;
    let bus: PostgresMessageBus;
    const deliveries = async (eventType?: string) =>
      Number(
        (
          await tdb.database.execute<{ n: string }>(
            "SELECT count(*)::text AS n FROM iot_bus_deliveries WHERE $1::text IS NULL OR event_type = $1",
            [eventType ?? null],
          )
        )[0]?.n,
      );

    const rowCount = async () =>
      Number(
        (
          await tdb.database.execute<{ n: string }>("SELECT count(*)::text AS n FROM iotaws_thing_bindings")
        )[0]?.n,
      );

    before(async () => {
      tdb = await target.open({ migrations: [IOT_MIGRATIONS, IOTAWS_MIGRATIONS] });
      bus = new PostgresMessageBus(tdb.database);
      for (const type of [
        "AwsThingProvisionedEvent",
        "AwsThingDecommissionedEvent",
        "DeviceProvisionedEvent",
      ]) {
        bus.subscribe(type, "test.sink", async () => {});
      }
      await bus.start();
      await bus.stop(); // subscriptions registered; deliveries stay in the table for inspection
      store = new PostgresAwsThingBindingStore(tdb.database, bus);
    });
    after(() => tdb.dispose());

    it("round-trips every field through add, update and find", async () => {
      const binding = newBinding(TENANT_A);
      await store.add(binding);
      walkToActive(binding);
      binding.recordShadowReported(7, change());
      binding.recordClaimCertificate(
        { certificateId: "ab".repeat(32), expiresAt: new Date("2027-01-01T00:00:00Z") },
        change(),
      );
      binding.markFailed("Thing vanished", change());
      await store.update(binding);
      const loaded = await store.findByDevice(binding.deviceId, TENANT_A);
      assert.ok(loaded);
      assert.deepEqual(loaded.toJSON(), binding.toJSON());
      assert.equal(loaded.loadedVersion, binding.version);
      assert.equal(loaded.failedFromStatus, "Active");
      assert.equal(loaded.certificateRequestedAt?.getTime(), binding.certificateRequestedAt?.getTime());
    });

    it("publishes the binding's events in the write transaction, once", async () => {
      const before = await deliveries("AwsThingProvisionedEvent");
      const binding = jitpBinding();
      await store.add(binding);
      assert.equal(await deliveries("AwsThingProvisionedEvent"), before + 1);
      assert.deepEqual(binding.pendingEvents, []);
      await store.update(binding); // nothing new to publish
      assert.equal(await deliveries("AwsThingProvisionedEvent"), before + 1);
    });

    it("refuses a thing name that is already bound, writing nothing", async () => {
      const first = jitpBinding(TENANT_A);
      await store.add(first);
      const before = await deliveries();
      const clash = AwsThingBinding.createForJitp(
        {
          deviceId: uuidv7(),
          tenantId: TENANT_A,
          thingName: first.thingName,
          thingArn: arns(first).thing,
          certificateArn: arns(first, 2).cert,
          certificateSecretArn: arns(first).secret,
        },
        change(),
      );
      await assert.rejects(store.add(clash), (error: unknown) => {
        assert.ok(error instanceof DuplicateKeyError);
        assert.equal(error.key, "thingName");
        assert.match(error.message, /unique in the account/);
        return true;
      });
      assert.equal(await deliveries(), before, "the failed insert published nothing");
      assert.equal(clash.pendingEvents.length, 1, "the events stay pending for a retry");
    });

    it("keeps thing names unique across tenants at the database level (AWS names are account-wide)", async () => {
      const binding = newBinding(TENANT_A);
      await store.add(binding);
      await assert.rejects(
        tdb.database.execute(
          `INSERT INTO iotaws_thing_bindings (id, device_id, tenant_id, thing_name, provisioning_status, created_at, version)
           VALUES ($1, $2, $3, $4, 'Pending', now(), 1)`,
          [uuidv7(), uuidv7(), TENANT_B, binding.thingName.value],
        ),
        /ux_iotaws_thing_bindings_thing_name|duplicate key/,
      );
    });

    it("gives a device at most one live binding, host devices included", async () => {
      for (const tenant of [TENANT_A, null]) {
        const deviceId = uuidv7();
        await store.add(newBinding(tenant, { deviceId }));
        await assert.rejects(store.add(newBinding(tenant, { deviceId })), (error: unknown) => {
          assert.ok(error instanceof DuplicateKeyError);
          assert.equal(error.key, "deviceId");
          return true;
        });
      }
    });

    it("reserves: inserts a live device's first binding, answers the stored one after that, and refuses a taken name", async () => {
      const devices = new PostgresDeviceStore(tdb.database, bus);
      const device = Device.provision(
        { tenantId: TENANT_A, serialNumber: "RESERVE-1", model: "GW", firmware: "1.0.0" },
        change(),
      );
      await devices.add(device);
      const first = newBinding(TENANT_A, { deviceId: device.id, serial: "RESERVE-1" });
      assert.equal(await store.reserve(first), first, "inserted");
      assert.equal(first.loadedVersion, 1, "persisted");
      assert.equal((await store.findByDevice(device.id, TENANT_A))?.id, first.id);

      const again = await store.reserve(newBinding(TENANT_A, { deviceId: device.id }));
      assert.equal(again?.id, first.id, "a second reservation answers the first binding");

      const other = Device.provision(
        { tenantId: TENANT_A, serialNumber: "RESERVE-2", model: "GW", firmware: "1.0.0" },
        change(),
      );
      await devices.add(other);
      const before = await rowCount();
      const sameName = newBinding(TENANT_A, { deviceId: other.id, serial: "RESERVE-1" }); // another device, the same name
      await assert.rejects(store.reserve(sameName), (error: unknown) => {
        assert.ok(error instanceof DuplicateKeyError);
        assert.equal(error.key, "thingName");
        return true;
      });
      assert.equal(await rowCount(), before, "nothing written");

      const withEvents = jitpBinding(TENANT_A);
      await assert.rejects(store.reserve(withEvents), /writes no events/);
    });

    it("reserves nothing for a device that is not stored or is decommissioned, and answers null", async () => {
      const devices = new PostgresDeviceStore(tdb.database, bus);
      const before = await rowCount();
      assert.equal(await store.reserve(newBinding(TENANT_A)), null, "no such device");

      const device = Device.provision(
        { tenantId: TENANT_A, serialNumber: "RESERVE-GONE", model: "GW", firmware: "1.0.0" },
        change(),
      );
      await devices.add(device);
      device.decommission(change());
      await devices.update(device);
      const binding = newBinding(TENANT_A, { deviceId: device.id, serial: "RESERVE-GONE" });
      assert.equal(await store.reserve(binding), null, "decommissioned");
      assert.equal(binding.loadedVersion, 0, "not persisted");
      assert.equal(await rowCount(), before, "nothing written");
    });

    it("scopes reads by device to the tenant filter", async () => {
      const tenantBinding = newBinding(TENANT_A);
      const hostBinding = newBinding(null);
      await store.add(tenantBinding);
      await store.add(hostBinding);
      assert.ok(await store.findByDevice(tenantBinding.deviceId, TENANT_A));
      assert.equal(
        await store.findByDevice(tenantBinding.deviceId, TENANT_B),
        null,
        "another tenant sees nothing",
      );
      assert.equal(
        await store.findByDevice(tenantBinding.deviceId, null),
        null,
        "the host sees no tenant's binding",
      );
      assert.ok(await store.findByDevice(tenantBinding.deviceId, ALL_TENANTS));
      assert.ok(await store.findByDevice(hostBinding.deviceId, null));
      assert.equal(await store.findByDevice(hostBinding.deviceId, TENANT_A), null);
      assert.equal(await store.findByDevice(uuidv7(), ALL_TENANTS), null);
    });

    it("finds a binding by thing name across tenants", async () => {
      const binding = newBinding(TENANT_B);
      await store.add(binding);
      assert.equal((await store.findByThingName(binding.thingName))?.deviceId, binding.deviceId);
      assert.equal((await store.findByThingName(binding.thingName.value))?.tenantId, TENANT_B);
      assert.equal(await store.findByThingName("t00000000000000000000000000000000-NOPE"), null);
    });

    it("refuses a stale update with ConcurrencyConflictError and publishes none of its events", async () => {
      const binding = walkToActive(newBinding());
      binding.pullEvents();
      await store.add(binding);
      const mine = await store.findByDevice(binding.deviceId, TENANT_A);
      const theirs = await store.findByDevice(binding.deviceId, TENANT_A);
      assert.ok(mine && theirs);
      theirs.recordShadowReported(3, change("shadow"));
      await store.update(theirs);
      const before = await deliveries("AwsThingDecommissionedEvent");
      mine.markDecommissioned(change("teardown"));
      await assert.rejects(store.update(mine), ConcurrencyConflictError);
      assert.equal(await deliveries("AwsThingDecommissionedEvent"), before);
      const stored = await store.findByDevice(binding.deviceId, TENANT_A);
      assert.equal(stored?.provisioningStatus, "Active");
      assert.equal(stored?.shadowReportedDeviceVersion, 3);

      const reloaded = await store.findByDevice(binding.deviceId, TENANT_A);
      assert.ok(reloaded);
      reloaded.markDecommissioned(change("teardown"));
      await store.update(reloaded);
      assert.equal(await deliveries("AwsThingDecommissionedEvent"), before + 1);
    });

    it("soft-deletes: the binding disappears from every read, stays in the table, and frees its name", async () => {
      const binding = walkToActive(newBinding());
      await store.add(binding);
      binding.markDecommissioned(change());
      await store.softDelete(binding, change("operator"));
      assert.equal(await store.findByDevice(binding.deviceId, ALL_TENANTS), null);
      assert.equal(await store.findByThingName(binding.thingName), null);
      const page = await store.pageByStatus({ statuses: ["Decommissioned"], limit: 1000 });
      assert.ok(!page.items.some((b) => b.id === binding.id));
      const [row] = await tdb.database.execute<{ deleted_by: string; provisioning_status: string }>(
        "SELECT deleted_by, provisioning_status FROM iotaws_thing_bindings WHERE id = $1",
        [binding.id],
      );
      assert.deepEqual(row, { deleted_by: "operator", provisioning_status: "Decommissioned" });

      const successor = newBinding(TENANT_A, { serial: binding.thingName.serialNumber });
      await store.add(successor);
      assert.equal((await store.findByThingName(binding.thingName))?.id, successor.id);
    });

    it("commits a binding together with a device write and its events in one transaction", async () => {
      const devices = new PostgresDeviceStore(tdb.database, bus);
      const device = Device.provision(
        { tenantId: TENANT_A, serialNumber: "TX-1", model: "GW", firmware: "1.0.0" },
        change(),
      );
      const binding = AwsThingBinding.create(
        { deviceId: device.id, tenantId: TENANT_A, thingName: ThingName.from(TENANT_A, device.serialNumber) },
        change(),
      );
      const before = await deliveries("DeviceProvisionedEvent");
      await tdb.database.run(async (scope) => {
        await devices.add(device, scope);
        await store.add(binding, scope);
      });
      assert.ok(await devices.findById(device.id, TENANT_A));
      assert.ok(await store.findByDevice(device.id, TENANT_A));
      assert.equal(await deliveries("DeviceProvisionedEvent"), before + 1);
    });

    it("rolls the device write and its event back when the binding write fails", async () => {
      const devices = new PostgresDeviceStore(tdb.database, bus);
      const taken = newBinding(TENANT_A, { serial: "TX-2" });
      await store.add(taken);
      const device = Device.provision(
        { tenantId: TENANT_A, serialNumber: "TX-2", model: "GW", firmware: "1.0.0" },
        change(),
      );
      const binding = AwsThingBinding.create(
        { deviceId: device.id, tenantId: TENANT_A, thingName: ThingName.from(TENANT_A, "TX-2") },
        change(),
      );
      const before = await deliveries();
      await assert.rejects(
        tdb.database.run(async (scope) => {
          await devices.add(device, scope);
          await store.add(binding, scope);
        }),
        DuplicateKeyError,
      );
      assert.equal(await devices.findById(device.id, TENANT_A), null);
      assert.equal(await deliveries(), before);
    });

    it("pages by status with a cursor and a tenant filter", async () => {
      const fresh = await target.open({ migrations: [IOT_MIGRATIONS, IOTAWS_MIGRATIONS] });
      try {
        const own = new PostgresAwsThingBindingStore(fresh.database, new PostgresMessageBus(fresh.database));
        const pending = [newBinding(TENANT_A), newBinding(TENANT_B), newBinding(null)];
        const failed = newBinding(TENANT_A);
        failed.markFailed("quota", change());
        const active = walkToActive(newBinding(TENANT_A));
        for (const b of [...pending, failed, active]) await own.add(b);

        const first = await own.pageByStatus({ statuses: ["Pending", "Failed"], limit: 3 });
        assert.equal(first.items.length, 3);
        assert.ok(first.nextCursor);
        const second = await own.pageByStatus({
          statuses: ["Pending", "Failed"],
          limit: 3,
          cursor: first.nextCursor,
        });
        assert.equal(second.nextCursor, null);
        assert.deepEqual(
          [...first.items, ...second.items].map((b) => b.id),
          [...pending, failed].map((b) => b.id).sort(),
        );
        const onlyA = await own.pageByStatus({
          statuses: [...IN_FLIGHT_STATUSES, "Failed"],
          limit: 10,
          tenant: TENANT_A,
        });
        assert.deepEqual(onlyA.items.map((b) => b.id).sort(), [pending[0]?.id, failed.id].sort());
        const hostOnly = await own.pageByStatus({ statuses: ["Pending"], limit: 10, tenant: null });
        assert.deepEqual(
          hostOnly.items.map((b) => b.id),
          [pending[2]?.id],
        );
        const activeOnly = await own.pageByStatus({ statuses: [ProvisioningStatus.Active], limit: 10 });
        assert.deepEqual(
          activeOnly.items.map((b) => b.id),
          [active.id],
        );

        await assert.rejects(own.pageByStatus({ statuses: [], limit: 10 }), DomainValidationError);
        await assert.rejects(
          own.pageByStatus({ statuses: ["Active"], limit: 10, cursor: "garbage!" }),
          DomainValidationError,
        );
      } finally {
        await fresh.dispose();
      }
    });

    it("walks 10,000 bindings with a cursor, each exactly once, while rows are being added", async () => {
      const fresh = await target.open({ migrations: [IOT_MIGRATIONS, IOTAWS_MIGRATIONS] });
      try {
        const own = new PostgresAwsThingBindingStore(fresh.database, new PostgresMessageBus(fresh.database));
        await seedActiveBindings(fresh, 10_000);
        const existing = new Set(
          (await fresh.database.execute<{ id: string }>("SELECT id FROM iotaws_thing_bindings")).map(
            (r) => r.id,
          ),
        );
        assert.equal(existing.size, 10_000);
        await own.add(newBinding()); // Pending: not on the walk

        const seen = new Map<string, number>();
        let cursor: string | null = null;
        let pages = 0;
        let added = 0;
        do {
          const page = await own.pageByStatus({ statuses: ["Active"], limit: 250, cursor });
          for (const binding of page.items) seen.set(binding.id, (seen.get(binding.id) ?? 0) + 1);
          cursor = page.nextCursor;
          pages++;
          // Meanwhile other hosts add Active bindings: newer ids (after the cursor) and older ones (before it).
          const newer = walkToActive(newBinding());
          const older = walkToActive(
            AwsThingBinding.create(
              {
                id: uuidv7(Date.parse("2020-01-01T00:00:00Z")),
                deviceId: uuidv7(),
                tenantId: TENANT_A,
                thingName: ThingName.from(TENANT_A, `OLD-${++serial}`),
              },
              change(),
            ),
          );
          await own.add(newer);
          await own.add(older);
          added += 2;
        } while (cursor !== null);

        const duplicates = [...seen].filter(([, n]) => n > 1);
        assert.deepEqual(duplicates, [], "no binding is returned twice");
        const missing = [...existing].filter((id) => !seen.has(id));
        assert.deepEqual(missing, [], "every binding that existed at the start is returned");
        assert.ok(pages >= 40, `walked ${pages} pages`);
        assert.ok(added > 0);
      } finally {
        await fresh.dispose();
      }
    });

    it("serves a poller's page of a rare status from the (status, id) index, not a scan", async () => {
      const fresh = await target.open({ migrations: [IOT_MIGRATIONS, IOTAWS_MIGRATIONS] });
      try {
        await seedActiveBindings(fresh, 3000);
        await fresh.database.execute(
          `UPDATE iotaws_thing_bindings SET provisioning_status = 'Failed', failed_from_status = 'Active',
             failure_reason = 'quota' WHERE right(thing_name, 2) = '00'`,
        );
        await fresh.database.execute("ANALYZE iotaws_thing_bindings");
        // The statement pageByStatus issues per status (several statuses = a UNION ALL of these).
        const explain = async (status: string) =>
          (
            await fresh.database.execute<{ "QUERY PLAN": string }>(
              `EXPLAIN SELECT * FROM iotaws_thing_bindings
                WHERE deleted_at IS NULL AND provisioning_status = '${status}' AND id > '00000000-0000-0000-0000-000000000000'
                ORDER BY id LIMIT 101`,
            )
          )
            .map((r) => r["QUERY PLAN"])
            .join("\n");
        const rare = await explain("Failed");
        assert.match(rare, /Index Scan using ix_iotaws_thing_bindings_status_id/, rare);
        // For the dominant status the planner may walk the primary key instead: every row it reads
        // then matches, so it is still no scan of the table.
        const common = await explain("Active");
        assert.doesNotMatch(common, /Seq Scan|Sort/, common);
      } finally {
        await fresh.dispose();
      }
    });
  });
}

describe("the iotaws_* migrations", () => {
  for (const target of databaseTargets()) {
    it(`are isolated from the core's and idempotent (${target.name})`, { skip: target.skip }, async () => {
      const tdb = await target.open({ migrations: [IOT_MIGRATIONS] });
      try {
        const tables = async () =>
          (
            await tdb.database.execute<{ table_name: string }>(
              "SELECT table_name FROM information_schema.tables WHERE table_schema = $1 AND table_name LIKE 'iotaws%' ORDER BY 1",
              [tdb.schema],
            )
          ).map((r) => r.table_name);
        assert.deepEqual(await tables(), [], "a host without AWS has no iotaws_* table");
        await migrateIoTAws(tdb.database);
        await migrateIoTAws(tdb.database);
        // Every feature adds its own iotaws_* table: check ours are there, not an exact list.
        const created = await tables();
        for (const table of ["iotaws_thing_bindings", "iotaws_tracked_jobs"]) {
          assert.ok(created.includes(table), `${table} missing from ${created.join(", ")}`);
        }
        const journal = JSON.parse(
          await readFile(new URL("../drizzle/meta/_journal.json", import.meta.url), "utf8"),
        ) as { entries: unknown[] };
        const [history] = await tdb.database.execute<{ n: string }>(
          `SELECT count(*)::text AS n FROM ${tdb.schema}.__granit_iotaws_migrations`,
        );
        assert.equal(history?.n, String(journal.entries.length), "each migration applied once");
      } finally {
        await tdb.dispose();
      }
    });
  }
});
