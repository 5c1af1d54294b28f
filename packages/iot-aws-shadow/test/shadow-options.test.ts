import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { OptionsValidationError } from "@granit/iot";
import { AWS_SHADOW_SECTION, defaultAwsShadowOptions, parseAwsShadowOptions } from "../src/index.ts";

describe("IoT:Aws:Shadow options", () => {
  it("defaults to a 30 s interval, batches of 100, auto-push on, 20 requests/s per thing, 16 reads in flight", () => {
    assert.deepEqual(defaultAwsShadowOptions(), {
      pollIntervalSeconds: 30,
      pollBatchSize: 100,
      autoPushLifecycleStatus: true,
      maxGetShadowPerSecond: 0,
      perThingRequestsPerSecond: 20,
      pollConcurrency: 16,
    });
  });

  it("accepts environment-variable strings", () => {
    const options = parseAwsShadowOptions({
      PollIntervalSeconds: "600",
      PollBatchSize: "1",
      AutoPushLifecycleStatus: "false",
      MaxGetShadowPerSecond: "2000",
    });
    assert.equal(options.pollIntervalSeconds, 600);
    assert.equal(options.pollBatchSize, 1);
    assert.equal(options.autoPushLifecycleStatus, false);
    assert.equal(options.maxGetShadowPerSecond, 2000);
  });

  for (const [key, value, range] of [
    ["PollIntervalSeconds", 4, "from 5 to 600"],
    ["PollIntervalSeconds", 601, "from 5 to 600"],
    ["PollBatchSize", 0, "from 1 to 1000"],
    ["PollBatchSize", 1001, "from 1 to 1000"],
    ["PerThingRequestsPerSecond", 21, "from 1 to 20"],
    ["MaxGetShadowPerSecond", -1, "from 0 to 100000"],
    ["PollConcurrency", 0, "from 1 to 256"],
  ] as const) {
    it(`refuses ${key} = ${value}, naming the key and the range`, () => {
      assert.throws(
        () => parseAwsShadowOptions({ [key]: value }),
        (error: unknown) => {
          assert.ok(error instanceof OptionsValidationError);
          assert.equal(error.key, `${AWS_SHADOW_SECTION}:${key}`);
          assert.match(error.message, new RegExp(range));
          return true;
        },
      );
    });
  }

  it("refuses a misspelt key instead of silently using a default", () => {
    assert.throws(
      () => parseAwsShadowOptions({ PollIntervalSecond: 10 }),
      /IoT:Aws:Shadow:PollIntervalSecond: unknown setting/,
    );
    assert.throws(() => parseAwsShadowOptions({ AutoPushLifecycleStatus: "yes" }), /must be true or false/);
  });
});
