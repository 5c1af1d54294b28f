/**
 * The per-thing limit and the call policy around the data-plane client, with a fake at the
 * `client.send` seam (unit test of one component) and fake time.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { AwsCallPolicy, ManualScheduler } from "@granit/iot-aws";
import { isShadowNotFound, isVersionConflict, ThingShadowClient } from "../src/index.ts";

function fakeDataClient() {
  const sent: { operation: string; thingName: string; at: number; body?: unknown }[] = [];
  const scheduler = new ManualScheduler();
  const client = {
    // biome-ignore lint/suspicious/noExplicitAny: the seam takes any SDK command.
    async send(command: any) {
      const operation = String(command.constructor.name).replace(/Command$/, "");
      const input = command.input as { thingName: string; payload?: Uint8Array };
      const body = input.payload ? JSON.parse(new TextDecoder().decode(input.payload)) : undefined;
      sent.push({ operation, thingName: input.thingName, at: scheduler.now(), body });
      if (input.thingName === "missing") {
        throw Object.assign(new Error("No shadow exists with name: 'missing'"), {
          name: "ResourceNotFoundException",
          $metadata: { httpStatusCode: 404 },
        });
      }
      return { payload: new TextEncoder().encode(JSON.stringify({ state: {}, version: 5 })) };
    },
  };
  const policy = new AwsCallPolicy(
    { rateLimits: { "iotdata:GetThingShadow": { tokensPerSecond: 10_000, burst: 10_000 } } },
    { scheduler },
  );
  return {
    sent,
    scheduler,
    shadows: new ThingShadowClient(client, policy, { perThingRequestsPerSecond: 20, scheduler }),
  };
}

describe("ThingShadowClient", () => {
  it("sends at most 20 requests per second to one thing, and does not slow the others down", async () => {
    const { sent, scheduler, shadows } = fakeDataClient();
    const calls = Array.from({ length: 25 }, () => shadows.getThingShadow("hot", { tenantId: null }));
    calls.push(shadows.getThingShadow("cold", { tenantId: null }));
    await scheduler.settle();
    assert.equal(sent.filter((s) => s.thingName === "hot").length, 20, "a burst of one second");
    assert.equal(sent.filter((s) => s.thingName === "cold").length, 1);
    await scheduler.advance(249);
    assert.equal(sent.filter((s) => s.thingName === "hot").length, 24);
    await scheduler.advance(1);
    await Promise.all(calls);
    assert.equal(sent.filter((s) => s.thingName === "hot").length, 25);
  });

  it("answers null for a missing shadow and writes the version it was given", async () => {
    const { sent, shadows } = fakeDataClient();
    assert.equal(await shadows.getThingShadow("missing", { tenantId: null }), null);
    const written = await shadows.updateThingShadow(
      "t1",
      { reported: { status: "Active" } },
      { tenantId: null, version: 4 },
    );
    assert.equal(written.version, 5);
    assert.deepEqual(sent.at(-1)?.body, { state: { reported: { status: "Active" } }, version: 4 });
    await shadows.updateThingShadow("t1", { desired: { a: 1 } }, { tenantId: null });
    assert.deepEqual(
      sent.at(-1)?.body,
      { state: { desired: { a: 1 } } },
      "no version: an unconditional merge",
    );
  });

  it("tells a version conflict and a missing shadow apart by the AWS error name", () => {
    assert.equal(isVersionConflict({ name: "ConflictException" }), true);
    assert.equal(isVersionConflict({ name: "ThrottlingException" }), false);
    assert.equal(isShadowNotFound({ name: "ResourceNotFoundException" }), true);
  });
});
