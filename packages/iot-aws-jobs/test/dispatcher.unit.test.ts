/**
 * The dispatcher and the poller at the `client.send` seam, for AWS behaviour the emulator does not
 * implement (dynamic thing groups) or that is hard to provoke there (a job id taken by another
 * system, a retry budget running out), over the real tracking store.
 */
import assert from "node:assert/strict";
import { after, before, beforeEach, describe, it } from "node:test";
import { ManualClock, uuidv7 } from "@granit/iot";
import { AwsCallPolicy, AwsCallRetriesExhaustedError, TrackedJobStatus } from "@granit/iot-aws";
import { TestMetrics } from "@granit/iot-aws/testing";
import { IOTAWS_MIGRATIONS, PostgresJobTrackingStore } from "@granit/iot-aws-postgres";
import { IOT_MIGRATIONS, PostgresMessageBus } from "@granit/iot-postgres";
import { databaseTargets, type TestDatabase } from "@granit/iot-postgres/testing";
import {
  AwsIoTJobsCommandDispatcher,
  AwsJobsMetrics,
  type DeviceCommandFailedEvent,
  DISPATCH_RECOVERY_DELAY_MS,
  DynamicThingGroupConflictError,
  defaultAwsJobsOptions,
  JobDispatchRejectedError,
  JobIdConflictError,
  JobStatusPoller,
} from "../src/index.ts";

const ACCOUNT = "arn:aws:iot:eu-west-1:123456789012";
const THING = `${ACCOUNT}:thing/t00000000000000000000000000000000-SN-1`;
const GROUP = `${ACCOUNT}:thinggroup/line-7`;
const QUERY = "attributes.model:GW-100 AND connectivity.connected:true";

type Handler = (input: Record<string, unknown>) => unknown;

/** An IoT client at the `send` seam: answers per operation, records every call. */
class FakeIoT {
  readonly calls: { operation: string; input: Record<string, unknown> }[] = [];
  readonly handlers = new Map<string, Handler>();

  on(operation: string, handler: Handler): this {
    this.handlers.set(operation, handler);
    return this;
  }

  async send(command: { constructor: { name: string }; input: Record<string, unknown> }): Promise<unknown> {
    const operation = command.constructor.name.replace(/Command$/, "");
    this.calls.push({ operation, input: command.input });
    const handler = this.handlers.get(operation);
    if (!handler) throw awsError("InternalFailureException", 500, `no fake for ${operation}`);
    return handler(command.input);
  }

  operations(): string[] {
    return this.calls.map((c) => c.operation);
  }
}

function awsError(name: string, status: number, message = name): Error {
  return Object.assign(new Error(message), { name, $metadata: { httpStatusCode: status } });
}

const notFound = () => {
  throw awsError("ResourceNotFoundException", 404);
};

