import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it, type TestContext } from "node:test";
import { type DomainEvent, uuidv7 } from "@granit/iot";
import { PostgresMessageBus } from "@granit/iot-postgres";
import { databaseTargets } from "@granit/iot-postgres/testing";

interface PingEvent extends DomainEvent {
  readonly type: "PingEvent";
  readonly n: number;
}

function ping(n: number): PingEvent {
  return { type: "PingEvent", eventId: uuidv7(), occurredAt: new Date().toISOString(), tenantId: null, n };
}

async function waitFor(
  check: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs = 60_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** Opens a fresh schema and a bus on it; both are stopped/dropped when the test ends, pass or fail. */
async function setup(t: TestContext, target: ReturnType<typeof databaseTargets>[number], options = {}) {
  const tdb = await target.open();
  const bus = new PostgresMessageBus(tdb.database, { pollIntervalMs: 20, ...options });
  t.after(async () => {
    await bus.stop();
    await tdb.dispose();
  });
  return { tdb, bus };
}

const fastRetries = { maxAttempts: 3, backoffMs: 10, maxBackoffMs: 20 };

for (const target of databaseTargets()) {
  describe(`PostgresMessageBus on ${target.name}`, { skip: target.skip }, () => {
    it("delivers a committed event once to every subscribed handler", async (t) => {
      const { tdb, bus } = await setup(t, target, { pollIntervalMs: 50 });
      const seen: string[] = [];
      bus.subscribe<PingEvent>("PingEvent", "audit", async (e) => void seen.push(`audit:${e.n}`));
      bus.subscribe<PingEvent>("PingEvent", "metrics", async (e) => void seen.push(`metrics:${e.n}`));
      await bus.start();
      await tdb.database.run((scope) => bus.publish([ping(1), ping(2)], scope));
      await bus.drain();
      assert.deepEqual(seen.sort(), ["audit:1", "audit:2", "metrics:1", "metrics:2"]);
    });

    it("publishes nothing when the transaction rolls back", async (t) => {
      const { tdb, bus } = await setup(t, target, { pollIntervalMs: 50 });
      const seen: number[] = [];
      bus.subscribe<PingEvent>("PingEvent", "audit", async (e) => void seen.push(e.n));
      await bus.start();
      await assert.rejects(
        tdb.database.run(async (scope) => {
          await bus.publish([ping(1)], scope);
          throw new Error("business rule failed");
        }),
        /business rule failed/,
      );
      await tdb.database.run((scope) => bus.publish([ping(2)], scope));
      await bus.drain();
      assert.deepEqual(seen, [2]);
      const rows = await tdb.database.execute("SELECT 1 FROM iot_bus_deliveries");
      assert.equal(rows.length, 0);
    });

    it("retries a failing handler with backoff until it succeeds", async (t) => {
      const { bus } = await setup(t, target, { pollIntervalMs: 20 });
      const attempts: number[] = [];
      bus.subscribe<PingEvent>(
        "PingEvent",
        "flaky",
        async (_e, context) => {
          attempts.push(context.attempt);
          if (context.attempt < 3) throw new Error("transient");
        },
        { maxAttempts: 5, backoffMs: 10, maxBackoffMs: 20 },
      );
      await bus.start();
      await bus.publish([ping(1)]);
      await bus.drain();
      assert.deepEqual(attempts, [1, 2, 3]);
      assert.deepEqual(await bus.deadLetters(), []);
    });

    it("dead-letters after maxAttempts, keeps the error, and lets an operator retry it", async (t) => {
      const { bus } = await setup(t, target, { pollIntervalMs: 20 });
      let calls = 0;
      let healed = false;
      bus.subscribe<PingEvent>(
        "PingEvent",
        "broken",
        async () => {
          calls++;
          if (!healed) throw new TypeError("cannot read the payload");
        },
        fastRetries,
      );
      await bus.start();
      const event = ping(7);
      await bus.publish([event]);
      await waitFor(async () => (await bus.deadLetters("broken")).length === 1, "a dead letter");
      const [dead] = await bus.deadLetters("broken");
      assert.equal(calls, 3);
      assert.equal(dead?.attempts, 3);
      assert.equal(dead?.eventId, event.eventId);
      assert.equal(dead?.lastError, "TypeError: cannot read the payload");
      healed = true;
      assert.equal(await bus.retryDeadLetter(dead?.id ?? -1), true);
      await bus.drain();
      assert.equal(calls, 4);
      assert.deepEqual(await bus.deadLetters("broken"), []);
    });

    it("shares the work between two bus instances on one database: each event once per handler", async (t) => {
      const tdb = await target.open();
      t.after(() => tdb.dispose());
      const other = await tdb.openAnother();
      const handled = new Map<string, number>();
      const count = (host: string) => async (e: PingEvent) => {
        handled.set(e.eventId, (handled.get(e.eventId) ?? 0) + 1);
        handled.set(host, (handled.get(host) ?? 0) + 1);
      };
      const busA = new PostgresMessageBus(tdb.database, { pollIntervalMs: 20, batchSize: 5, concurrency: 4 });
      const busB = new PostgresMessageBus(other, { pollIntervalMs: 20, batchSize: 5, concurrency: 4 });
      busA.subscribe<PingEvent>("PingEvent", "shared", count("hostA"));
      busB.subscribe<PingEvent>("PingEvent", "shared", count("hostB"));
      t.after(() => Promise.all([busA.stop(), busB.stop()]));
      await busA.start();
      await busB.start();
      const events = Array.from({ length: 300 }, (_, i) => ping(i));
      for (let i = 0; i < events.length; i += 50) await busA.publish(events.slice(i, i + 50));
      await busA.drain();
      await busB.drain();
      for (const e of events) assert.equal(handled.get(e.eventId), 1, `event ${e.n} handled once`);
      assert.equal((handled.get("hostA") ?? 0) + (handled.get("hostB") ?? 0), 300);
      if (target.name === "postgres") {
        // Two pools really compete on PostgreSQL; on PGlite both handles share one session.
        assert.ok((handled.get("hostA") ?? 0) > 0 && (handled.get("hostB") ?? 0) > 0, "both hosts took work");
      }
    });

    it("ignores a second publish of the same event id for a handler that already has it", async (t) => {
      const { tdb, bus } = await setup(t, target, { pollIntervalMs: 50 });
      bus.subscribe<PingEvent>("PingEvent", "audit", async () => {});
      await bus.start();
      await bus.stop();
      const event = ping(1);
      await bus.publish([event]);
      await bus.publish([event]);
      const rows = await tdb.database.execute("SELECT 1 FROM iot_bus_deliveries");
      assert.equal(rows.length, 1);
    });

    it("redelivers an event whose worker process was SIGKILLed mid-delivery", async () => {
      const work = mkdtempSync(join(tmpdir(), "granit-bus-crash-"));
      const marker = join(work, "marker.log");
      const schema = `crash_${Date.now().toString(36)}`;
      const env: Record<string, string> = {
        ...(process.env as Record<string, string>),
        MARKER_FILE: marker,
        LEASE_MS: "1000",
        ...(target.name === "postgres"
          ? { WORKER_DATABASE_URL: process.env.DATABASE_URL ?? "", WORKER_SCHEMA: schema }
          : { WORKER_DATA_DIR: join(work, "pglite") }),
      };
      const worker = join(import.meta.dirname, "fixtures", "bus-worker.ts");
      const spawnWorker = (extra: Record<string, string>): ChildProcess =>
        spawn(process.execPath, [worker], {
          env: { ...env, ...extra },
          stdio: ["ignore", "pipe", "inherit"],
        });
      const lines = () => {
        try {
          return readFileSync(marker, "utf8").trim().split("\n").filter(Boolean);
        } catch {
          return [];
        }
      };
      try {
        const first = spawnWorker({ HANG: "1", PUBLISH: "1" });
        await waitFor(() => lines().length === 1, "the first delivery to start");
        first.kill("SIGKILL");
        await new Promise((resolve) => first.once("exit", resolve));

        const second = spawnWorker({ HANG: "0" });
        let output = "";
        second.stdout?.on("data", (chunk) => {
          output += chunk;
        });
        const exitCode = await new Promise((resolve) => second.once("exit", resolve));
        assert.equal(exitCode, 0, output);
        const [firstLine, secondLine, ...rest] = lines();
        const [eventId, attempt1] = firstLine?.split(" ") ?? [];
        assert.equal(attempt1, "1");
        assert.equal(secondLine, `${eventId} 2`, "the same event was delivered again, as attempt 2");
        assert.deepEqual(rest, []);
      } finally {
        rmSync(work, { recursive: true, force: true });
        if (target.name === "postgres") {
          const tdb = await target.open();
          await tdb.database.execute(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
          await tdb.dispose();
        }
      }
    });
  });
}
