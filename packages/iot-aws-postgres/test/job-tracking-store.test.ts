import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { ALL_TENANTS, type DomainEvent, DomainValidationError, ManualClock, uuidv7 } from "@granit/iot";
import { CommandTargetKind, type NewTrackedJob, TrackedJobStatus } from "@granit/iot-aws";
import { IOTAWS_MIGRATIONS, PostgresJobTrackingStore } from "@granit/iot-aws-postgres";
import { IOT_MIGRATIONS, PostgresMessageBus } from "@granit/iot-postgres";
import { databaseTargets, type TestDatabase } from "@granit/iot-postgres/testing";

const TENANT_A = "0a7c2b6e-0000-4000-8000-00000000000a";
const TENANT_B = "0b7c2b6e-0000-4000-8000-00000000000b";
const clock = new ManualClock("2026-05-01T00:00:00Z");
const MINUTE = 60_000;

let sequence = 0;
function newJob(overrides: Partial<NewTrackedJob> = {}): NewTrackedJob {
  sequence++;
  const now = clock.now();
  const correlationId = overrides.correlationId ?? uuidv7(now.getTime() + sequence);
  return {
    commandId: uuidv7(now.getTime() + sequence),
    jobId: `granit-${correlationId}`,
    correlationId,
    tenantId: TENANT_A,
    deviceId: "0194a5e0-0000-7000-8000-000000000001",
    thingName: `t${TENANT_A.replaceAll("-", "")}-SN-1`,
    targetKind: CommandTargetKind.Thing,
    target: `arn:aws:iot:us-east-1:000000000000:thing/t${TENANT_A.replaceAll("-", "")}-SN-1`,
    operation: "firmware.update",
    parameters: { version: "1.2.3", n: sequence },
    parametersHash: `hash-${sequence}`,
    requestedBy: "test",
    createdAt: now,
    nextPollAt: new Date(now.getTime() + 5 * MINUTE),
    expiresAt: new Date(now.getTime() + 72 * 60 * MINUTE),
    ...overrides,
  };
}

const outcome = (jobId: string): DomainEvent =>
  ({
    type: "DeviceCommandCompletedEvent",
    eventId: uuidv7(),
    occurredAt: clock.now().toISOString(),
    tenantId: TENANT_A,
    jobId,
  }) as DomainEvent;

