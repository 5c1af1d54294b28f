/**
 * Fails when a package's Drizzle schema and its committed SQL migrations disagree: runs
 * `drizzle-kit generate` for every package that has a `drizzle.config.ts` and requires it to
 * report "No schema changes". (When they disagree, drizzle-kit has just written the missing
 * migration: review and commit it.)
 */
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";

let failed = false;
for (const dir of ["packages", "apps"]) {
  for (const name of readdirSync(dir)) {
    const cwd = join(dir, name);
    if (!existsSync(join(cwd, "drizzle.config.ts"))) continue;
    const run = spawnSync("npx", ["drizzle-kit", "generate", "--config", "drizzle.config.ts"], {
      cwd,
      encoding: "utf8",
    });
    const output = `${run.stdout}${run.stderr}`;
    if (run.status === 0 && output.includes("No schema changes")) {
      console.log(`✔ ${cwd}: migrations match the schema`);
    } else {
      failed = true;
      console.error(`✖ ${cwd}: schema and migrations disagree (or drizzle-kit failed):\n${output}`);
    }
  }
}
process.exit(failed ? 1 : 0);
