/**
 * The `IoT:Aws:*` sections: `registerIoTAwsConfigSections` plugs each package's parser into a host's
 * section registry (with defaults and case-insensitive keys, typos refused), and `readIoTAwsOptions`
 * gives the bundle the parsed options back.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  type ConfigSectionRegistrar,
  IOT_AWS_SECTIONS,
  readIoTAwsOptions,
  registerIoTAwsConfigSections,
} from "@granit/bundle-iot-aws";
import { OptionsValidationError } from "@granit/iot";
import { parseAwsShadowOptions } from "@granit/iot-aws-shadow";

type Parser = (raw: Readonly<Record<string, unknown>> | undefined, path: string) => unknown;

/** A registry like the host's: path → parser and defaults. */
function registry() {
  const entries = new Map<string, { parse: Parser; defaults?: Readonly<Record<string, unknown>> }>();
  const registrar: ConfigSectionRegistrar = {
    register(path, parse, defaults) {
      entries.set(path, defaults ? { parse, defaults } : { parse });
    },
  };
  const parse = (path: string, raw: Record<string, unknown> | undefined) => {
    const entry = entries.get(path);
    if (!entry) throw new Error(`${path} is not registered`);
    return entry.parse(raw === undefined && entry.defaults ? { ...entry.defaults } : raw, path);
  };
  return { registrar, entries, parse };
}

describe("registerIoTAwsConfigSections", () => {
  it("registers the six sections of the bridge, each with its package's parser", () => {
    const { registrar, entries } = registry();

    registerIoTAwsConfigSections(registrar);

    assert.deepEqual(
      [...entries.keys()],
      [
        "IoT:Aws:Credentials",
        "IoT:Aws:Calls",
        "IoT:Aws:Provisioning",
        "IoT:Aws:Shadow",
        "IoT:Aws:Jobs",
        "IoT:Aws:FleetProvisioning",
      ],
    );
    assert.equal(IOT_AWS_SECTIONS.length, 6);
  });

  it("refuses a bad value with the full key and the allowed range", () => {
    const { registrar, parse } = registry();
    registerIoTAwsConfigSections(registrar);

    assert.throws(
      () => parse("IoT:Aws:Shadow", { PollIntervalSeconds: "2" }),
      (error: unknown) =>
        error instanceof OptionsValidationError &&
        error.key === "IoT:Aws:Shadow:PollIntervalSeconds" &&
        /from 5 to 600/.test(error.message),
    );
    assert.throws(
      () => parse("IoT:Aws:Provisioning", undefined),
      (error: unknown) =>
        error instanceof OptionsValidationError && error.key === "IoT:Aws:Provisioning:DevicePolicyName",
    );
  });

  it("reads keys whatever their case, and still refuses a typo", () => {
    const { registrar, parse } = registry();
    registerIoTAwsConfigSections(registrar);

    const shadow = parse("IoT:Aws:Shadow", { POLLINTERVALSECONDS: "10", autopushlifecyclestatus: "false" });

    assert.deepEqual(shadow, {
      ...parseAwsShadowOptions({}),
      pollIntervalSeconds: 10,
      autoPushLifecycleStatus: false,
    });
    assert.throws(
      () => parse("IoT:Aws:Jobs", { StatusPollIntervalSecond: 30 }),
      (error: unknown) =>
        error instanceof OptionsValidationError && error.key === "IoT:Aws:Jobs:StatusPollIntervalSecond",
    );
  });

  it("hands per-section defaults to the registry (configured values win over them)", () => {
    const { registrar, entries, parse } = registry();

    registerIoTAwsConfigSections(registrar, {
      "IoT:Aws:Provisioning": { DevicePolicyName: "granit-device-policy" },
      "IoT:Aws:Shadow": { PollIntervalSeconds: 5 },
    });

    assert.deepEqual(entries.get("IoT:Aws:Shadow")?.defaults, { PollIntervalSeconds: 5 });
    assert.equal(entries.get("IoT:Aws:Jobs")?.defaults, undefined);
    assert.equal(
      (parse("IoT:Aws:Provisioning", undefined) as { devicePolicyName: string }).devicePolicyName,
      "granit-device-policy",
    );
  });
});

describe("readIoTAwsOptions", () => {
  it("reuses what the registered parsers returned, parses pass-through sections, and lets explicit options win", () => {
    const { registrar, parse } = registry();
    registerIoTAwsConfigSections(registrar);
    const parsedShadow = parse("IoT:Aws:Shadow", { PollIntervalSeconds: 45 });
    const sections = new Map<string, unknown>([
      ["IoT:Aws:Shadow", parsedShadow],
      ["IoT:Aws:Jobs", { StatusPollIntervalSeconds: "20" }], // pass-through: raw
      ["IoT:Aws:Provisioning", { DevicePolicyName: "from-config" }],
    ]);
    const explicitCalls = { ...readIoTAwsOptions(sections).calls, maxAttempts: 3 };

    const options = readIoTAwsOptions(sections, { calls: explicitCalls });

    assert.equal(options.shadow, parsedShadow);
    assert.equal(options.jobs.statusPollIntervalSeconds, 20);
    assert.equal(options.provisioning.devicePolicyName, "from-config");
    assert.equal(options.calls, explicitCalls);
    assert.equal(options.credentials.fleetCredentialSecretArn, null);
    assert.equal(options.fleetProvisioning.masterKey, null);
  });

  it("names the missing DevicePolicyName when nothing provides it", () => {
    assert.throws(
      () => readIoTAwsOptions(undefined),
      (error: unknown) =>
        error instanceof OptionsValidationError &&
        error.key === "IoT:Aws:Provisioning:DevicePolicyName" &&
        /is required/.test(error.message),
    );
  });
});
