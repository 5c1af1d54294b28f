import { fileURLToPath } from "node:url";
import type { Database } from "./database.ts";

/** Where this package's generated SQL migrations live, and the table that records them. */
export const IOT_MIGRATIONS = {
  folder: fileURLToPath(new URL("../drizzle", import.meta.url)),
  table: "__granit_iot_migrations",
} as const;

/** Creates or upgrades the `iot_*` tables. Safe to call from several hosts at once. */
export function migrateIoT(database: Database): Promise<void> {
  return database.migrate(IOT_MIGRATIONS);
}
