import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { Database } from "@granit/iot-postgres";
import { databaseTargets, type TestDatabase } from "@granit/iot-postgres/testing";

/** A promise the test resolves by hand, to hold a lock open while it probes. */
function gate(): { opened: Promise<void>; open: () => void } {
  let open = () => {};
  const opened = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { opened, open };
}

/** Starts `run` and resolves once its work is running (the lock is held), with the pending result. */
async function holding<W, R>(
  run: (work: () => Promise<W>) => Promise<R>,
  work: () => Promise<W>,
): Promise<{ result: Promise<R> }> {
  const inside = gate();
  const result = run(() => {
    inside.open();
    return work();
  });
  await Promise.race([inside.opened, result]);
  return { result };
}

for (const target of databaseTargets()) {
  describe(`Database.withAdvisoryLock on ${target.name}`, { skip: target.skip }, () => {
    let tdb: TestDatabase;
    let other: Database;

    before(async () => {
      tdb = await target.open({ migrations: [] });
      other = await tdb.openAnother();
    });
    after(() => tdb.dispose());

    it("runs the work under the lock and returns its value", async () => {
      const result = await tdb.database.withAdvisoryLock("device:1", async () => 42);
      assert.deepEqual(result, { acquired: true, value: 42 });
    });

    it("refuses a second holder of the same key, in this process and through another handle", async () => {
      const held = gate();
      const { result: first } = await holding(
        (work) => tdb.database.withAdvisoryLock("device:2", work),
        () => held.opened.then(() => "first"),
      );
      try {
        assert.deepEqual(await tdb.database.withAdvisoryLock("device:2", async () => "same handle"), {
          acquired: false,
        });
        assert.deepEqual(await other.withAdvisoryLock("device:2", async () => "another host"), {
          acquired: false,
        });
      } finally {
        held.open();
      }
      assert.deepEqual(await first, { acquired: true, value: "first" });
      assert.deepEqual(await other.withAdvisoryLock("device:2", async () => "after release"), {
        acquired: true,
        value: "after release",
      });
    });

    it("lets different keys be held at the same time", async () => {
      const held = gate();
      const { result: first } = await holding(
        (work) => tdb.database.withAdvisoryLock("device:3", work),
        () => held.opened,
      );
      try {
        assert.deepEqual(await other.withAdvisoryLock("device:4", async () => "other key"), {
          acquired: true,
          value: "other key",
        });
      } finally {
        held.open();
      }
      assert.equal((await first).acquired, true);
    });

    it("releases the lock when the work throws", async () => {
      await assert.rejects(
        tdb.database.withAdvisoryLock("device:5", async () => {
          throw new Error("boom");
        }),
        /boom/,
      );
      assert.deepEqual(await other.withAdvisoryLock("device:5", async () => "free"), {
        acquired: true,
        value: "free",
      });
    });

    it("scopes keys to the schema, so two schemas never contend", async () => {
      const neighbour = await target.open({ migrations: [] });
      const held = gate();
      const { result: first } = await holding(
        (work) => tdb.database.withAdvisoryLock("device:6", work),
        () => held.opened,
      );
      try {
        assert.equal((await neighbour.database.withAdvisoryLock("device:6", async () => 1)).acquired, true);
      } finally {
        held.open();
        await first;
        await neighbour.dispose();
      }
    });

    it("takes and releases many keys at once, each held by exactly one work", async () => {
      const warnings: Error[] = [];
      const onWarning = (warning: Error) => warnings.push(warning);
      process.on("warning", onWarning);
      try {
        const keys = Array.from({ length: 40 }, (_, i) => `burst:${i % 20}`);
        const running = new Set<string>();
        const results = await Promise.all(
          keys.map((key) =>
            tdb.database.withAdvisoryLock(key, async () => {
              assert.equal(running.has(key), false, `${key} is held by one work at a time`);
              running.add(key);
              await new Promise((resolve) => setImmediate(resolve));
              running.delete(key);
              return key;
            }),
          ),
        );
        assert.ok(results.filter((r) => r.acquired).length >= 20, "every key was taken at least once");
        for (let i = 0; i < 20; i++) {
          assert.equal(
            (await other.withAdvisoryLock(`burst:${i}`, async () => 1)).acquired,
            true,
            "released",
          );
        }
        await new Promise((resolve) => setImmediate(resolve));
        // node-postgres warns (and from pg@9 refuses) when one client is sent a query while busy.
        assert.deepEqual(
          warnings.map((w) => w.message),
          [],
        );
      } finally {
        process.off("warning", onWarning);
      }
    });

    if (target.name === "postgres") {
      it("aborts the holder's signal and frees the key when the lock connection dies", async () => {
        const held = gate();
        let aborted: unknown;
        const inside = gate();
        const first = tdb.database.withAdvisoryLock("device:7", async (signal) => {
          signal.addEventListener("abort", () => {
            aborted = signal.reason;
            held.open();
          });
          inside.open();
          await held.opened;
          return "ran";
        });
        await inside.opened;
        const [killed] = await other.execute<{ n: number }>(
          `SELECT count(pg_terminate_backend(l.pid))::int AS n
           FROM pg_locks l, (SELECT hashtextextended($1, 0) AS h) k
           WHERE l.locktype = 'advisory' AND l.objsubid = 1 AND l.granted
             AND l.classid::text::bigint = ((k.h >> 32) & 4294967295)
             AND l.objid::text::bigint = (k.h & 4294967295)`,
          [`${tdb.schema}:device:7`],
        );
        assert.equal(killed?.n, 1, "the session holding the lock was found");
        assert.deepEqual(await first, { acquired: true, value: "ran" });
        assert.match(String(aborted), /advisory-lock connection was lost/);
        assert.equal((await other.withAdvisoryLock("device:7", async () => 1)).acquired, true);
        assert.equal(
          (await tdb.database.withAdvisoryLock("device:8", async () => 1)).acquired,
          true,
          "a new lock connection is opened",
        );
      });
    }
  });
}
