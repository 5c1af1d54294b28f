/**
 * Child process of the crash-point tests: opens the test database (CHILD_DATABASE_URL + CHILD_SCHEMA,
 * or the PGlite data dir CHILD_DATA_DIR), builds the provisioning stack against the parent's
 * emulator (CHILD_AWS, JSON client config) and runs CHILD_RUNS (JSON `[{deviceId, action}]`) in
 * order, printing one JSON line per finished run. `GRANIT_CRASH_AT=<point>@<deviceId>` makes it
 * SIGKILL itself at that point of that device's run (see `crashPointFromEnv`): no cleanup of any
 * kind runs, exactly like a host that dies.
 */
import { crashPointFromEnv } from "@granit/iot-aws-provisioning";
import { Database } from "@granit/iot-postgres";
import { buildStack } from "./stack.ts";

interface Run {
  readonly deviceId: string;
  readonly action: "provision" | "decommission";
}

const env = process.env;
const runs = JSON.parse(env.CHILD_RUNS ?? "[]") as Run[];
const database = await Database.open({
  url: env.CHILD_DATABASE_URL || undefined,
  dataDir: env.CHILD_DATA_DIR || undefined,
  schema: env.CHILD_SCHEMA || undefined,
  poolSize: 3,
});
const stack = buildStack({
  database,
  aws: JSON.parse(env.CHILD_AWS ?? "{}"),
  crashPoint: crashPointFromEnv(),
});
let exitCode = 0;
try {
  for (const run of runs) {
    const outcome =
      run.action === "provision"
        ? await stack.provisioning.provision(run.deviceId)
        : await stack.provisioning.decommission(run.deviceId);
    process.stdout.write(`${JSON.stringify({ ...run, outcome })}\n`);
  }
} catch (error) {
  process.stdout.write(
    `${JSON.stringify({ error: `${(error as Error).name}: ${(error as Error).message}` })}\n`,
  );
  exitCode = 1;
} finally {
  stack.iot.destroy();
  stack.secrets.destroy();
  await database.close();
}
process.exit(exitCode);
