import assert from "node:assert/strict";
import { after, before, beforeEach, describe, it } from "node:test";
import { type ChangeContext, ManualClock, uuidv7 } from "@granit/iot";
import { AwsThingBinding, ThingName } from "@granit/iot-aws";
import {
  IOTAWS_MIGRATIONS,
  PostgresAwsThingBindingStore,
  PostgresShadowSyncStateStore,
} from "@granit/iot-aws-postgres";
import { IOT_MIGRATIONS, PostgresMessageBus } from "@granit/iot-postgres";
import { databaseTargets, type TestDatabase } from "@granit/iot-postgres/testing";

const TENANT = "0a7c2b6e-0000-4000-8000-00000000000a";
const ACCOUNT = "123456789012";
const INTERVAL_MS = 30_000;
const FP_1 = "1".repeat(64);
const FP_2 = "2".repeat(64);
const clock = new ManualClock("2026-05-01T00:00:00Z");
const change = (): ChangeContext => ({ at: clock.advance(10), by: "test" });

let serial = 0;
function activeBinding(tenantId: string | null = TENANT): AwsThingBinding {
  const thingName = ThingName.from(tenantId, `SYNC-${++serial}`);
  return AwsThingBinding.createForJitp(
    {
      deviceId: uuidv7(),
      tenantId,
      thingName,
      thingArn: `arn:aws:iot:eu-west-1:${ACCOUNT}:thing/${thingName}`,
      certificateArn: `arn:aws:iot:eu-west-1:${ACCOUNT}:cert/${serial.toString(16).padStart(64, "0")}`,
      certificateSecretArn: `arn:aws:secretsmanager:eu-west-1:${ACCOUNT}:secret:iot/${thingName}-AbC123`,
    },
    change(),
  );
}

const input = (binding: AwsThingBinding) => ({
  bindingId: binding.id,
  deviceId: binding.deviceId,
  tenantId: binding.tenantId,
  thingName: binding.thingName.value,
});

