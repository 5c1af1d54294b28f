/**
 * Child process of the chaos test: a "host" without HTTP — the durable bus with the provisioning
 * saga and decommission handlers registered — on the test database (CHILD_DATABASE_URL +
 * CHILD_SCHEMA, or the PGlite data dir CHILD_DATA_DIR) against the parent's emulator (CHILD_AWS).
 * Prints `ready` once the bus runs. With CHILD_EXPECT=n it exits 0 (printing `done {...}`) once n
 * bindings are Active and the bus is drained; otherwise it runs until the parent SIGKILLs it.
 */
import { Database } from "@granit/iot-postgres";
import { buildStack } from "./stack.ts";

const env = process.env;
const database = await Database.open({
  url: env.CHILD_DATABASE_URL || undefined,
  dataDir: env.CHILD_DATA_DIR || undefined,
  schema: env.CHILD_SCHEMA || undefined,
  poolSize: 20,
});
const stack = buildStack({
  database,
  aws: JSON.parse(env.CHILD_AWS ?? "{}"),
  register: true,
  bus: { leaseMs: 1500, pollIntervalMs: 50, concurrency: 16 },
});
await stack.bus.start();
process.stdout.write("ready\n");

const count = async () =>
  (
    await database.execute<{ active: number; failed: number }>(
      `SELECT count(*) FILTER (WHERE provisioning_status = 'Active')::int AS active,
              count(*) FILTER (WHERE provisioning_status = 'Failed')::int AS failed
       FROM iotaws_thing_bindings WHERE deleted_at IS NULL`,
    )
  )[0];
const expected = Number(env.CHILD_EXPECT ?? 0);
if (expected === 0) {
  // Progress for the parent, which kills this process at a random moment.
  setInterval(() => {
    void count().then((row) => process.stdout.write(`progress ${row?.active ?? 0}\n`));
  }, 100);
} else {
  const deadline = Date.now() + 120_000;
  for (;;) {
    const row = await count();
    if ((row?.active ?? 0) + (row?.failed ?? 0) >= expected || Date.now() > deadline) {
      await stack.bus.drain(30_000).catch(() => {});
      const dead = await stack.bus.deadLetters(undefined, 1000);
      await stack.bus.stop();
      process.stdout.write(`done ${JSON.stringify({ ...row, deadLetters: dead.length })}\n`);
      break;
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  stack.iot.destroy();
  stack.secrets.destroy();
  await database.close();
  process.exit(0);
}
