/**
 * Durable message bus throughput, end to end: events enqueued inside write transactions
 * (transactional outbox) → claimed → handler ran → delivery completed.
 *
 *   npm exec -- node bench/bus.ts [--events 10000] [--per-tx 100]
 *
 * Runs on PGlite (in-memory) and, when DATABASE_URL is set, on PostgreSQL (fresh schema).
 * Goal (issue #2): ≥ 1,000 events/s on PGlite and ≥ 2,000 events/s on PostgreSQL.
 */
import { parseArgs } from "node:util";
import { type DomainEvent, uuidv7 } from "@granit/iot";
import { PostgresMessageBus } from "@granit/iot-postgres";
import { databaseTargets } from "@granit/iot-postgres/testing";

const { values } = parseArgs({
  options: { events: { type: "string", default: "10000" }, "per-tx": { type: "string", default: "100" } },
});
const total = Number(values.events);
const perTx = Number(values["per-tx"]);

interface Row {
  database: string;
  events: number;
  perTx: number;
  publishers: number;
  publishMs: number;
  endToEndMs: number;
  eventsPerSecond: number;
}

const rows: Row[] = [];
for (const target of databaseTargets()) {
  if (target.skip) {
    console.log(`# ${target.name}: ${target.skip}`);
    continue;
  }
  for (const batch of [perTx, 1]) {
    const count = batch === 1 ? Math.min(total, 2000) : total;
    const tdb = await target.open();
    const bus = new PostgresMessageBus(tdb.database, {
      concurrency: 64,
      batchSize: 256,
      pollIntervalMs: 200,
    });
    let handled = 0;
    let done: () => void = () => {};
    const finished = new Promise<void>((resolve) => {
      done = resolve;
    });
    bus.subscribe("BenchEvent", "bench.counter", async () => {
      if (++handled === count) done();
    });
    await bus.start();
    const started = performance.now();
    // Single-event transactions come from many concurrent requests in a real host: 16 publishers.
    const publishers = batch === 1 ? 16 : 1;
    let next = 0;
    await Promise.all(
      Array.from({ length: publishers }, async () => {
        while (next < count) {
          const from = next;
          next += batch;
          const events: DomainEvent[] = [];
          for (let j = from; j < Math.min(count, from + batch); j++) {
            events.push({
              type: "BenchEvent",
              eventId: uuidv7(),
              occurredAt: new Date().toISOString(),
              tenantId: null,
            });
          }
          await tdb.database.run((scope) => bus.publish(events, scope));
        }
      }),
    );
    const published = performance.now();
    await finished;
    await bus.drain();
    const ended = performance.now();
    rows.push({
      database: target.name,
      events: count,
      perTx: batch,
      publishers: batch === 1 ? 16 : 1,
      publishMs: Math.round(published - started),
      endToEndMs: Math.round(ended - started),
      eventsPerSecond: Math.round(count / ((ended - started) / 1000)),
    });
    await bus.stop();
    await tdb.dispose();
  }
}

console.log("\n## bench/bus.ts — durable bus, enqueue in a transaction → handler ran\n");
console.log(
  "| database | events | events per transaction | concurrent publishers | publish time (ms) | end-to-end (ms) | events/s |",
);
console.log("|---|---:|---:|---:|---:|---:|---:|");
for (const r of rows) {
  console.log(
    `| ${r.database} | ${r.events} | ${r.perTx} | ${r.publishers} | ${r.publishMs} | ${r.endToEndMs} | ${r.eventsPerSecond} |`,
  );
}
console.log("\nGoal: ≥ 1,000 events/s on PGlite, ≥ 2,000 events/s on PostgreSQL (batched transactions).");
process.exit(0);
