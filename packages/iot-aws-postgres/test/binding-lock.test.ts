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
      let release = () => {};
      const held = new Promise<void>((resolve) => {
        release = resolve;
      });
      let started = () => {};
      const working = new Promise<void>((resolve) => {
        started = resolve;
      });
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
  });
}
