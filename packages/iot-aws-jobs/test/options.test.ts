import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { OptionsValidationError } from "@granit/iot";
import { defaultAwsJobsOptions, parseAwsJobsOptions } from "../src/index.ts";

describe("IoT:Aws:Jobs", () => {
  it("defaults to the seed's values plus a 60-minute in-progress timeout and no forced cancel", () => {
    assert.deepEqual(defaultAwsJobsOptions(), {
      jobIdPrefix: "granit",
      jobTrackingTtlHours: 72,
      statusPollIntervalSeconds: 300,
      statusPollBatchSize: 100,
      inProgressTimeoutMinutes: 60,
      forceCancel: false,
    });
  });

  it("accepts environment-variable strings", () => {
    const options = parseAwsJobsOptions({
      JobIdPrefix: "acme_prod",
      JobTrackingTtlHours: "720",
      StatusPollIntervalSeconds: "15",
      StatusPollBatchSize: "1000",
      InProgressTimeoutMinutes: "10080",
      ForceCancel: "true",
    });
    assert.deepEqual(options, {
      jobIdPrefix: "acme_prod",
      jobTrackingTtlHours: 720,
      statusPollIntervalSeconds: 15,
      statusPollBatchSize: 1000,
      inProgressTimeoutMinutes: 10080,
      forceCancel: true,
    });
  });

  for (const [key, value, hint] of [
    ["JobTrackingTtlHours", 0, /IoT:Aws:Jobs:JobTrackingTtlHours: must be an integer from 1 to 720/],
    ["JobTrackingTtlHours", 721, /from 1 to 720/],
    [
      "StatusPollIntervalSeconds",
      14,
      /IoT:Aws:Jobs:StatusPollIntervalSeconds: must be an integer from 15 to 3600/,
    ],
    ["StatusPollBatchSize", 1001, /from 1 to 1000/],
    ["InProgressTimeoutMinutes", 10081, /from 1 to 10080/],
    ["JobIdPrefix", "has space", /IoT:Aws:Jobs:JobIdPrefix: must be 1–27 characters of \[a-zA-Z0-9_-\]/],
    ["JobIdPrefix", "x".repeat(28), /at most 64/],
    ["ForceCancel", "maybe", /must be true or false/],
    ["JobIdPrefx", "typo", /unknown setting/],
  ] as const) {
    it(`refuses ${key} = ${JSON.stringify(value).slice(0, 20)} naming the key`, () => {
      assert.throws(
        () => parseAwsJobsOptions({ [key]: value }),
        (error: unknown) => error instanceof OptionsValidationError && hint.test(error.message),
      );
    });
  }

  it("keeps every job id within AWS's 64 characters at the longest prefix", () => {
    const { jobIdPrefix } = parseAwsJobsOptions({ JobIdPrefix: "p".repeat(27) });
    assert.equal(`${jobIdPrefix}-${"0194a5e0-aaaa-7aaa-8aaa-aaaaaaaaaaaa"}`.length, 64);
  });
});
