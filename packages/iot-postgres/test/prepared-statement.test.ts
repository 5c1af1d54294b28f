/**
 * `Database.prepare`: a raw statement with placeholders, rendered once and run with new values each
 * time — on PostgreSQL as a named prepared statement (parsed once per pooled connection).
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { databaseTargets, type TestDatabase } from "@granit/iot-postgres/testing";
import { sql } from "drizzle-orm";

for (const target of databaseTargets()) {
  describe(`Database.prepare on ${target.name}`, { skip: target.skip }, () => {
    let tdb: TestDatabase;

    before(async () => {
      tdb = await target.open({ migrations: [] });
      await tdb.database.execute("CREATE TABLE counters (name text PRIMARY KEY, n int NOT NULL)");
      await tdb.database.execute("INSERT INTO counters VALUES ('a', 0), ('b', 0)");
    });
    after(() => tdb.dispose());

    it("runs a data-modifying CTE with each call's values, bound by placeholder name", async () => {
      const bump = tdb.database.prepare<{ name: string; n: number }>(
        "test_bump_counters",
        sql`WITH bumped AS (
              UPDATE counters SET n = n + ${sql.placeholder("by")}
              WHERE name = ANY(${sql.placeholder("names")}::text[]) RETURNING name, n)
            SELECT name, n FROM bumped ORDER BY name`,
      );

      assert.deepEqual(await bump({ names: ["a"], by: 2 }), [{ name: "a", n: 2 }]);
      assert.deepEqual(await bump({ by: 5, names: ["a", "b"] }), [
        { name: "a", n: 7 },
        { name: "b", n: 5 },
      ]);
      assert.deepEqual(await bump({ names: [], by: 1 }), []);
    });

    it(
      target.name === "postgres"
        ? "is a named prepared statement on the connection that runs it"
        : "runs unnamed on PGlite (one in-process connection; nothing to share)",
      async () => {
        const probe = tdb.database.prepare<{ x: number; prepared: number }>(
          "test_probe_prepared",
          sql`SELECT ${sql.placeholder("x")}::int AS x,
                     (SELECT count(*)::int FROM pg_prepared_statements
                      WHERE name = 'test_probe_prepared') AS prepared`,
        );
        const expected = target.name === "postgres" ? 1 : 0;
        assert.deepEqual(await probe({ x: 1 }), [{ x: 1, prepared: expected }]);
        assert.deepEqual(await probe({ x: 2 }), [{ x: 2, prepared: expected }]);
      },
    );
  });
}
