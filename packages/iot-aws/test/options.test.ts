import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { OptionsValidationError } from "@granit/iot";
import {
  booleanOption,
  defineOptionsSection,
  integerOption,
  parseAwsCallOptions,
  parseAwsIoTCredentialOptions,
  parseOptionsSection,
  stringOption,
} from "../src/index.ts";

function rejects(act: () => unknown, key: string, message: RegExp): void {
  assert.throws(act, (error: unknown) => {
    assert.ok(error instanceof OptionsValidationError, String(error));
    assert.equal(error.key, key);
    assert.match(error.message, message);
    return true;
  });
}

describe("IoT:Aws:Credentials", () => {
  it("defaults to IAM-role mode, a 5-minute rotation check and a 15-second initial fetch", () => {
    assert.deepEqual(parseAwsIoTCredentialOptions(undefined), {
      fleetCredentialSecretArn: null,
      rotationCheckIntervalMinutes: 5,
      initialFetchTimeoutSeconds: 15,
    });
  });

  it("reads PascalCase keys, including numbers given as environment strings", () => {
    const arn = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:fleet/keys-AbC123";
    assert.deepEqual(
      parseAwsIoTCredentialOptions({
        FleetCredentialSecretArn: arn,
        RotationCheckIntervalMinutes: "240",
        InitialFetchTimeoutSeconds: 1,
      }),
      { fleetCredentialSecretArn: arn, rotationCheckIntervalMinutes: 240, initialFetchTimeoutSeconds: 1 },
    );
  });

  it("treats an empty FleetCredentialSecretArn as unset (IAM-role mode)", () => {
    assert.equal(
      parseAwsIoTCredentialOptions({ FleetCredentialSecretArn: "  " }).fleetCredentialSecretArn,
      null,
    );
  });

  for (const [value, label] of [
    [0, "0"],
    [241, "241"],
    [2.5, "a fraction"],
    ["five", "text"],
  ] as const) {
    it(`refuses RotationCheckIntervalMinutes = ${label}, naming the key and the range 1–240`, () => {
      rejects(
        () => parseAwsIoTCredentialOptions({ RotationCheckIntervalMinutes: value }),
        "IoT:Aws:Credentials:RotationCheckIntervalMinutes",
        /from 1 to 240/,
      );
    });
  }

  for (const value of [0, 61]) {
    it(`refuses InitialFetchTimeoutSeconds = ${value}, naming the range 1–60`, () => {
      rejects(
        () => parseAwsIoTCredentialOptions({ InitialFetchTimeoutSeconds: value }),
        "IoT:Aws:Credentials:InitialFetchTimeoutSeconds",
        /^IoT:Aws:Credentials:InitialFetchTimeoutSeconds: must be an integer from 1 to 60/,
      );
    });
  }

  it("refuses a FleetCredentialSecretArn that is not a secret ARN", () => {
    rejects(
      () =>
        parseAwsIoTCredentialOptions({
          FleetCredentialSecretArn: "arn:aws:iot:eu-west-1:123456789012:thing/x",
        }),
      "IoT:Aws:Credentials:FleetCredentialSecretArn",
      /Secrets Manager secret ARN/,
    );
  });

  it("refuses an unknown key so a typo does not fall back to a default", () => {
    rejects(
      () => parseAwsIoTCredentialOptions({ RotationCheckIntervalMinute: 10 }),
      "IoT:Aws:Credentials:RotationCheckIntervalMinute",
      /unknown setting/,
    );
  });

  it("refuses a section that is not an object", () => {
    rejects(() => parseAwsIoTCredentialOptions("5"), "IoT:Aws:Credentials", /must be a section/);
  });
});

describe("parseOptionsSection for other sections", () => {
  const schema = defineOptionsSection({
    PollIntervalSeconds: integerOption({ min: 5, max: 600, default: 30 }),
    AutoPushLifecycleStatus: booleanOption(true),
    DevicePolicyName: stringOption({ pattern: /^[\w+=,.@-]{1,128}$/, hint: "an IoT policy name" }),
  });

  it("camelCases the keys and applies defaults", () => {
    assert.deepEqual(
      parseOptionsSection(
        schema,
        { DevicePolicyName: "granit-device", AutoPushLifecycleStatus: "FALSE" },
        "IoT:Aws:Shadow",
      ),
      {
        pollIntervalSeconds: 30,
        autoPushLifecycleStatus: false,
        devicePolicyName: "granit-device",
      },
    );
  });

  it("names the first bad key and lists the other problems", () => {
    assert.throws(
      () =>
        parseOptionsSection(
          schema,
          { PollIntervalSeconds: 1, AutoPushLifecycleStatus: "maybe" },
          "IoT:Aws:Shadow",
        ),
      (error: unknown) =>
        error instanceof OptionsValidationError &&
        error.key === "IoT:Aws:Shadow:PollIntervalSeconds" &&
        /from 5 to 600/.test(error.message) &&
        /IoT:Aws:Shadow:AutoPushLifecycleStatus: must be true or false/.test(error.message) &&
        /IoT:Aws:Shadow:DevicePolicyName: is required/.test(error.message),
    );
  });
});

describe("IoT:Aws:Calls", () => {
  it("has defaults and flattens nested rate limits to service:Operation", () => {
    const options = parseAwsCallOptions({
      MaxAttempts: "5",
      RateLimits: { iot: { CreateThing: 30, DescribeThing: { TokensPerSecond: 100, Burst: 200 } } },
    });
    assert.equal(options.maxAttempts, 5);
    assert.equal(options.maxElapsedSeconds, 120);
    assert.deepEqual(options.rateLimits, {
      "iot:CreateThing": { tokensPerSecond: 30 },
      "iot:DescribeThing": { tokensPerSecond: 100, burst: 200 },
    });
  });

  it("refuses MaxAttempts out of range with the full key", () => {
    rejects(() => parseAwsCallOptions({ MaxAttempts: 0 }), "IoT:Aws:Calls:MaxAttempts", /from 1 to 20/);
  });

  it("refuses a negative rate with the full key", () => {
    rejects(
      () => parseAwsCallOptions({ RateLimits: { iot: { CreateThing: -1 } } }),
      "IoT:Aws:Calls:RateLimits:iot:CreateThing",
      /rate in requests per second/,
    );
  });
});
