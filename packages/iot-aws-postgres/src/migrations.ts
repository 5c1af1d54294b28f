import { fileURLToPath } from "node:url";
import type { Database } from "@granit/iot-postgres";

/**
 * Where the `iotaws_*` migrations live and the table that records them. The history is separate
 * from the core's (`__granit_iot_migrations`), so a host that does not use AWS never gets these
 * tables, and the AWS tables can evolve on their own.
 */
export const IOTAWS_MIGRATIONS = {
  folder: fileURLToPath(new URL("../drizzle", import.meta.url)),
  table: "__granit_iotaws_migrations",
} as const;

/** Creates or upgrades the `iotaws_*` tables. Safe to call from several hosts at once (advisory lock). */
export function migrateIoTAws(database: Database): Promise<void> {
  return database.migrate(IOTAWS_MIGRATIONS);
}