for (const target of databaseTargets()) {
  describe(`PostgresJobTrackingStore on ${target.name}`, { skip: target.skip }, () => {
    let tdb: TestDatabase;
    let bus: PostgresMessageBus;
    let store: PostgresJobTrackingStore;
    const deliveries = async () =>
      Number(
        (
          await tdb.database.execute<{ n: string }>(
            "SELECT count(*)::text AS n FROM iot_bus_deliveries WHERE event_type = 'DeviceCommandCompletedEvent'",
          )
        )[0]?.n,
      );

    // One schema per file (PGlite shares one session per process): tests that need every due row
    // to be theirs start from an empty table.
    const emptyTable = () => tdb.database.execute("DELETE FROM iotaws_tracked_jobs");

    before(async () => {
      tdb = await target.open({ migrations: [IOT_MIGRATIONS, IOTAWS_MIGRATIONS] });
      bus = new PostgresMessageBus(tdb.database);
      bus.subscribe("DeviceCommandCompletedEvent", "test.sink", async () => {});
      await bus.start();
      await bus.stop(); // subscription registered; deliveries stay in the table for inspection
      store = new PostgresJobTrackingStore(tdb.database, bus);
    });
    after(() => tdb.dispose());

    it("inserts a Dispatching record once and returns the stored one to a second begin", async () => {
      const job = newJob();
      const first = await store.begin(job);
      const second = await store.begin({ ...newJob({ correlationId: job.correlationId }), jobId: job.jobId });

      assert.equal(first.created, true);
      assert.equal(first.job.status, TrackedJobStatus.Dispatching);
      assert.deepEqual(first.job.parameters, job.parameters);
      assert.equal(second.created, false);
      assert.equal(second.job.commandId, job.commandId);
      assert.equal(second.job.parametersHash, job.parametersHash);
    });

    it("lets exactly one of many concurrent begins of one correlation id create the record", async () => {
      const correlationId = uuidv7();
      const results = await Promise.all(
        Array.from({ length: 8 }, () => store.begin(newJob({ correlationId }))),
      );

      assert.equal(results.filter((r) => r.created).length, 1);
      assert.equal(new Set(results.map((r) => r.job.commandId)).size, 1);
    });

    it("marks a record Dispatched only from Dispatching, and discards only a Dispatching record", async () => {
      const job = newJob();
      await store.begin(job);
      const at = clock.advance(1000);

      assert.equal(
        await store.markDispatched(job.jobId, {
          jobArn: "arn:job",
          at,
          nextPollAt: new Date(at.getTime() + MINUTE),
        }),
        true,
      );
      assert.equal(await store.markDispatched(job.jobId, { jobArn: "arn:job", at, nextPollAt: at }), false);
      assert.equal(await store.discard(job.jobId), false);
      const stored = await store.findByJobId(job.jobId);
      assert.equal(stored?.status, TrackedJobStatus.Dispatched);
      assert.equal(stored?.jobArn, "arn:job");
      assert.equal(stored?.dispatchedAt?.toISOString(), at.toISOString());

      const doomed = newJob();
      await store.begin(doomed);
      assert.equal(await store.discard(doomed.jobId), true);
      assert.equal(await store.findByJobId(doomed.jobId), null);
    });

    it("hands every due open record out once per round, in batches, and none before it is due", async () => {
      await emptyTable();
      {
        const local = store;
        const now = clock.now();
        for (let i = 0; i < 25; i++) await local.begin(newJob({ nextPollAt: now }));
        await local.begin(newJob({ nextPollAt: new Date(now.getTime() + MINUTE) })); // not due yet
        const next = new Date(now.getTime() + 5 * MINUTE);

        const seen: string[] = [];
        const sizes: number[] = [];
        for (;;) {
          const batch = await local.claimDue({ now, limit: 10, nextPollAt: next });
          if (batch.length === 0) break;
          sizes.push(batch.length);
          seen.push(...batch.map((j) => j.jobId));
        }

        assert.deepEqual(sizes, [10, 10, 5]);
        assert.equal(new Set(seen).size, 25);
        const again = await local.claimDue({
          now: new Date(next.getTime() - 1),
          limit: 100,
          nextPollAt: next,
        });
        assert.equal(again.length, 1, "only the record that became due meanwhile");
        const claimed = await local.findByJobId(seen[0] ?? "");
        assert.equal(claimed?.pollCount, 1);
        assert.equal(claimed?.nextPollAt.toISOString(), next.toISOString());
      }
    });

    it("gives two pollers on two connections disjoint claims that together cover every due record", async () => {
      await emptyTable();
      {
        const a = store;
        const b = new PostgresJobTrackingStore(await tdb.openAnother(), bus);
        const now = clock.now();
        for (let i = 0; i < 60; i++) await a.begin(newJob({ nextPollAt: now }));
        const next = new Date(now.getTime() + 5 * MINUTE);
        const drain = async (store: PostgresJobTrackingStore) => {
          const ids: string[] = [];
          for (;;) {
            const batch = await store.claimDue({ now, limit: 7, nextPollAt: next });
            if (batch.length === 0) return ids;
            ids.push(...batch.map((j) => j.jobId));
          }
        };

        const [fromA, fromB] = await Promise.all([drain(a), drain(b)]);

        assert.equal(fromA.length + fromB.length, 60);
        assert.equal(new Set([...fromA, ...fromB]).size, 60);
      }
    });

    it("closes a record and publishes its outcome once, even when two connections close it at once", async () => {
      const job = newJob();
      await store.begin(job);
      await store.markDispatched(job.jobId, { jobArn: null, at: clock.now(), nextPollAt: clock.now() });
      const other = new PostgresJobTrackingStore(await tdb.openAnother(), bus);
      const before = await deliveries();
      const closure = {
        status: TrackedJobStatus.Succeeded,
        executionStatus: "SUCCEEDED",
        statusDetails: { step: "done" },
        reason: null,
        at: clock.advance(1000),
      };

      const results = await Promise.all([
        store.close(job.jobId, closure, [outcome(job.jobId)]),
        other.close(job.jobId, closure, [outcome(job.jobId)]),
        store.close(job.jobId, closure, [outcome(job.jobId)]),
      ]);

      assert.equal(results.filter(Boolean).length, 1);
      assert.equal((await deliveries()) - before, 1);
      const stored = await store.findByJobId(job.jobId);
      assert.equal(stored?.status, TrackedJobStatus.Succeeded);
      assert.deepEqual(stored?.statusDetails, { step: "done" });
      assert.equal(stored?.terminalPublishedAt?.toISOString(), closure.at.toISOString());
      const due = await store.claimDue({
        now: new Date(closure.at.getTime() + 365 * 24 * 60 * MINUTE),
        limit: 1000,
        nextPollAt: clock.now(),
      });
      assert.equal(
        due.some((j) => j.jobId === job.jobId),
        false,
        "a closed record is never claimed again",
      );
    });

    it("refuses to close a record with an open status", async () => {
      const job = newJob();
      await store.begin(job);
      await assert.rejects(
        store.close(
          job.jobId,
          {
            status: TrackedJobStatus.Dispatched,
            executionStatus: null,
            statusDetails: null,
            reason: null,
            at: clock.now(),
          },
          [],
        ),
        TypeError,
      );
    });

    it("records progress and cancel requests on open records only", async () => {
      const job = newJob();
      await store.begin(job);
      const at = clock.advance(1000);

      await store.recordProgress(job.jobId, {
        executionStatus: "IN_PROGRESS",
        statusDetails: { pct: "40" },
        at,
      });
      assert.equal(await store.requestCancel(job.jobId, at), true);
      const stored = await store.findByJobId(job.jobId);
      assert.equal(stored?.executionStatus, "IN_PROGRESS");
      assert.deepEqual(stored?.statusDetails, { pct: "40" });
      assert.equal(stored?.cancelRequestedAt?.toISOString(), at.toISOString());
      assert.equal(
        stored?.nextPollAt.toISOString(),
        at.toISOString(),
        "a cancel makes the record due at once",
      );

      await store.close(
        job.jobId,
        {
          status: TrackedJobStatus.Canceled,
          executionStatus: "CANCELED",
          statusDetails: null,
          reason: null,
          at,
        },
        [],
      );
      assert.equal(await store.requestCancel(job.jobId, at), false);
      await store.recordProgress(job.jobId, { executionStatus: "QUEUED", statusDetails: null, at });
      assert.equal((await store.findByJobId(job.jobId))?.executionStatus, "CANCELED");
    });

    it("pages a device's commands newest first through its tenant only", async () => {
      const deviceId = uuidv7();
      const ids: string[] = [];
      for (let i = 0; i < 5; i++) {
        clock.advance(1000);
        const job = newJob({ deviceId });
        ids.push(job.commandId);
        await store.begin(job);
      }
      await store.begin(newJob({ deviceId, tenantId: TENANT_B }));

      const first = await store.pageByDevice({ deviceId, tenant: TENANT_A, limit: 3 });
      const second = await store.pageByDevice({
        deviceId,
        tenant: TENANT_A,
        limit: 3,
        cursor: first.nextCursor,
      });

      assert.deepEqual(
        [...first.items, ...second.items].map((j) => j.commandId),
        [...ids].reverse(),
      );
      assert.equal(second.nextCursor, null);
      assert.equal((await store.pageByDevice({ deviceId, tenant: ALL_TENANTS, limit: 100 })).items.length, 6);
      assert.equal(await store.findByCommandId(ids[0] ?? "", TENANT_B), null);
      assert.equal((await store.findByCommandId(ids[0] ?? "", TENANT_A))?.commandId, ids[0]);
      await assert.rejects(
        store.pageByDevice({ deviceId, tenant: TENANT_A, limit: 3, cursor: "bm90LWEtY3Vyc29y" }),
        DomainValidationError,
      );
    });

    it("refuses a closed status without a publication time (the CHECK keeps closed and published together)", async () => {
      const job = newJob();
      await store.begin(job);
      await assert.rejects(
        tdb.database.execute("UPDATE iotaws_tracked_jobs SET status = 'Succeeded' WHERE job_id = $1", [
          job.jobId,
        ]),
        /ck_iotaws_tracked_jobs_closed_published/,
      );
    });
  });
}
