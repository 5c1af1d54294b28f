/**
 * Commands end to end with the real AWS SDK against the emulator and the real database: dispatch →
 * IoT job → a simulated device on the jobs data plane (StartNextPendingJobExecution /
 * UpdateJobExecution) → the status poller → exactly one outcome event.
 */
import assert from "node:assert/strict";
import { after, before, beforeEach, describe, it } from "node:test";
import { DeleteThingCommand, DescribeJobCommand } from "@aws-sdk/client-iot";
import { type DeviceCommandTarget, uuidv7 } from "@granit/iot";
import { AwsCredentialsNotReadyError, TrackedJobStatus } from "@granit/iot-aws";
import { databaseTargets } from "@granit/iot-postgres/testing";
import { CommandCorrelationConflictError, JobDispatchRejectedError } from "../src/index.ts";
import { JobsHarness, TENANT, type TestDevice, type TestHost } from "./support/jobs-harness.ts";

const POLL = 300_000;
const command = (parameters: Record<string, unknown> = { version: "2.0.0" }, correlationId = uuidv7()) => ({
  correlationId,
  operation: "firmware.update",
  parameters,
  tenantId: TENANT,
});
const toThing = (device: TestDevice): DeviceCommandTarget => ({
  kind: "device",
  address: device.thingArn,
  deviceId: device.deviceId,
});

