/**
 * The device commands API on a real host (test-host), with the jobs bridge of
 * `@granit/iot-aws-jobs` wired the way the bundle will, the emulator behind the real SDK, and a
 * simulated device on the jobs data plane.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { CreateThingCommand, IoTClient } from "@aws-sdk/client-iot";
import { IoTJobsDataPlaneClient } from "@aws-sdk/client-iot-jobs-data-plane";
import { type Emulator, startEmulator } from "@granit/aws-iot-emulator";
import { AwsCallPolicy, AwsThingBinding, ThingName } from "@granit/iot-aws";
import { type AwsJobs, defaultAwsJobsOptions, registerAwsJobs } from "@granit/iot-aws-jobs";
import { SimulatedJobsDevice } from "@granit/iot-aws-jobs/testing";
import {
  IOTAWS_MIGRATIONS,
  PostgresAwsThingBindingStore,
  PostgresJobTrackingStore,
} from "@granit/iot-aws-postgres";
import { databaseTargets } from "@granit/iot-postgres/testing";
import { registerCommandRoutes } from "../src/aws/commands-routes.ts";
import { startTestHost, TENANT_A, type TestHost, TOKENS } from "./support/test-host.ts";

for (const target of databaseTargets()) {
  describe(`device commands API on ${target.name}`, { skip: target.skip }, () => {
    let emulator: Emulator;
    let iot: IoTClient;
    let jobsData: IoTJobsDataPlaneClient;
    let t: TestHost;
    let jobs: AwsJobs;
    let bindings: PostgresAwsThingBindingStore;
    let credentialsReady = true;

    before(async () => {
      emulator = await startEmulator({ port: 0, clock: () => t?.clock.now() ?? new Date() });
      iot = new IoTClient({ ...emulator.clientConfig(), maxAttempts: 1 });
      jobsData = new IoTJobsDataPlaneClient({ ...emulator.clientConfig(), maxAttempts: 1 });
      t = await startTestHost(target, {
        beforeStart(host) {
          host.addMigration(IOTAWS_MIGRATIONS);
          bindings = new PostgresAwsThingBindingStore(host.database, host.bus);
          jobs = registerAwsJobs({
            bus: host.bus,
            bindingStore: bindings,
            trackingStore: new PostgresJobTrackingStore(host.database, host.bus),
            iot,
            callPolicy: new AwsCallPolicy({
              maxAttempts: 2,
              baseDelayMilliseconds: 10,
              maxElapsedSeconds: 2,
            }),
            credentials: { name: "aws-credentials", isReady: () => credentialsReady },
            options: defaultAwsJobsOptions(),
            clock: host.clock,
            logger: host.logger,
          });
          registerCommandRoutes(host.app, { tokens: host.tokens, commands: jobs.commands });
        },
      });
    });
    after(async () => {
      await t?.dispose();
      iot?.destroy();
      jobsData?.destroy();
      await emulator?.stop();
    });

    /** A device created through the API, its thing in AWS and its Active binding. */
    async function awsDevice(token: string = TOKENS.tenantA, tenantId: string | null = TENANT_A) {
      const device = await t.createDevice(token);
      const thingName = ThingName.from(tenantId, device.serialNumber as string);
      const thing = await iot.send(new CreateThingCommand({ thingName: thingName.value }));
      await bindings.add(
        AwsThingBinding.createForJitp(
          {
            deviceId: device.id,
            tenantId,
            thingName,
            thingArn: thing.thingArn ?? "",
            certificateArn: `arn:aws:iot:us-east-1:000000000000:cert/${"cd".repeat(32)}`,
          },
          { at: t.clock.now(), by: "test" },
        ),
      );
      return { id: device.id, thingName: thingName.value };
    }

    const send = (deviceId: string, json: unknown, token: string = TOKENS.tenantA) =>
      t.call("POST", `/api/iot/devices/${deviceId}/commands`, { token, json });
    const trackedRows = async () =>
      Number(
        (
          await t.testDatabase.database.execute<{ n: string }>(
            "SELECT count(*)::text AS n FROM iotaws_tracked_jobs",
          )
        )[0]?.n,
      );
    const poll = async () => {
      t.clock.advance(300_000);
      await jobs.poller.pollOnce();
    };

    it("accepts a command with 202, runs it as an IoT job and shows its outcome", async () => {
      const device = await awsDevice();

      const sent = await send(device.id, { operation: "firmware.update", parameters: { version: "2.0.0" } });
      const robot = await new SimulatedJobsDevice({
        client: jobsData,
        thingName: device.thingName,
      }).runNext();
      await poll();
      const read = await t.call("GET", `/api/iot/devices/${device.id}/commands/${sent.body.commandId}`, {
        token: TOKENS.tenantA,
      });

      assert.equal(sent.status, 202);
      assert.equal(sent.body.status, "Dispatched");
      assert.equal(sent.body.reused, false);
      assert.equal(sent.body.jobId, `granit-${sent.body.correlationId}`);
      assert.equal(
        sent.headers.get("location"),
        `/api/iot/devices/${device.id}/commands/${sent.body.commandId}`,
      );
      assert.equal(sent.body.requestedBy, "alice@tenant-a");
      assert.deepEqual(robot?.job.parameters, { version: "2.0.0" });
      assert.equal(read.status, 200);
      assert.equal(read.body.status, "Succeeded");
      assert.equal(read.body.executionStatus, "SUCCEEDED");
      assert.deepEqual(read.body.statusDetails, { result: "applied" });
      assert.ok(read.body.completedAt);
    });

    it("returns the first command for a retried idempotency key and refuses the key for another command", async () => {
      const device = await awsDevice();
      const body = { operation: "config.apply", parameters: { interval: 30 }, idempotencyKey: "order-4711" };
      const jobsBefore = emulator.inventory().jobs.length;

      const first = await send(device.id, body);
      const retry = await send(device.id, body);
      const other = await send(device.id, { ...body, parameters: { interval: 60 } });

      assert.equal(first.status, 202);
      assert.equal(retry.status, 202);
      assert.equal(retry.body.commandId, first.body.commandId);
      assert.equal(retry.body.reused, true);
      assert.equal(other.status, 409);
      assert.equal(other.body.type, "urn:granit:iot:problem:duplicate-key");
      assert.equal(emulator.inventory().jobs.length, jobsBefore + 1);
    });

    it("lists a device's commands newest first, page by page", async () => {
      const device = await awsDevice();
      const ids: string[] = [];
      for (const operation of ["a.one", "a.two", "a.three"]) {
        ids.push((await send(device.id, { operation })).body.commandId);
        t.clock.advance(1000);
      }

      const first = await t.call("GET", `/api/iot/devices/${device.id}/commands?limit=2`, {
        token: TOKENS.tenantAReader,
      });
      const second = await t.call(
        "GET",
        `/api/iot/devices/${device.id}/commands?limit=2&cursor=${first.body.nextCursor}`,
        { token: TOKENS.tenantAReader },
      );

      assert.equal(first.status, 200);
      assert.deepEqual(
        [...first.body.items, ...second.body.items].map((c: { commandId: string }) => c.commandId),
        [...ids].reverse(),
      );
      assert.equal(second.body.nextCursor, null);
    });

    it("cancels a command (202), reports it Canceled after the next poll, and refuses a second cancel", async () => {
      const device = await awsDevice();
      const sent = await send(device.id, { operation: "firmware.update" });
      const path = `/api/iot/devices/${device.id}/commands/${sent.body.commandId}`;

      const canceled = await t.call("POST", `${path}/cancel`, { token: TOKENS.tenantA });
      await jobs.poller.pollOnce();
      const read = await t.call("GET", path, { token: TOKENS.tenantA });
      const again = await t.call("POST", `${path}/cancel`, { token: TOKENS.tenantA });

      assert.equal(canceled.status, 202);
      assert.ok(canceled.body.cancelRequestedAt);
      assert.equal(read.body.status, "Canceled");
      assert.equal(read.body.executionStatus, "CANCELED");
      assert.equal(read.body.reason, "canceled on request");
      assert.equal(again.status, 409);
      assert.equal(again.body.type, "urn:granit:iot:problem:invalid-status-transition");
    });

    it("answers 404 for another tenant's device or command, exactly like an unknown id", async () => {
      const device = await awsDevice();
      const sent = await send(device.id, { operation: "reboot" });
      const rowsBefore = await trackedRows();

      const sendToOther = await send(device.id, { operation: "reboot" }, TOKENS.tenantB);
      const readOther = await t.call("GET", `/api/iot/devices/${device.id}/commands/${sent.body.commandId}`, {
        token: TOKENS.tenantB,
      });
      const listOther = await t.call("GET", `/api/iot/devices/${device.id}/commands`, {
        token: TOKENS.tenantB,
      });
      const cancelOther = await t.call(
        "POST",
        `/api/iot/devices/${device.id}/commands/${sent.body.commandId}/cancel`,
        { token: TOKENS.tenantB },
      );
      const unknown = await send("0194a5e0-0000-7000-8000-00000000dead", { operation: "reboot" });

      for (const response of [sendToOther, readOther, listOther, cancelOther, unknown]) {
        assert.equal(response.status, 404);
        assert.equal(response.body.type, "urn:granit:iot:problem:not-found");
      }
      assert.equal(await trackedRows(), rowsBefore);
    });

    it("answers 409 for a device whose AWS binding is not Active, sending nothing", async () => {
      const device = await t.createDevice(TOKENS.tenantA);
      await bindings.add(
        AwsThingBinding.create(
          {
            deviceId: device.id,
            tenantId: TENANT_A,
            thingName: ThingName.from(TENANT_A, device.serialNumber as string),
          },
          { at: t.clock.now(), by: "test" },
        ),
      );
      const calls = emulator.calls().length;

      const response = await send(device.id, { operation: "reboot" });

      assert.equal(response.status, 409);
      assert.equal(response.body.type, "urn:granit:iot:problem:invalid-status-transition");
      assert.equal(emulator.calls().length, calls);
    });

    it("answers 400 naming the fields of an invalid command, writing nothing", async () => {
      const device = await awsDevice();
      const rowsBefore = await trackedRows();
      const calls = emulator.calls().length;

      const missing = await send(device.id, { parameters: {} });
      const unknownField = await send(device.id, { operation: "reboot", priority: 1 });
      const badOperation = await send(device.id, { operation: "rm -rf /" });
      const badKey = await send(device.id, { operation: "reboot", idempotencyKey: "" });

      for (const response of [missing, unknownField, badOperation, badKey]) {
        assert.equal(response.status, 400, response.text);
        assert.equal(response.body.type, "urn:granit:iot:problem:validation");
      }
      assert.deepEqual(
        missing.body.errors.map((e: { field: string }) => e.field),
        ["operation"],
      );
      assert.deepEqual(
        badOperation.body.errors.map((e: { field: string }) => e.field),
        ["operation"],
      );
      assert.deepEqual(
        badKey.body.errors.map((e: { field: string }) => e.field),
        ["idempotencyKey"],
      );
      assert.equal(await trackedRows(), rowsBefore);
      assert.equal(emulator.calls().length, calls);
    });

    it("answers 503 with Retry-After while AWS credentials are not ready, writing and sending nothing", async () => {
      const device = await awsDevice();
      const rowsBefore = await trackedRows();
      const calls = emulator.calls().length;
      credentialsReady = false;
      try {
        const response = await send(device.id, { operation: "reboot" });

        assert.equal(response.status, 503);
        assert.equal(response.body.type, "urn:granit:iot:problem:unavailable");
        assert.equal(response.headers.get("retry-after"), "30");
      } finally {
        credentialsReady = true;
      }
      assert.equal(await trackedRows(), rowsBefore);
      assert.equal(emulator.calls().length, calls);
    });

    it("requires a token, and the Manage scope to send or cancel", async () => {
      const device = await awsDevice();

      const anonymous = await t.call("POST", `/api/iot/devices/${device.id}/commands`, {
        json: { operation: "reboot" },
      });
      const reader = await send(device.id, { operation: "reboot" }, TOKENS.tenantAReader);

      assert.equal(anonymous.status, 401);
      assert.equal(reader.status, 403);
      assert.equal(reader.body.type, "urn:granit:iot:problem:forbidden");
    });

    it("documents the routes in the OpenAPI document", async () => {
      const docs = await t.call("GET", "/docs/json");
      assert.ok(docs.body.paths["/api/iot/devices/{id}/commands"]?.post);
      assert.ok(docs.body.paths["/api/iot/devices/{id}/commands/{commandId}/cancel"]?.post);
    });
  });
}