for (const target of databaseTargets()) {
  describe(`PostgresShadowSyncStateStore on ${target.name}`, { skip: target.skip }, () => {
    let tdb: TestDatabase;
    let bindings: PostgresAwsThingBindingStore;
    let sync: PostgresShadowSyncStateStore;
    const now = () => clock.now();
    const claim = (limit = 100) =>
      sync.claimDue({ now: now(), limit, nextPollAt: new Date(now().getTime() + INTERVAL_MS) });

    before(async () => {
      tdb = await target.open({ migrations: [IOT_MIGRATIONS, IOTAWS_MIGRATIONS] });
      bindings = new PostgresAwsThingBindingStore(tdb.database, new PostgresMessageBus(tdb.database));
      sync = new PostgresShadowSyncStateStore(tdb.database);
    });
    beforeEach(async () => {
      await tdb.database.execute("DELETE FROM iotaws_shadow_sync");
      await tdb.database.execute("DELETE FROM iotaws_thing_bindings");
    });
    after(() => tdb.dispose());

    it("tracks a binding once and forgets it on untrack", async () => {
      const binding = activeBinding();
      await bindings.add(binding);
      assert.equal(await sync.track(input(binding), now()), true);
      assert.equal(await sync.track(input(binding), now()), false, "a second track is a no-op");
      const entry = await sync.find(binding.id);
      assert.equal(entry?.thingName, binding.thingName.value);
      assert.equal(entry?.tenantId, TENANT);
      assert.equal(entry?.consecutiveFailures, 0);
      assert.equal(await sync.untrack(binding.id), true);
      assert.equal(await sync.untrack(binding.id), false);
      assert.equal(await sync.find(binding.id), null);
    });

    it("reconciles: tracks every live Active binding without a row, and nothing else", async () => {
      const active = [activeBinding(), activeBinding(null)];
      const alreadyTracked = activeBinding();
      const pending = AwsThingBinding.create(
        { deviceId: uuidv7(), tenantId: TENANT, thingName: ThingName.from(TENANT, "PENDING-1") },
        change(),
      );
      const failed = activeBinding();
      const decommissioned = activeBinding();
      const deleted = activeBinding();
      for (const b of [...active, alreadyTracked, pending, failed, decommissioned, deleted])
        await bindings.add(b);
      failed.markFailed("certificate revoked", change());
      await bindings.update(failed);
      decommissioned.markDecommissioned(change());
      await bindings.update(decommissioned);
      await bindings.softDelete(deleted, change());
      await sync.track(input(alreadyTracked), new Date("2030-01-01T00:00:00Z"));

      assert.equal(await sync.trackActiveBindings(now()), 2);
      assert.equal(await sync.trackActiveBindings(now()), 0, "a second pass adds nothing");
      const rows = await tdb.database.execute<{ binding_id: string }>(
        "SELECT binding_id FROM iotaws_shadow_sync ORDER BY binding_id",
      );
      assert.deepEqual(
        rows.map((r) => r.binding_id),
        [...active, alreadyTracked].map((b) => b.id).sort(),
      );
      assert.equal(
        (await sync.find(alreadyTracked.id))?.nextPollAt.toISOString(),
        "2030-01-01T00:00:00.000Z",
        "an existing row keeps its schedule",
      );
    });

    it("claims due rows oldest first, moves them one interval ahead and leaves the others", async () => {
      const [early, late, future] = [activeBinding(), activeBinding(), activeBinding()];
      for (const b of [early, late, future]) await bindings.add(b);
      const t0 = now();
      await sync.track(input(late), new Date(t0.getTime() - 1_000));
      await sync.track(input(early), new Date(t0.getTime() - 5_000));
      await sync.track(input(future), new Date(t0.getTime() + 60_000));

      const first = await claim(1);
      assert.deepEqual(
        first.entries.map((e) => e.bindingId),
        [early.id],
      );
      assert.equal(first.entries[0]?.lastPolledAt?.toISOString(), t0.toISOString());
      assert.equal(first.entries[0]?.nextPollAt.getTime(), t0.getTime() + INTERVAL_MS);
      assert.deepEqual(
        (await claim()).entries.map((e) => e.bindingId),
        [late.id],
      );
      assert.deepEqual(await claim(), { entries: [], removed: 0 }, "nothing else is due");
      assert.equal((await sync.earliestDue())?.getTime(), t0.getTime() + INTERVAL_MS);
      clock.advance(INTERVAL_MS);
      assert.deepEqual(
        (await claim()).entries.map((e) => e.bindingId).sort(),
        [early.id, late.id].sort(),
        "due again one interval later",
      );
    });

    it("claims only rows due by the given instant when one is given", async () => {
      const [early, late] = [activeBinding(), activeBinding()];
      for (const b of [early, late]) await bindings.add(b);
      const t0 = now();
      await sync.track(input(early), new Date(t0.getTime() - 5_000));
      await sync.track(input(late), new Date(t0.getTime() - 1_000));
      const claimed = await sync.claimDue({
        now: t0,
        dueBy: new Date(t0.getTime() - 3_000),
        limit: 10,
        nextPollAt: new Date(t0.getTime() + INTERVAL_MS),
      });
      assert.deepEqual(
        claimed.entries.map((e) => e.bindingId),
        [early.id],
      );
      assert.equal(claimed.entries[0]?.lastPolledAt?.toISOString(), t0.toISOString());
    });

    it("removes the rows of bindings that left Active when it finds them, and counts them", async () => {
      const [kept, failed, decommissioned, deleted] = [
        activeBinding(),
        activeBinding(),
        activeBinding(),
        activeBinding(),
      ];
      for (const b of [kept, failed, decommissioned, deleted]) {
        await bindings.add(b);
        await sync.track(input(b), now());
      }
      failed.markFailed("thing deleted out of band", change());
      await bindings.update(failed);
      decommissioned.markDecommissioned(change());
      await bindings.update(decommissioned);
      await bindings.softDelete(deleted, change());
      await sync.track({ ...input(activeBinding()), bindingId: uuidv7() }, now()); // no binding at all

      const claimed = await claim();
      assert.deepEqual(
        claimed.entries.map((e) => e.bindingId),
        [kept.id],
      );
      assert.equal(claimed.removed, 4);
      const [count] = await tdb.database.execute<{ n: number }>(
        "SELECT count(*)::int AS n FROM iotaws_shadow_sync",
      );
      assert.equal(count?.n, 1);
    });

    it("never hands the same row to two hosts claiming at once", async () => {
      const other = new PostgresShadowSyncStateStore(await tdb.openAnother());
      await tdb.database.execute(
        `INSERT INTO iotaws_thing_bindings (id, device_id, tenant_id, thing_name, provisioning_status, created_at, version)
         SELECT gen_random_uuid(), gen_random_uuid(), $1::uuid, 't' || replace($1::text, '-', '') || '-RACE-' || i, 'Active', now(), 1
         FROM generate_series(1, 1000) AS i`,
        [TENANT],
      );
      assert.equal(await sync.trackActiveBindings(now()), 1000);
      const query = () => ({ now: now(), limit: 37, nextPollAt: new Date(now().getTime() + INTERVAL_MS) });
      const drain = async (store: PostgresShadowSyncStateStore) => {
        const ids: string[] = [];
        for (;;) {
          const { entries } = await store.claimDue(query());
          if (entries.length === 0) return ids;
          ids.push(...entries.map((e) => e.bindingId));
        }
      };
      const [a, b] = await Promise.all([drain(sync), drain(other)]);
      const all = [...a, ...b];
      assert.equal(all.length, 1000, "every row claimed");
      assert.equal(new Set(all).size, 1000, "no row claimed twice");
    });

    it("records a fingerprint once (compare-and-set) and only inside a committed transaction", async () => {
      const binding = activeBinding();
      await bindings.add(binding);
      await sync.track(input(binding), now());
      await assert.rejects(
        tdb.database.run(async (scope) => {
          assert.equal(await sync.recordDeltaFingerprint(binding.id, FP_1, scope), true);
          throw new Error("publish failed");
        }),
        /publish failed/,
      );
      assert.equal((await sync.find(binding.id))?.lastDeltaFingerprint, null, "rolled back");
      assert.equal(await sync.recordDeltaFingerprint(binding.id, FP_1), true);
      assert.equal(await sync.recordDeltaFingerprint(binding.id, FP_1), false, "same desired state");
      assert.equal(await sync.recordDeltaFingerprint(binding.id, FP_2), true);
      assert.equal(await sync.recordDeltaFingerprint(uuidv7(), FP_1), false, "untracked binding");
      assert.equal(await sync.clearDeltaFingerprint(binding.id, FP_1), false, "not the current one");
      assert.equal(await sync.clearDeltaFingerprint(binding.id, FP_2), true);
      assert.equal((await sync.find(binding.id))?.lastDeltaFingerprint, null);
      assert.equal(await sync.recordDeltaFingerprint(binding.id, FP_1), true, "publishable again");
    });

    it("counts failures per binding and resets them after a success", async () => {
      const [a, b] = [activeBinding(), activeBinding()];
      for (const x of [a, b]) {
        await bindings.add(x);
        await sync.track(input(x), now());
      }
      await sync.recordPollFailures([
        { bindingId: a.id, error: "ResourceNotFoundException: No shadow exists" },
        { bindingId: b.id, error: `MalformedShadowDocumentError: ${"x".repeat(2000)}` },
      ]);
      await sync.recordPollFailures([{ bindingId: a.id, error: "ThrottlingException: Rate exceeded" }]);
      const failedA = await sync.find(a.id);
      assert.equal(failedA?.consecutiveFailures, 2);
      assert.equal(failedA?.lastError, "ThrottlingException: Rate exceeded");
      assert.equal((await sync.find(b.id))?.lastError?.length, 1024, "error text cut to the column size");
      await sync.recordPollSuccesses([a.id]);
      assert.deepEqual(
        { failures: (await sync.find(a.id))?.consecutiveFailures, error: (await sync.find(a.id))?.lastError },
        { failures: 0, error: null },
      );
      assert.equal((await sync.find(b.id))?.consecutiveFailures, 1);
    });

    it("releases claimed rows that were not polled so they are due again", async () => {
      const binding = activeBinding();
      await bindings.add(binding);
      await sync.track(input(binding), now());
      assert.equal((await claim()).entries.length, 1);
      assert.equal((await claim()).entries.length, 0);
      await sync.release([binding.id], now());
      assert.equal((await claim()).entries.length, 1);
      assert.equal(await sync.earliestDue().then((d) => d !== null), true);
    });
  });
}