for (const target of databaseTargets()) {
  describe(`device commands as IoT jobs on ${target.name}`, { skip: target.skip }, () => {
    let h: JobsHarness;
    let host: TestHost;
    before(async () => {
      h = await JobsHarness.open(target);
    });
    after(() => h?.dispose());
    beforeEach(async () => {
      await h.reset();
      host = await h.host();
      await host.bus.start();
    });

    const pollAfter = async (ms = POLL) => {
      h.clock.advance(ms);
      const summary = await host.jobs.poller.pollOnce();
      await host.bus.drain();
      return summary;
    };

    it("creates the job {prefix}-{correlation} with the document, the in-progress timeout and a snapshot target", async () => {
      const device = await h.device();
      const cmd = command({ version: "2.0.0", channel: "stable" });

      const { job, reused } = await host.jobs.dispatcher.dispatchTracked(cmd, toThing(device));

      assert.equal(reused, false);
      assert.equal(job.jobId, `granit-${cmd.correlationId}`);
      assert.equal(job.status, TrackedJobStatus.Dispatched);
      const [awsJob] = h.awsJobs();
      assert.equal(awsJob?.jobId, job.jobId);
      assert.deepEqual(JSON.parse(awsJob?.document ?? "{}"), {
        operation: "firmware.update",
        correlationId: cmd.correlationId,
        parameters: { version: "2.0.0", channel: "stable" },
      });
      assert.deepEqual(awsJob?.targets, [device.thingArn]);
      const described = await h.iot.send(new DescribeJobCommand({ jobId: job.jobId }));
      assert.equal(described.job?.timeoutConfig?.inProgressTimeoutInMinutes, 60);
      assert.equal(described.job?.targetSelection, "SNAPSHOT");
      assert.equal(
        await host.metrics.sum("granit.iot.aws.jobs.dispatched", {
          operation: "firmware.update",
          tenant_id: TENANT,
        }),
        1,
      );
    });

    it("reports a job the device succeeds as DeviceCommandCompletedEvent, once", async () => {
      const device = await h.device();
      const { job } = await host.jobs.dispatcher.dispatchTracked(command(), toThing(device));

      const run = await h.simulatedDevice(device.thingName).runNext();
      await pollAfter();
      await pollAfter();
      await pollAfter();

      assert.equal(run?.job.operation, "firmware.update");
      assert.deepEqual(run?.job.parameters, { version: "2.0.0" });
      const outcomes = h.outcomesOf(job.jobId);
      assert.equal(outcomes.length, 1);
      assert.equal(outcomes[0]?.type, "DeviceCommandCompletedEvent");
      assert.deepEqual(outcomes[0]?.statusDetails, { result: "applied" });
      assert.equal(outcomes[0]?.deviceId, device.deviceId);
      assert.equal(outcomes[0]?.thingName, device.thingName);
      assert.equal(outcomes[0]?.commandId, job.commandId);
      assert.equal(outcomes[0]?.tenantId, TENANT);
      const stored = await host.trackingStore.findByJobId(job.jobId);
      assert.equal(stored?.status, TrackedJobStatus.Succeeded);
      assert.equal(stored?.executionStatus, "SUCCEEDED");
      assert.equal(await host.metrics.sum("granit.iot.aws.jobs.completed"), 1);
    });

    it("reports a job the device fails as DeviceCommandFailedEvent with its status details and reason", async () => {
      const device = await h.device();
      const { job } = await host.jobs.dispatcher.dispatchTracked(command(), toThing(device));

      await h
        .simulatedDevice(device.thingName, () => ({
          status: "FAILED",
          statusDetails: { reason: "flash write failed", code: "E42" },
        }))
        .runNext();
      await pollAfter();

      const [outcome, ...more] = h.outcomesOf(job.jobId);
      assert.equal(more.length, 0);
      assert.equal(outcome?.type, "DeviceCommandFailedEvent");
      assert.ok(outcome?.type === "DeviceCommandFailedEvent");
      assert.equal(outcome.status, "FAILED");
      assert.equal(outcome.reason, "flash write failed");
      assert.deepEqual(outcome.statusDetails, { reason: "flash write failed", code: "E42" });
      assert.equal((await host.trackingStore.findByJobId(job.jobId))?.status, TrackedJobStatus.Failed);
      assert.equal(await host.metrics.sum("granit.iot.aws.jobs.failed", { status: "FAILED" }), 1);
    });

    it("reports a job the device rejects as DeviceCommandFailedEvent REJECTED", async () => {
      const device = await h.device();
      const { job } = await host.jobs.dispatcher.dispatchTracked(command(), toThing(device));

      await h
        .simulatedDevice(device.thingName, () => ({
          status: "REJECTED",
          statusDetails: { detailedStatus: "operation not supported by firmware 1.x" },
        }))
        .runNext();
      await pollAfter();

      const [outcome] = h.outcomesOf(job.jobId);
      assert.ok(outcome?.type === "DeviceCommandFailedEvent");
      assert.equal(outcome.status, "REJECTED");
      assert.equal(outcome.reason, "operation not supported by firmware 1.x");
    });

    it("reports a device that dies mid-job as TIMED_OUT once the in-progress timeout elapses", async () => {
      const device = await h.device();
      const { job } = await host.jobs.dispatcher.dispatchTracked(command(), toThing(device));

      await h.simulatedDevice(device.thingName, () => ({ status: "IGNORE" })).runNext();
      await pollAfter();
      const inProgress = await host.trackingStore.findByJobId(job.jobId);
      await pollAfter(60 * 60_000);

      assert.equal(inProgress?.status, TrackedJobStatus.Dispatched);
      assert.equal(inProgress?.executionStatus, "IN_PROGRESS");
      const [outcome, ...more] = h.outcomesOf(job.jobId);
      assert.equal(more.length, 0);
      assert.ok(outcome?.type === "DeviceCommandFailedEvent");
      assert.equal(outcome.status, "TIMED_OUT");
      assert.match(outcome.reason ?? "", /timed out.*60 min/);
    });

    it("reports a canceled job as DeviceCommandFailedEvent CANCELED", async () => {
      const device = await h.device();
      const { job } = await host.jobs.dispatcher.dispatchTracked(command(), toThing(device));

      const afterCancel = await host.jobs.dispatcher.cancel(job);
      const summary = await host.jobs.poller.pollOnce(); // the cancel made the record due at once
      await host.bus.drain();

      assert.equal(summary.closed, 1);
      assert.ok(afterCancel.cancelRequestedAt);
      assert.equal(h.awsJobs()[0]?.status, "CANCELED");
      const [outcome] = h.outcomesOf(job.jobId);
      assert.ok(outcome?.type === "DeviceCommandFailedEvent");
      assert.equal(outcome.status, "CANCELED");
      assert.equal(outcome.reason, "canceled on request");
      assert.equal((await host.trackingStore.findByJobId(job.jobId))?.status, TrackedJobStatus.Canceled);
    });

    it("cancels a job the device already started only with ForceCancel", async () => {
      await h.reset();
      host = await h.host({ jobs: { forceCancel: true } });
      await host.bus.start();
      const device = await h.device();
      const { job } = await host.jobs.dispatcher.dispatchTracked(command(), toThing(device));
      await h.simulatedDevice(device.thingName, () => ({ status: "IGNORE" })).runNext();

      await host.jobs.dispatcher.cancel(job);
      await host.jobs.poller.pollOnce();
      await host.bus.drain();

      const [outcome] = h.outcomesOf(job.jobId);
      assert.ok(outcome?.type === "DeviceCommandFailedEvent");
      assert.equal(outcome.status, "CANCELED");
    });

    it("lets a started job finish without ForceCancel, and reports how it really ended", async () => {
      const device = await h.device();
      const { job } = await host.jobs.dispatcher.dispatchTracked(command(), toThing(device));
      const robot = h.simulatedDevice(device.thingName, () => ({ status: "IGNORE" }));
      await robot.runNext();

      await host.jobs.dispatcher.cancel(job);
      await h.simulatedDevice(device.thingName).runNext(); // the same device, now answering
      await host.jobs.poller.pollOnce();
      await host.bus.drain();

      assert.equal(h.outcomesOf(job.jobId)[0]?.type, "DeviceCommandCompletedEvent");
    });

    it("closes a job no device ever started as EXPIRED after JobTrackingTtlHours, once", async () => {
      const device = await h.device();
      const { job } = await host.jobs.dispatcher.dispatchTracked(command(), toThing(device));

      await pollAfter();
      await pollAfter(72 * 3_600_000);
      await pollAfter();

      const [outcome, ...more] = h.outcomesOf(job.jobId);
      assert.equal(more.length, 0);
      assert.ok(outcome?.type === "DeviceCommandFailedEvent");
      assert.equal(outcome.status, "EXPIRED");
      assert.match(outcome.reason ?? "", /\(72 h\); last execution status QUEUED/);
      assert.equal((await host.trackingStore.findByJobId(job.jobId))?.status, TrackedJobStatus.Expired);
      assert.equal(
        h.awsJobs()[0]?.executions[0]?.status,
        "QUEUED",
        "AWS keeps the job: a device that returns runs it",
      );
    });

    it("returns the same job when the same correlation id is dispatched again, without a second CreateJob", async () => {
      const device = await h.device();
      const cmd = command();

      const first = await host.jobs.dispatcher.dispatch(cmd, toThing(device));
      const second = await host.jobs.dispatcher.dispatch(cmd, toThing(device));
      const third = await host.jobs.dispatcher.dispatch({ ...cmd }, toThing(device));

      assert.deepEqual(first, { jobId: `granit-${cmd.correlationId}`, reused: false });
      assert.deepEqual(second, { jobId: first.jobId, reused: true });
      assert.deepEqual(third, { jobId: first.jobId, reused: true });
      assert.equal(h.awsJobs().length, 1);
      assert.equal(h.emulator.callCounts()["iot:CreateJob"], 1);
      assert.equal(await host.metrics.sum("granit.iot.aws.jobs.idempotent_reuse"), 2);
    });

    it("refuses a different command under a correlation id already used, and creates nothing", async () => {
      const device = await h.device();
      const cmd = command({ version: "2.0.0" });
      await host.jobs.dispatcher.dispatch(cmd, toThing(device));

      await assert.rejects(
        host.jobs.dispatcher.dispatch({ ...cmd, parameters: { version: "3.0.0" } }, toThing(device)),
        CommandCorrelationConflictError,
      );
      assert.equal(h.awsJobs().length, 1);
      assert.equal(
        await host.metrics.sum("granit.iot.aws.jobs.dispatch_errors", {
          error_type: "CommandCorrelationConflictError",
        }),
        1,
      );
    });

    it("forgets a command AWS refuses for good, so the fixed command can be sent again", async () => {
      const device = await h.device();
      await h.iot.send(new DeleteThingCommand({ thingName: device.thingName }));
      const cmd = command();

      await assert.rejects(host.jobs.dispatcher.dispatch(cmd, toThing(device)), (error: unknown) => {
        assert.ok(error instanceof JobDispatchRejectedError);
        assert.equal(error.awsErrorName, "ResourceNotFoundException");
        return true;
      });
      assert.equal(await host.trackingStore.findByCorrelationId(cmd.correlationId), null);
      assert.equal(h.awsJobs().length, 0);
    });

    it("refuses to dispatch while the credential gate is closed, writing and sending nothing", async () => {
      await h.reset();
      let ready = false;
      host = await h.host({ credentials: { name: "aws-credentials", isReady: () => ready } });
      await host.bus.start();
      const device = await h.device();
      const cmd = command();
      const callsBefore = h.emulator.calls().length;

      await assert.rejects(host.jobs.dispatcher.dispatch(cmd, toThing(device)), AwsCredentialsNotReadyError);
      const skipped = await host.jobs.poller.pollOnce();

      assert.equal(skipped.skipped, true);
      assert.equal(await host.trackingStore.findByCorrelationId(cmd.correlationId), null);
      assert.equal(h.emulator.calls().length, callsBefore);
      ready = true;
      assert.equal((await host.jobs.dispatcher.dispatch(cmd, toThing(device))).reused, false);
    });

    it("rejects commands AWS could never accept before writing anything", async () => {
      const device = await h.device();
      await assert.rejects(
        host.jobs.dispatcher.dispatch({ ...command(), correlationId: "has spaces" }, toThing(device)),
        /correlationId/,
      );
      await assert.rejects(
        host.jobs.dispatcher.dispatch({ ...command(), correlationId: "x".repeat(60) }, toThing(device)),
        /longer than AWS's 64 characters/,
      );
      await assert.rejects(
        host.jobs.dispatcher.dispatch(command({ blob: "x".repeat(40_000) }), toThing(device)),
        /32768/,
      );
      await assert.rejects(
        host.jobs.dispatcher.dispatch(command(), { kind: "device", address: "not-an-arn" }),
        /thing ARN/,
      );
      assert.equal(h.awsJobs().length, 0);
    });
  });
}
