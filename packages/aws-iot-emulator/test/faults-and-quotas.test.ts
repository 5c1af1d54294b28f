/** Fault injection, quotas and the call log, observed through the SDK clients. */
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  CreateThingCommand,
  DescribeThingCommand,
  InternalFailureException,
  ResourceNotFoundException,
  ThrottlingException,
} from "@aws-sdk/client-iot";
import {
  ThrottlingException as DataThrottlingException,
  GetThingShadowCommand,
  UpdateThingShadowCommand,
} from "@aws-sdk/client-iot-data-plane";
import { GetSecretValueCommand, InternalServiceError } from "@aws-sdk/client-secrets-manager";
import { AWS_DEFAULT_QUOTAS } from "../src/index.ts";
import { rejectsWith, utf8, withEmulator } from "./support/harness.ts";

test("a quota turns calls past the rate into ThrottlingException (400 on iot)", () =>
  withEmulator(
    async ({ clients: { iot } }) => {
      // Prepare
      await iot.send(new CreateThingCommand({ thingName: "t" }));
      // Act
      await iot.send(new DescribeThingCommand({ thingName: "t" }));
      await iot.send(new DescribeThingCommand({ thingName: "t" }));
      const third = iot.send(new DescribeThingCommand({ thingName: "t" }));
      // Assess
      await rejectsWith(third, ThrottlingException, 400);
    },
    { quotas: { "iot:DescribeThing": 2 } },
  ));

test("the aws-default preset throttles a burst of CreateThing past 15 calls per second", () =>
  withEmulator(
    async ({ clients: { iot } }) => {
      // Act
      const results = await Promise.allSettled(
        Array.from({ length: 40 }, (_, i) => iot.send(new CreateThingCommand({ thingName: `t${i}` }))),
      );
      // Assess
      const throttled = results.filter(
        (r) => r.status === "rejected" && (r.reason as Error).name === "ThrottlingException",
      );
      const succeeded = results.filter((r) => r.status === "fulfilled");
      assert.equal(AWS_DEFAULT_QUOTAS["iot:CreateThing"], 15);
      assert.ok(succeeded.length >= 15, `succeeded ${succeeded.length}`);
      assert.ok(throttled.length >= 10, `throttled ${throttled.length}`);
    },
    { quotas: "aws-default" },
  ));

test("shadow calls on one thing are throttled with 429 past the per-thing rate", () =>
  withEmulator(async ({ emulator, clients: { data } }) => {
    // Prepare
    emulator.setQuotas({ "iotdata:PerThing": 3 });
    const payload = utf8({ state: { reported: { on: true } } });
    // Act
    for (let i = 0; i < 3; i++) await data.send(new UpdateThingShadowCommand({ thingName: "busy", payload }));
    const fourth = data.send(new GetThingShadowCommand({ thingName: "busy" }));
    // Assess
    await rejectsWith(fourth, DataThrottlingException, 429);
    await data.send(new UpdateThingShadowCommand({ thingName: "other", payload }));
  }));

test("a throttle fault on the next call is absorbed by the SDK's retry", () =>
  withEmulator(
    async ({ emulator, clients: { iot } }) => {
      // Prepare
      await iot.send(new CreateThingCommand({ thingName: "t" }));
      emulator.setFaults([{ service: "iot", operation: "DescribeThing", kind: "throttle", count: 1 }]);
      // Act
      const thing = await iot.send(new DescribeThingCommand({ thingName: "t" }));
      // Assess
      assert.equal(thing.$metadata.attempts, 2);
      const statuses = emulator
        .calls()
        .filter((c) => c.operation === "DescribeThing")
        .map((c) => c.status);
      assert.deepEqual(statuses, [400, 200]);
    },
    { maxAttempts: 3 },
  ));

test("an error500 fault surfaces as InternalFailureException (iot) and InternalServiceError (secrets)", () =>
  withEmulator(async ({ emulator, clients: { iot, secrets } }) => {
    // Prepare
    emulator.setFaults([{ operation: "*", kind: "error500", count: 2 }]);
    // Act + Assess
    await rejectsWith(iot.send(new DescribeThingCommand({ thingName: "t" })), InternalFailureException, 500);
    await rejectsWith(secrets.send(new GetSecretValueCommand({ SecretId: "s" })), InternalServiceError, 500);
    await rejectsWith(iot.send(new DescribeThingCommand({ thingName: "t" })), ResourceNotFoundException, 404);
  }));

test("latency faults add up, delay the matching call and let it succeed", () =>
  withEmulator(async ({ emulator, clients: { iot } }) => {
    // Prepare
    emulator.setFaults([
      { service: "iot", operation: "CreateThing", kind: "latency", latencyMs: 100 },
      { operation: "*", kind: "latency", latencyMs: 50, count: 1 },
    ]);
    // Act
    const start = performance.now();
    const created = await iot.send(new CreateThingCommand({ thingName: "t" }));
    const elapsed = performance.now() - start;
    // Assess
    assert.ok(elapsed >= 145, `the call took ${elapsed} ms`);
    assert.equal(created.thingName, "t");
    assert.deepEqual(
      emulator.calls().map((c) => c.status),
      [200],
    );
  }));

test("a drop fault destroys the connection and the SDK reports a network error", () =>
  withEmulator(async ({ emulator, clients: { iot } }) => {
    // Prepare
    emulator.setFaults([{ kind: "drop", count: 1 }]);
    // Act
    const error = await iot.send(new DescribeThingCommand({ thingName: "t" })).catch((e: Error) => e);
    // Assess
    assert.ok(error instanceof Error);
    assert.match(`${(error as NodeJS.ErrnoException).code} ${error.message}`, /ECONNRESET|socket hang up/i);
    assert.equal(emulator.calls()[0]?.status, 0);
    await rejectsWith(iot.send(new DescribeThingCommand({ thingName: "t" })), ResourceNotFoundException);
  }));

test("a fault with probability 0 never fires", () =>
  withEmulator(async ({ emulator, clients: { iot } }) => {
    emulator.setFaults([{ kind: "error500", probability: 0 }]);
    for (let i = 0; i < 10; i++) await iot.send(new CreateThingCommand({ thingName: "t" }));
  }));

test("the call log records every call with its status and thing, and counts per operation", () =>
  withEmulator(async ({ emulator, clients: { iot, data } }) => {
    // Act
    await iot.send(new CreateThingCommand({ thingName: "t" }));
    await iot.send(new DescribeThingCommand({ thingName: "t" }));
    await iot.send(new DescribeThingCommand({ thingName: "ghost" })).catch(() => undefined);
    await data.send(
      new UpdateThingShadowCommand({ thingName: "t", payload: utf8({ state: { reported: { a: 1 } } }) }),
    );
    // Assess
    assert.deepEqual(emulator.callCounts(), {
      "iot:CreateThing": 1,
      "iot:DescribeThing": 2,
      "iotdata:UpdateThingShadow": 1,
    });
    const failed = emulator.calls().find((c) => c.status === 404);
    assert.deepEqual(failed && { ...failed, at: "" }, {
      service: "iot",
      operation: "DescribeThing",
      status: 404,
      at: "",
      thingName: "ghost",
      accessKeyId: "emulator",
      error: "ResourceNotFoundException",
    });
    assert.equal(emulator.calls()[0]?.at, "2025-01-01T12:00:00.000Z", "stamped with the injected clock");
  }));