for (const target of databaseTargets()) {
  describe(`the dispatcher at the client.send seam on ${target.name}`, { skip: target.skip }, () => {
    let tdb: TestDatabase;
    let store: PostgresJobTrackingStore;
    let bus: PostgresMessageBus;
    const failed: DeviceCommandFailedEvent[] = [];
    const clock = new ManualClock("2026-06-01T00:00:00Z");
    let iot: FakeIoT;
    let metrics: TestMetrics;
    let dispatcher: AwsIoTJobsCommandDispatcher;
    const policy = new AwsCallPolicy({ maxAttempts: 2, baseDelayMilliseconds: 10, maxElapsedSeconds: 5 });

    before(async () => {
      tdb = await target.open({ migrations: [IOT_MIGRATIONS, IOTAWS_MIGRATIONS] });
      bus = new PostgresMessageBus(tdb.database, { pollIntervalMs: 20 });
      bus.subscribe<DeviceCommandFailedEvent>("DeviceCommandFailedEvent", "test.failed", async (e) => {
        failed.push(e);
      });
      await bus.start();
      store = new PostgresJobTrackingStore(tdb.database, bus);
    });
    after(async () => {
      await bus.stop();
      await tdb.dispose();
    });
    beforeEach(async () => {
      await tdb.database.execute("DELETE FROM iotaws_tracked_jobs"); // pollers see every open record
      iot = new FakeIoT().on("CreateJob", (input) => ({
        jobId: input.jobId,
        jobArn: `${ACCOUNT}:job/${input.jobId}`,
      }));
      metrics = new TestMetrics("granit.iot.aws.jobs");
      dispatcher = new AwsIoTJobsCommandDispatcher({
        iot: policy.forClient(iot, "iot"),
        trackingStore: store,
        options: defaultAwsJobsOptions(),
        clock,
        metrics: new AwsJobsMetrics(metrics.meter),
      });
      failed.length = 0;
    });

    const command = (operation = "firmware.update") => ({
      correlationId: uuidv7(),
      operation,
      parameters: { version: "2.0.0" },
      tenantId: null,
    });

    it("creates the dynamic thing group of a query on first use and targets it CONTINUOUS", async () => {
      iot.on("DescribeThingGroup", notFound).on("CreateDynamicThingGroup", (input) => ({
        thingGroupArn: `${ACCOUNT}:thinggroup/${input.thingGroupName}`,
      }));

      const { job } = await dispatcher.dispatchTracked(command(), { kind: "dynamicGroup", query: QUERY });

      assert.deepEqual(iot.operations(), ["DescribeThingGroup", "CreateDynamicThingGroup", "CreateJob"]);
      const groupName = iot.calls[1]?.input.thingGroupName as string;
      assert.match(groupName, /^granit-dynamic-[0-9a-f]{16}$/);
      assert.equal(iot.calls[1]?.input.queryString, QUERY);
      assert.deepEqual(iot.calls[2]?.input.targets, [`${ACCOUNT}:thinggroup/${groupName}`]);
      assert.equal(iot.calls[2]?.input.targetSelection, "CONTINUOUS");
      assert.equal(job.targetKind, "dynamicThingGroup");
      assert.equal(job.target, QUERY);
      assert.equal(job.thingName, null);
    });

    it("reuses the dynamic thing group of the same query", async () => {
      iot.on("DescribeThingGroup", (input) => ({
        thingGroupName: input.thingGroupName,
        thingGroupArn: `${ACCOUNT}:thinggroup/${input.thingGroupName}`,
        queryString: QUERY,
      }));

      await dispatcher.dispatch(command(), { kind: "dynamicGroup", query: QUERY });

      assert.deepEqual(iot.operations(), ["DescribeThingGroup", "CreateJob"]);
    });

    it("describes the group again when another dispatcher created it first", async () => {
      let described = 0;
      iot
        .on("DescribeThingGroup", (input) => {
          if (described++ === 0) notFound();
          return { thingGroupArn: `${ACCOUNT}:thinggroup/${input.thingGroupName}`, queryString: QUERY };
        })
        .on("CreateDynamicThingGroup", () => {
          throw awsError("ResourceAlreadyExistsException", 409);
        });

      await dispatcher.dispatch(command(), { kind: "dynamicGroup", query: QUERY });

      assert.deepEqual(iot.operations(), [
        "DescribeThingGroup",
        "CreateDynamicThingGroup",
        "DescribeThingGroup",
        "CreateJob",
      ]);
    });

    it("refuses a group of that name made for another query, and tracks nothing", async () => {
      iot.on("DescribeThingGroup", () => ({
        thingGroupArn: `${ACCOUNT}:thinggroup/x`,
        queryString: "other",
      }));
      const cmd = command();

      await assert.rejects(
        dispatcher.dispatch(cmd, { kind: "dynamicGroup", query: QUERY }),
        DynamicThingGroupConflictError,
      );
      assert.equal(await store.findByCorrelationId(cmd.correlationId), null);
      assert.equal(iot.operations().includes("CreateJob"), false);
    });

    it("targets a static thing group as a SNAPSHOT job", async () => {
      await dispatcher.dispatch(command(), { kind: "group", address: GROUP });

      assert.deepEqual(iot.calls[0]?.input.targets, [GROUP]);
      assert.equal(iot.calls[0]?.input.targetSelection, "SNAPSHOT");
      assert.deepEqual(iot.calls[0]?.input.timeoutConfig, { inProgressTimeoutInMinutes: 60 });
    });

    it("refuses a job id AWS holds for another command, and tracks nothing", async () => {
      iot
        .on("CreateJob", () => {
          throw awsError("ResourceAlreadyExistsException", 409);
        })
        .on("DescribeJob", () => ({ job: { description: "someone else's job" } }));
      const cmd = command();

      await assert.rejects(dispatcher.dispatch(cmd, { kind: "device", address: THING }), JobIdConflictError);
      assert.equal(await store.findByCorrelationId(cmd.correlationId), null);
      assert.equal(
        await metrics.sum("granit.iot.aws.jobs.dispatch_errors", { error_type: "JobIdConflictError" }),
        1,
      );
    });

    it("keeps the record Dispatching when the retry budget runs out, and the poller finishes it later", async () => {
      let throttled = true;
      iot.on("CreateJob", (input) => {
        if (throttled) throw awsError("ThrottlingException", 400);
        return { jobId: input.jobId, jobArn: `${ACCOUNT}:job/${input.jobId}` };
      });
      const cmd = command();

      await assert.rejects(
        dispatcher.dispatch(cmd, { kind: "device", address: THING }),
        AwsCallRetriesExhaustedError,
      );
      const stranded = await store.findByCorrelationId(cmd.correlationId);
      throttled = false;
      clock.advance(DISPATCH_RECOVERY_DELAY_MS + 300_000);
      const poller = new JobStatusPoller({
        iot: policy.forClient(iot, "iot"),
        trackingStore: store,
        dispatcher,
        options: defaultAwsJobsOptions(),
        clock,
      });
      const round = await poller.pollOnce();

      assert.equal(stranded?.status, TrackedJobStatus.Dispatching);
      assert.equal(round.resumed, 1);
      assert.equal((await store.findByCorrelationId(cmd.correlationId))?.status, TrackedJobStatus.Dispatched);
    });

    it("closes a recovered dispatch AWS refuses for good as DISPATCH_REJECTED, with a failed event", async () => {
      const stuck = command();
      iot.on("CreateJob", () => {
        throw awsError("ThrottlingException", 400);
      });
      await assert.rejects(dispatcher.dispatch(stuck, { kind: "device", address: THING }));
      iot.on("CreateJob", () => {
        throw awsError("InvalidRequestException", 400, "Thing t0-SN-1 cannot be found.");
      });
      clock.advance(DISPATCH_RECOVERY_DELAY_MS + 300_000);
      const poller = new JobStatusPoller({
        iot: policy.forClient(iot, "iot"),
        trackingStore: store,
        dispatcher,
        options: defaultAwsJobsOptions(),
        clock,
      });

      const round = await poller.pollOnce();
      await bus.drain();

      assert.equal(round.closed, 1);
      const event = failed.find((e) => e.correlationId === stuck.correlationId);
      assert.equal(event?.status, "DISPATCH_REJECTED");
      assert.match(event?.reason ?? "", /InvalidRequestException/);
    });

    it("wraps a refusal of a fresh dispatch in JobDispatchRejectedError naming AWS's error", async () => {
      iot.on("CreateJob", () => {
        throw awsError("LimitExceededException", 410, "Too many active jobs");
      });

      await assert.rejects(
        dispatcher.dispatch(command(), { kind: "device", address: THING }),
        (error: unknown) => {
          assert.ok(error instanceof JobDispatchRejectedError);
          assert.equal(error.awsErrorName, "LimitExceededException");
          assert.match(error.message, /Too many active jobs/);
          return true;
        },
      );
    });

    it("reports a group job through DescribeJob: completed when every thing succeeded, failed with counts otherwise", async () => {
      const ok = await dispatcher.dispatchTracked(command(), { kind: "group", address: GROUP });
      const mixed = await dispatcher.dispatchTracked(command(), { kind: "group", address: GROUP });
      iot.on("DescribeJob", (input) => ({
        job: {
          jobId: input.jobId,
          status: "COMPLETED",
          completedAt: clock.now(),
          jobProcessDetails:
            input.jobId === ok.job.jobId
              ? { numberOfSucceededThings: 3 }
              : { numberOfSucceededThings: 2, numberOfFailedThings: 1 },
        },
      }));
      clock.advance(300_000);
      const poller = new JobStatusPoller({
        iot: policy.forClient(iot, "iot"),
        trackingStore: store,
        dispatcher,
        options: defaultAwsJobsOptions(),
        clock,
      });

      await poller.pollOnce();
      await bus.drain();

      assert.equal((await store.findByJobId(ok.job.jobId))?.status, TrackedJobStatus.Succeeded);
      const event = failed.find((e) => e.jobId === mixed.job.jobId);
      assert.equal(event?.status, "COMPLETED");
      assert.deepEqual(event?.statusDetails, { succeeded: "2", failed: "1" });
      assert.equal(event?.reason, "1 of 3 things did not succeed");
      assert.equal(iot.operations().includes("DescribeJobExecution"), false);
    });
  });
}
