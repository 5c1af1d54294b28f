/**
 * Delta → job through the durable bus, and the two ways a job could be created twice: the same
 * desired state delivered again (redelivery, or a shadow version that moved without the desired
 * state changing), and a process dying between `CreateJob` and the tracking write. Each ends with
 * exactly one job in the emulator's inventory.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { after, before, beforeEach, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { ALL_TENANTS, uuidv7 } from "@granit/iot";
import {
  AwsThingBinding,
  type DeviceDesiredStateChangedEvent,
  desiredStateFingerprint,
  type JsonObject,
  ThingName,
  TrackedJobStatus,
} from "@granit/iot-aws";
import { databaseTargets } from "@granit/iot-postgres/testing";
import {
  APPLY_DESIRED_STATE_OPERATION,
  DESIRED_STATE_HANDLER,
  DISPATCH_RECOVERY_DELAY_MS,
  desiredStateCorrelationId,
} from "../src/index.ts";
import { JobsHarness, TENANT, type TestDevice } from "./support/jobs-harness.ts";

/** The process dies here: a promise that never settles, so nothing after the crash point runs. */
const processDiesHere = () => new Promise<void>(() => {});

async function waitFor(condition: () => boolean | Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

function desiredStateChanged(
  device: TestDevice,
  delta: JsonObject,
  desiredTimestamps: Record<string, number>,
  shadowVersion: number,
): DeviceDesiredStateChangedEvent {
  return {
    type: "DeviceDesiredStateChangedEvent",
    eventId: uuidv7(),
    occurredAt: new Date().toISOString(),
    tenantId: TENANT,
    deviceId: device.deviceId,
    thingName: device.thingName,
    delta,
    shadowVersion,
    desiredTimestamps,
    fingerprint: desiredStateFingerprint(delta, desiredTimestamps),
  };
}

for (const target of databaseTargets()) {
  describe(`exactly one job per command on ${target.name}`, { skip: target.skip }, () => {
    let h: JobsHarness;
    before(async () => {
      h = await JobsHarness.open(target);
    });
    after(() => h?.dispose());
    beforeEach(() => h.reset());

    it("dispatches a desired state as one shadow.applyDesiredState job against the device's thing", async () => {
      const host = await h.host();
      await host.bus.start();
      const device = await h.device();
      const event = desiredStateChanged(
        device,
        { firmware: "2.1.0", config: { interval: 30 } },
        { firmware: 1_780_000_000, "config.interval": 1_780_000_000 },
        7,
      );

      await host.bus.publish([event]);
      await host.bus.drain();

      const [job, ...others] = h.awsJobs();
      assert.equal(others.length, 0);
      assert.equal(job?.jobId, `granit-${desiredStateCorrelationId(device.deviceId, event.fingerprint)}`);
      assert.deepEqual(job?.targets, [device.thingArn]);
      assert.deepEqual(JSON.parse(job?.document ?? "{}"), {
        operation: APPLY_DESIRED_STATE_OPERATION,
        correlationId: desiredStateCorrelationId(device.deviceId, event.fingerprint),
        parameters: { firmware: "2.1.0", config: { interval: 30 } },
      });
      const tracked = await host.trackingStore.findByJobId(job?.jobId ?? "");
      assert.equal(tracked?.deviceId, device.deviceId);
      assert.equal(tracked?.requestedBy, "shadow-delta");
    });

    it("reuses the job when the same delta event is redelivered or only the shadow version moved", async () => {
      const host = await h.host();
      await host.bus.start();
      const device = await h.device();
      const timestamps = { firmware: 1_780_000_000 };
      const event = desiredStateChanged(device, { firmware: "2.1.0" }, timestamps, 7);

      await host.bus.publish([event]);
      await host.bus.drain();
      await host.bus.publish([event]); // the same event again (at-least-once delivery)
      await host.bus.drain();
      // The device reported progress: version 8, same desired values and timestamps.
      await host.bus.publish([desiredStateChanged(device, { firmware: "2.1.0" }, timestamps, 8)]);
      await host.bus.drain();

      assert.equal(h.awsJobs().length, 1);
      assert.equal(h.emulator.callCounts()["iot:CreateJob"], 1);
      assert.equal(await host.metrics.sum("granit.iot.aws.jobs.idempotent_reuse"), 2);
      assert.equal((await host.bus.deadLetters()).length, 0);
    });

    it("dispatches a new job when desired is set again, even to a value it had before", async () => {
      const host = await h.host();
      await host.bus.start();
      const device = await h.device();

      await host.bus.publish([
        desiredStateChanged(device, { firmware: "2.1.0" }, { firmware: 1_780_000_000 }, 7),
      ]);
      await host.bus.publish([
        desiredStateChanged(device, { firmware: "2.1.0" }, { firmware: 1_780_000_600 }, 9),
      ]);
      await host.bus.drain();

      assert.equal(h.awsJobs().length, 2);
    });

    it("dispatches nothing for a device whose binding is not Active", async () => {
      const host = await h.host();
      await host.bus.start();
      const deviceId = uuidv7();
      const pending = AwsThingBinding.create(
        { deviceId, tenantId: TENANT, thingName: ThingName.from(TENANT, "PENDING-1") },
        { at: h.clock.now(), by: "test" },
      );
      await h.bindingStore.add(pending);
      const stranger = { deviceId: uuidv7(), thingName: "x", thingArn: "", binding: pending };

      await host.bus.publish([
        desiredStateChanged({ ...stranger, deviceId }, { led: "on" }, { led: 1 }, 1),
        desiredStateChanged(stranger, { led: "on" }, { led: 1 }, 1),
      ]);
      await host.bus.drain();

      assert.equal(h.awsJobs().length, 0);
      assert.equal((await host.bus.deadLetters()).length, 0);
      assert.equal(
        (await host.trackingStore.pageByDevice({ deviceId, tenant: ALL_TENANTS, limit: 10 })).items.length,
        0,
      );
    });

    it("ends with one job when the process dies between CreateJob and the tracking write and the bus redelivers", async () => {
      // Host A dies right after CreateJob; its lease on the delivery runs out and host B gets it.
      const hostA = await h.host({ hooks: { afterCreateJob: processDiesHere }, leaseMs: 300 });
      await hostA.bus.start();
      const device = await h.device();
      const event = desiredStateChanged(device, { firmware: "3.0.0" }, { firmware: 1_780_000_000 }, 3);
      await hostA.bus.publish([event]);
      await waitFor(() => h.awsJobs().length === 1, "host A's CreateJob");
      const jobId = h.awsJobs()[0]?.jobId ?? "";
      const before = await hostA.trackingStore.findByJobId(jobId);
      await hostA.bus.stop(50); // the process is gone: no more lease extensions

      const hostB = await h.host({ another: true, leaseMs: 300 });
      await hostB.bus.start();
      await waitFor(
        async () => (await hostB.trackingStore.findByJobId(jobId))?.status === TrackedJobStatus.Dispatched,
        "host B to finish the dispatch",
      );
      await hostB.bus.drain();

      assert.equal(before?.status, TrackedJobStatus.Dispatching, "the crash left the record Dispatching");
      assert.equal(h.awsJobs().length, 1);
      const createJob = h.emulator.calls().filter((c) => c.operation === "CreateJob");
      assert.deepEqual(
        createJob.map((c) => c.status),
        [200, 409],
        "host B's CreateJob met the job host A created (ResourceAlreadyExistsException)",
      );
      assert.equal(h.emulator.callCounts()["iot:DescribeJob"], 1, "and confirmed it is the same command");
      assert.equal(await hostB.metrics.sum("granit.iot.aws.jobs.idempotent_reuse"), 1);
      assert.equal(
        (await hostB.trackingStore.pageByDevice({ deviceId: device.deviceId, tenant: TENANT, limit: 10 }))
          .items.length,
        1,
      );
    });

    it("ends with one job when the process dies after CreateJob and only the status poller comes by", async () => {
      const hostA = await h.host({ hooks: { afterCreateJob: processDiesHere } });
      const hostB = await h.host({ another: true });
      await hostB.bus.start();
      const device = await h.device();
      void hostA.jobs.dispatcher.dispatch(
        { correlationId: uuidv7(), operation: "reboot", parameters: {}, tenantId: TENANT },
        { kind: "device", address: device.thingArn, deviceId: device.deviceId },
      );
      await waitFor(() => h.awsJobs().length === 1, "host A's CreateJob");
      const jobId = h.awsJobs()[0]?.jobId ?? "";

      h.clock.advance(DISPATCH_RECOVERY_DELAY_MS - 1000);
      const tooEarly = await hostB.jobs.poller.pollOnce();
      h.clock.advance(300_000);
      const recovered = await hostB.jobs.poller.pollOnce();
      await h.simulatedDevice(device.thingName).runNext();
      h.clock.advance(300_000);
      await hostB.jobs.poller.pollOnce();
      await hostB.bus.drain();

      assert.equal(tooEarly.claimed, 0, "a young Dispatching record is a dispatch in flight, left alone");
      assert.equal(recovered.resumed, 1);
      assert.equal(h.awsJobs().length, 1);
      assert.equal((await hostB.trackingStore.findByJobId(jobId))?.status, TrackedJobStatus.Succeeded);
      assert.equal(h.outcomesOf(jobId).length, 1);
    });

    it("ends with one job when a process is SIGKILLed between CreateJob and the tracking write", {
      skip:
        target.name === "pglite"
          ? "needs a database two processes share (PostgreSQL); the in-process crash tests above cover PGlite"
          : false,
    }, async () => {
      const host = await h.host();
      const device = await h.device();
      const correlationId = uuidv7();
      const config = h.emulator.clientConfig();

      const child = spawn(
        process.execPath,
        [fileURLToPath(new URL("./support/crash-after-create-job.ts", import.meta.url))],
        {
          env: {
            ...process.env,
            CRASH_SCHEMA: h.tdb.schema,
            CRASH_EMULATOR_URL: config.endpoint,
            CRASH_REGION: config.region,
            CRASH_CORRELATION_ID: correlationId,
            CRASH_TENANT: TENANT,
            CRASH_THING_ARN: device.thingArn,
          },
          stdio: ["ignore", "ignore", "pipe"],
        },
      );
      let stderr = "";
      child.stderr.on("data", (chunk) => {
        stderr += String(chunk);
      });
      const [code, signal] = (await once(child, "exit")) as [number | null, NodeJS.Signals | null];
      const crashed = await host.trackingStore.findByCorrelationId(correlationId);
      const redispatched = await host.jobs.dispatcher.dispatch(
        { correlationId, operation: "firmware.update", parameters: { version: "9.9.9" }, tenantId: TENANT },
        { kind: "device", address: device.thingArn },
      );

      assert.deepEqual({ code, signal }, { code: null, signal: "SIGKILL" }, stderr);
      assert.equal(crashed?.status, TrackedJobStatus.Dispatching, "the dead process never recorded its job");
      assert.deepEqual(redispatched, { jobId: `granit-${correlationId}`, reused: true });
      assert.equal(h.awsJobs().length, 1);
      assert.deepEqual(
        h.emulator
          .calls()
          .filter((c) => c.operation === "CreateJob")
          .map((c) => c.status),
        [200, 409],
      );
      assert.equal(
        (await host.trackingStore.findByCorrelationId(correlationId))?.status,
        TrackedJobStatus.Dispatched,
      );
    });

    it("subscribes the delta handler under its documented name", async () => {
      const host = await h.host();
      await host.bus.start();
      const [row] = await host.database.execute<{ handler: string }>(
        "SELECT handler FROM iot_bus_subscriptions WHERE event_type = 'DeviceDesiredStateChangedEvent'",
      );
      assert.equal(row?.handler, DESIRED_STATE_HANDLER);
    });
  });
}
