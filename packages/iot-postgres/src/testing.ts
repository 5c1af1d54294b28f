/**
 * Test support (`@granit/iot-postgres/testing`): the same test body runs on PGlite and, when
 * `DATABASE_URL` is set, on PostgreSQL. Each `open()` gets a fresh schema, so tests never see each
 * other's rows. PGlite's WASM start costs seconds, so one instance is shared per test process (per
 * test file) and each test gets its own schema in it; tests of one file run one after another.
 */
import { randomBytes } from "node:crypto";
import { PGlite } from "@electric-sql/pglite";
import { Database } from "./database.ts";
import { IOT_MIGRATIONS } from "./migrations.ts";

export interface Migration {
  readonly folder: string;
  readonly table: string;
}

export interface TestDatabase {
  readonly database: Database;
  readonly schema: string;
  /** A second, independent handle on the same schema (PostgreSQL: another pool) — "another host". */
  openAnother(): Promise<Database>;
  /** Closes every handle and drops the schema. */
  dispose(): Promise<void>;
}

export interface DatabaseTarget {
  readonly name: "pglite" | "postgres";
  /** A reason to skip (printed by the runner), or false. */
  readonly skip: string | false;
  open(options?: { migrations?: readonly Migration[] }): Promise<TestDatabase>;
}

let sharedPglite: Promise<PGlite> | undefined;
function pglite(): Promise<PGlite> {
  sharedPglite ??= PGlite.create();
  return sharedPglite;
}

function freshSchema(): string {
  return `t_${randomBytes(6).toString("hex")}`;
}

async function openTarget(
  name: "pglite" | "postgres",
  migrations: readonly Migration[],
): Promise<TestDatabase> {
  const schema = freshSchema();
  const url = name === "postgres" ? process.env.DATABASE_URL : undefined;
  const shared = name === "pglite" ? await pglite() : undefined;
  const handles: Database[] = [];
  const openHandle = async () => {
    const handle = await Database.open({ url, pglite: shared, schema, poolSize: 5 });
    handles.push(handle);
    return handle;
  };
  const database = await openHandle();
  for (const migration of migrations) await database.migrate(migration);
  return {
    database,
    schema,
    openAnother: openHandle,
    async dispose() {
      for (const handle of handles.slice(1)) await handle.close();
      await database.execute(`DROP SCHEMA IF EXISTS ${schema} CASCADE`).catch(() => {});
      await database.close();
    },
  };
}

/** PGlite always; PostgreSQL when `DATABASE_URL` is set (otherwise skipped with the reason). */
export function databaseTargets(): DatabaseTarget[] {
  return (["pglite", "postgres"] as const).map((name) => ({
    name,
    skip:
      name === "postgres" && !process.env.DATABASE_URL
        ? "DATABASE_URL is not set: PostgreSQL tests skipped (PGlite ran)"
        : false,
    open: (options) => openTarget(name, options?.migrations ?? [IOT_MIGRATIONS]),
  }));
}
