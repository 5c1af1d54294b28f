/**
 * The device shadow API on a real host (test-host), with the shadow bridge of
 * `@granit/iot-aws-shadow` wired the way the bundle will, and the emulator behind the real SDK.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { CreateThingCommand, IoTClient } from "@aws-sdk/client-iot";
import {
  GetThingShadowCommand,
  IoTDataPlaneClient,
  UpdateThingShadowCommand,
} from "@aws-sdk/client-iot-data-plane";
import { type Emulator, startEmulator } from "@granit/aws-iot-emulator";
import { AwsCallPolicy, AwsThingBinding, ThingName } from "@granit/iot-aws";
import {
  IOTAWS_MIGRATIONS,
  PostgresAwsThingBindingStore,
  PostgresShadowSyncStateStore,
} from "@granit/iot-aws-postgres";
import { type AwsShadow, registerAwsShadow } from "@granit/iot-aws-shadow";
import { databaseTargets } from "@granit/iot-postgres/testing";
import { registerShadowRoutes } from "../src/aws/shadow-routes.ts";
import { startTestHost, TENANT_A, type TestHost, TOKENS } from "./support/test-host.ts";

for (const target of databaseTargets()) {
  describe(`device shadow API on ${target.name}`, { skip: target.skip }, () => {
    let emulator: Emulator;
    let iot: IoTClient;
    let data: IoTDataPlaneClient;
    let t: TestHost;
    let shadow: AwsShadow;
    let bindings: PostgresAwsThingBindingStore;

    before(async () => {
      emulator = await startEmulator({ port: 0, clock: () => t?.clock.now() ?? new Date() });
      iot = new IoTClient({ ...emulator.clientConfig(), maxAttempts: 1 });
      data = new IoTDataPlaneClient({ ...emulator.clientConfig(), maxAttempts: 1 });
      t = await startTestHost(target, {
        beforeStart(host) {
          host.addMigration(IOTAWS_MIGRATIONS);
          bindings = new PostgresAwsThingBindingStore(host.database, host.bus);
          shadow = registerAwsShadow({
            bus: host.bus,
            bindings,
            devices: host.deviceStore,
            syncState: new PostgresShadowSyncStateStore(host.database),
            unitOfWork: host.database,
            dataClient: data,
            callPolicy: new AwsCallPolicy({ maxAttempts: 1 }),
            clock: host.clock,
            logger: host.logger,
          });
          registerShadowRoutes(host.app, { tokens: host.tokens, shadows: shadow.shadows });
        },
      });
    });
    after(async () => {
      await t?.dispose();
      iot?.destroy();
      data?.destroy();
      await emulator?.stop();
    });

    /** A device created through the API, its thing in AWS and its Active binding. */
    async function awsDevice(token: string = TOKENS.tenantA, tenantId: string | null = TENANT_A) {
      const device = await t.createDevice(token);
      const thingName = ThingName.from(tenantId, device.serialNumber as string);
      const thing = await iot.send(new CreateThingCommand({ thingName: thingName.value }));
      const binding = AwsThingBinding.createForJitp(
        {
          deviceId: device.id,
          tenantId,
          thingName,
          thingArn: thing.thingArn ?? "",
          certificateArn: `arn:aws:iot:us-east-1:000000000000:cert/${"ab".repeat(32)}`,
        },
        { at: t.clock.now(), by: "test" },
      );
      await bindings.add(binding);
      return { id: device.id, thingName: thingName.value, binding };
    }

    const write = (thingName: string, state: Record<string, unknown>) =>
      data.send(
        new UpdateThingShadowCommand({
          thingName,
          payload: new TextEncoder().encode(JSON.stringify({ state })),
        }),
      );
    const versionOf = async (thingName: string) =>
      JSON.parse(
        new TextDecoder().decode((await data.send(new GetThingShadowCommand({ thingName }))).payload),
      ).version as number;
    const put = (deviceId: string, json: unknown, token: string = TOKENS.tenantA) =>
      t.call("PUT", `/api/iot/devices/${deviceId}/shadow/desired`, { token, json });

    it("reads the shadow: reported, desired, delta and version", async () => {
      const device = await awsDevice();
      await write(device.thingName, { reported: { status: "Active", firmware: "1.4.0" } });
      await write(device.thingName, { desired: { firmware: "1.5.0", config: { interval: 30 } } });

      const read = await t.call("GET", `/api/iot/devices/${device.id}/shadow`, {
        token: TOKENS.tenantAReader,
      });

      assert.equal(read.status, 200);
      assert.deepEqual(
        { ...read.body, timestamp: typeof read.body.timestamp },
        {
          deviceId: device.id,
          thingName: device.thingName,
          reported: { status: "Active", firmware: "1.4.0" },
          desired: { firmware: "1.5.0", config: { interval: 30 } },
          delta: { firmware: "1.5.0", config: { interval: 30 } },
          version: 2,
          timestamp: "number",
        },
      );
    });

    it("sets the desired state and answers the shadow as it is afterwards", async () => {
      const device = await awsDevice();
      await write(device.thingName, { reported: { firmware: "1.4.0", tags: ["a"] } });

      const first = await put(device.id, { firmware: "1.5.0", tags: ["a", "b"] });
      const second = await put(device.id, { tags: null, mode: { eco: true } });

      assert.equal(first.status, 200);
      assert.deepEqual(first.body.delta, { firmware: "1.5.0", tags: ["a", "b"] });
      assert.equal(second.status, 200);
      assert.deepEqual(second.body.desired, { firmware: "1.5.0", mode: { eco: true } }, "null deleted tags");
      assert.equal(second.body.version, 3);
      const stored = JSON.parse(
        new TextDecoder().decode(
          (await data.send(new GetThingShadowCommand({ thingName: device.thingName }))).payload,
        ),
      );
      assert.deepEqual(stored.state.desired, { firmware: "1.5.0", mode: { eco: true } });
    });

    it("refuses what AWS would refuse, and writes nothing", async () => {
      const device = await awsDevice();
      await write(device.thingName, { reported: { status: "Active" } });
      const deep = { a: { b: { c: { d: { e: { f: { g: 1 } } } } } } };

      const notObject = await put(device.id, ["firmware", "1.5.0"]);
      const tooDeep = await put(device.id, deep);
      const nullInArray = await put(device.id, { list: [1, null] });
      const tooLarge = await put(device.id, { blob: "x".repeat(8200) });
      const notJson = await t.call("PUT", `/api/iot/devices/${device.id}/shadow/desired`, {
        token: TOKENS.tenantA,
        body: "firmware=1.5.0",
        headers: { "content-type": "text/plain" },
      });

      assert.equal(notObject.status, 400);
      assert.equal(notObject.body.type, "urn:granit:iot:problem:validation");
      assert.equal(tooDeep.status, 400);
      assert.deepEqual(
        tooDeep.body.errors.map((e: { rule: string }) => e.rule),
        ["nesting"],
      );
      assert.equal(nullInArray.status, 400);
      assert.equal(nullInArray.body.errors[0].field, "desired.list[1]");
      assert.equal(tooLarge.status, 413);
      assert.equal(tooLarge.body.type, "urn:granit:iot:problem:payload-too-large");
      assert.equal(notJson.status, 415);
      assert.equal(await versionOf(device.thingName), 1, "the shadow was not written");
    });

    it("answers 404 for another tenant's device, an unknown device and a device without a shadow", async () => {
      const theirs = await awsDevice(TOKENS.tenantB, "0194a5e0-bbbb-7bbb-8bbb-bbbbbbbbbbbb");
      await write(theirs.thingName, { reported: { status: "Active" } });
      const unbound = await t.createDevice(TOKENS.tenantA);
      const noShadow = await awsDevice();

      const cases = [
        await t.call("GET", `/api/iot/devices/${theirs.id}/shadow`, { token: TOKENS.tenantA }),
        await put(theirs.id, { firmware: "9.9.9" }),
        await t.call("GET", `/api/iot/devices/${unbound.id}/shadow`, { token: TOKENS.tenantA }),
        await t.call("GET", "/api/iot/devices/0194a5e0-0000-7000-8000-000000000000/shadow", {
          token: TOKENS.tenantA,
        }),
        await t.call("GET", `/api/iot/devices/${noShadow.id}/shadow`, { token: TOKENS.tenantA }),
      ];

      assert.deepEqual(
        cases.map((c) => c.status),
        [404, 404, 404, 404, 404],
      );
      assert.ok(cases.every((c) => c.body.type === "urn:granit:iot:problem:not-found"));
      assert.equal(await versionOf(theirs.thingName), 1, "the other tenant's shadow is untouched");
    });

    it("needs a token, and the Manage scope to set the desired state", async () => {
      const device = await awsDevice();
      await write(device.thingName, { reported: { status: "Active" } });

      const anonymous = await t.call("GET", `/api/iot/devices/${device.id}/shadow`);
      const reader = await put(device.id, { firmware: "1.5.0" }, TOKENS.tenantAReader);

      assert.equal(anonymous.status, 401);
      assert.equal(reader.status, 403);
      assert.equal(await versionOf(device.thingName), 1);
    });

    it("refuses to set the desired state of a binding that is not Active (409)", async () => {
      const device = await awsDevice();
      await write(device.thingName, { reported: { status: "Active" } });
      device.binding.markFailed("certificate revoked", { at: t.clock.now(), by: "test" });
      await bindings.update(device.binding);

      const refused = await put(device.id, { firmware: "1.5.0" });

      assert.equal(refused.status, 409);
      assert.equal(refused.body.type, "urn:granit:iot:problem:invalid-status-transition");
      assert.equal(await versionOf(device.thingName), 1);
    });

    it("documents both routes in the OpenAPI document", async () => {
      const docs = await t.call("GET", "/docs/json");
      assert.equal(docs.status, 200);
      assert.ok(docs.body.paths["/api/iot/devices/{id}/shadow"]?.get);
      assert.ok(docs.body.paths["/api/iot/devices/{id}/shadow/desired"]?.put);
      assert.ok(docs.body.components.schemas.DeviceShadow);
    });

    it("answers 503 with Retry-After while AWS keeps failing", async () => {
      const device = await awsDevice();
      await write(device.thingName, { reported: { status: "Active" } });
      emulator.setFaults([{ service: "iotdata", operation: "GetThingShadow", kind: "throttle", count: 1 }]);

      const throttled = await t.call("GET", `/api/iot/devices/${device.id}/shadow`, {
        token: TOKENS.tenantA,
      });

      assert.equal(throttled.status, 503);
      assert.equal(throttled.headers.get("retry-after"), "30");
      assert.equal(throttled.body.type, "urn:granit:iot:problem:unavailable");
    });
  });
}
