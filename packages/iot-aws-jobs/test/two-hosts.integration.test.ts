/**
 * Two hosts poll the same tracked jobs (two database connections, two buses, two call policies):
 * every terminal status is published once. Also with a poller that ignores claims altogether and
 * reads every open record, as the original did: the close-and-publish guard alone keeps it once.
 */
import assert from "node:assert/strict";
import { after, before, beforeEach, describe, it } from "node:test";
import { uuidv7 } from "@granit/iot";
import { AwsCallPolicy, type JobTrackingStore, TrackedJobStatus } from "@granit/iot-aws";
import { databaseTargets } from "@granit/iot-postgres/testing";
import { defaultAwsJobsOptions, JobStatusPoller } from "../src/index.ts";
import { JobsHarness, TENANT, type TestHost } from "./support/jobs-harness.ts";

const DEVICES = 12;

for (const target of databaseTargets()) {
  describe(`two hosts polling on ${target.name}`, { skip: target.skip }, () => {
    let h: JobsHarness;
    before(async () => {
      h = await JobsHarness.open(target);
    });
    after(() => h?.dispose());
    beforeEach(() => h.reset());

    /** `DEVICES` devices, each with a dispatched job that its device answered (every third one FAILED). */
    async function answeredJobs(host: TestHost): Promise<string[]> {
      const jobIds: string[] = [];
      for (let i = 0; i < DEVICES; i++) {
        const device = await h.device();
        const { job } = await host.jobs.dispatcher.dispatchTracked(
          { correlationId: uuidv7(), operation: "config.apply", parameters: { i }, tenantId: TENANT },
          { kind: "device", address: device.thingArn, deviceId: device.deviceId },
        );
        jobIds.push(job.jobId);
        await h
          .simulatedDevice(device.thingName, () =>
            i % 3 === 0 ? { status: "FAILED", statusDetails: { reason: "busy" } } : { status: "SUCCEEDED" },
          )
          .runNext();
      }
      return jobIds;
    }

    it("publishes each terminal status once when two hosts poll at the same time", async () => {
      const a = await h.host();
      const b = await h.host({ another: true });
      await a.bus.start();
      await b.bus.start();
      const jobIds = await answeredJobs(a);
      h.clock.advance(300_000);

      const [roundA, roundB] = await Promise.all([a.jobs.poller.pollOnce(), b.jobs.poller.pollOnce()]);
      h.clock.advance(300_000);
      await Promise.all([a.jobs.poller.pollOnce(), b.jobs.poller.pollOnce()]);
      await a.bus.drain();
      await b.bus.drain();

      assert.equal(roundA.claimed + roundB.claimed, DEVICES, "each record went to one poller");
      assert.equal(roundA.closed + roundB.closed, DEVICES);
      for (const jobId of jobIds) assert.equal(h.outcomesOf(jobId).length, 1, jobId);
      const completed =
        (await a.metrics.sum("granit.iot.aws.jobs.completed")) +
        (await b.metrics.sum("granit.iot.aws.jobs.completed"));
      const failed =
        (await a.metrics.sum("granit.iot.aws.jobs.failed")) +
        (await b.metrics.sum("granit.iot.aws.jobs.failed"));
      assert.deepEqual({ completed, failed }, { completed: 8, failed: 4 });
    });

    it("publishes each terminal status once even when a second poller reads every open record", async () => {
      const a = await h.host();
      const b = await h.host({ another: true });
      await a.bus.start();
      await b.bus.start();
      const jobIds = await answeredJobs(a);
      h.clock.advance(300_000);
      // A poller that claims nothing and scans everything open, like the original's.
      const scanAll: JobTrackingStore = Object.create(b.trackingStore, {
        claimDue: {
          value: async () => {
            const all = await Promise.all(jobIds.map((id) => b.trackingStore.findByJobId(id)));
            return all.filter((j) => j !== null && j.terminalPublishedAt === null);
          },
        },
      });
      const greedy = new JobStatusPoller({
        iot: new AwsCallPolicy().forClient(h.iot, "iot"),
        trackingStore: scanAll,
        dispatcher: b.jobs.dispatcher,
        options: { ...defaultAwsJobsOptions(), statusPollBatchSize: 1000 },
        clock: h.clock,
      });

      await Promise.all([a.jobs.poller.pollOnce(), greedy.pollOnce(), greedy.pollOnce()]);
      await a.bus.drain();
      await b.bus.drain();

      for (const jobId of jobIds) assert.equal(h.outcomesOf(jobId).length, 1, jobId);
      const closed = await Promise.all(jobIds.map((id) => a.trackingStore.findByJobId(id)));
      assert.equal(closed.filter((j) => j?.status === TrackedJobStatus.Succeeded).length, 8);
      assert.equal(closed.filter((j) => j?.status === TrackedJobStatus.Failed).length, 4);
    });

    it("pages through more open records than one batch in one round", async () => {
      const host = await h.host({ jobs: { statusPollBatchSize: 5 } });
      await host.bus.start();
      const jobIds = await answeredJobs(host);
      h.clock.advance(300_000);

      const round = await host.jobs.poller.pollOnce();
      await host.bus.drain();

      assert.equal(round.claimed, DEVICES);
      assert.equal(round.closed, DEVICES);
      for (const jobId of jobIds) assert.equal(h.outcomesOf(jobId).length, 1);
    });

    it("runs rounds on its own once started, and stops cleanly", async () => {
      const { ManualScheduler } = await import("@granit/iot-aws");
      const scheduler = new ManualScheduler(h.clock.now());
      const host = await h.host();
      await host.bus.start();
      const [jobId] = await answeredJobs(host);
      const poller = new JobStatusPoller({
        iot: new AwsCallPolicy().forClient(h.iot, "iot"),
        trackingStore: host.trackingStore,
        dispatcher: host.jobs.dispatcher,
        options: defaultAwsJobsOptions(),
        clock: h.clock,
        scheduler,
      });

      poller.start();
      await scheduler.advance(0); // the first round runs at start: nothing is due yet
      await waitFor(() => scheduler.pendingTimers === 1, "the first round to end and schedule the next");
      h.clock.advance(300_000);
      await scheduler.advance(300_000); // the next round, one interval later
      await waitUntilClosed(host, jobId ?? "");
      await poller.stop();
      await host.bus.drain();

      assert.equal(h.outcomesOf(jobId ?? "").length, 1);
      assert.equal(scheduler.pendingTimers, 0, "stop() leaves no timer behind");
    });
  });
}

async function waitFor(condition: () => boolean | Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

function waitUntilClosed(host: TestHost, jobId: string): Promise<void> {
  return waitFor(
    async () => (await host.trackingStore.findByJobId(jobId))?.terminalPublishedAt !== null,
    `job ${jobId} to close`,
  );
}
