import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { PostgresBindingLock } from "@granit/iot-aws-postgres";
import { databaseTargets, type TestDatabase } from "@granit/iot-postgres/testing";

const DEVICE = "0194a5e0-1111-7111-8111-111111111111";

for (const target of databaseTargets()) {
  describe(`PostgresBindingLock on ${target.name}`, { skip: target.skip }, () => {
    let tdb: TestDatabase;
    let hostA: PostgresBindingLock;
    let hostB: PostgresBindingLock;

    before(async () => {
      tdb = await target.open({ migrations: [] });
      hostA = new PostgresBindingLock(tdb.database);
      hostB = new PostgresBindingLock(await tdb.openAnother());
    });
    after(() => tdb.dispose());

    it("lets one host work on a device while the other is told the device is busy", async () => {
      const { promise: held, resolve: release } = Promise.withResolvers<void>();
      const { promise: working, resolve: started } = Promise.withResolvers<void>();
      const first = hostA.tryRun(DEVICE, () => {
        started();
        return held.then(() => "A");
      });
      await working;
      try {
        assert.deepEqual(await hostB.tryRun(DEVICE.toUpperCase(), async () => "B"), { acquired: false });
      } finally {
        release();
      }
      assert.deepEqual(await first, { acquired: true, value: "A" });
      assert.deepEqual(await hostB.tryRun(DEVICE, async () => "B"), { acquired: true, value: "B" });
    });

    it("lets work release the lock before it settles, and answers only once the lock is free", async () => {
      const { promise: finishing, resolve: finish } = Promise.withResolvers<void>();
      const { promise: early, resolve: released } = Promise.withResolvers<void>();
      const first = hostA.tryRun(DEVICE, async (_signal, release) => {
        release();
        release(); // idempotent
        released();
        await finishing;
        return "A";
      });
      await early;
      // The unlock is on its way (PostgreSQL) or done (PGlite): another host gets the device while
      // the first work is still running.
      let other = await hostB.tryRun(DEVICE, async () => "B");
      for (let i = 0; i < 50 && !other.acquired; i++) {
        await new Promise((resolve) => setTimeout(resolve, 10));
        other = await hostB.tryRun(DEVICE, async () => "B");
      }
      assert.deepEqual(other, { acquired: true, value: "B" }, "free before the first work settled");
      finish();
      assert.deepEqual(await first, { acquired: true, value: "A" });
      assert.deepEqual(
        await hostB.tryRun(DEVICE, async () => "B"),
        { acquired: true, value: "B" },
        "and still free after it",
      );
      assert.deepEqual(await hostA.tryRun(DEVICE, async () => "A2"), { acquired: true, value: "A2" });
    });

    it("answers a released lock at once when tryRun resolves: the caller's next step finds it free", async () => {
      for (let i = 0; i < 20; i++) {
        const run = await hostA.tryRun(DEVICE, async (_signal, release) => {
          const write = new Promise((resolve) => setTimeout(resolve, 1));
          release();
          await write;
          return i;
        });
        assert.deepEqual(run, { acquired: true, value: i });
        assert.deepEqual(
          await hostB.tryRun(DEVICE, async () => "B"),
          { acquired: true, value: "B" },
          `round ${i}`,
        );
      }
    });
  });
}
