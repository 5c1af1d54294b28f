/**
 * Which AWS a host talks to (`selectAwsTarget`) and the host's own `IoT:Aws` settings
 * (`readAwsHostSettings`): the emulator unless AWS is really configured, never an account by accident.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { registerIoTAwsConfigSections } from "@granit/bundle-iot-aws";
import { readAwsHostSettings, registerAwsHostSections } from "../src/aws/aws-settings.ts";
import { endpointsFromEnv, selectAwsTarget } from "../src/aws/aws-target.ts";
import { defaultConfigSections } from "../src/config/config-sections.ts";
import { ConfigurationError } from "../src/config/configuration-error.ts";
import { loadConfig } from "../src/config/load-config.ts";

const settingsOf = (env: Record<string, string> = {}, argv: string[] = []) =>
  readAwsHostSettings(
    loadConfig({
      env,
      argv,
      sections: registerAwsHostSections(
        registerIoTAwsConfigSections(defaultConfigSections(), {
          "IoT:Aws:Provisioning": { DevicePolicyName: "granit-device-policy" },
        }),
      ),
    }),
  );
const target = (env: Record<string, string> = {}, config: Record<string, string> = {}, rotating = false) =>
  selectAwsTarget(settingsOf(config), env, { rotatingCredentials: rotating });

describe("selectAwsTarget", () => {
  it("starts the in-process emulator when no AWS is configured", () => {
    assert.deepEqual(target(), { kind: "emulator", port: 4566 });
  });

  it("does not use an account for a region alone, nor for credentials alone", () => {
    assert.equal(target({ AWS_REGION: "eu-west-1" }).kind, "emulator");
    assert.equal(target({ AWS_ACCESS_KEY_ID: "AKIA0000000000000000" }).kind, "emulator");
  });

  it("talks to the account of AWS_REGION with credentials in sight, and says why", () => {
    assert.deepEqual(target({ AWS_REGION: "eu-west-1", AWS_ACCESS_KEY_ID: "AKIA0000000000000000" }), {
      kind: "account",
      region: "eu-west-1",
      endpoints: {},
      reason: "AWS_ACCESS_KEY_ID is set",
    });
    assert.equal(target({ AWS_DEFAULT_REGION: "us-west-2", AWS_PROFILE: "ops" }).kind, "account");
    assert.equal(
      target({ AWS_REGION: "eu-west-1" }, {}, true).kind,
      "account",
      "a rotating FleetCredentialSecretArn counts as credentials",
    );
  });

  it("talks to the endpoint an AWS_ENDPOINT_URL* variable names, per service", () => {
    const chosen = target({
      AWS_ENDPOINT_URL: "http://127.0.0.1:4566",
      AWS_ENDPOINT_URL_IOT_DATA_PLANE: "http://127.0.0.1:5000",
    });

    assert.deepEqual(chosen, {
      kind: "account",
      region: "us-east-1",
      endpoints: {
        iot: "http://127.0.0.1:4566",
        iotData: "http://127.0.0.1:5000",
        iotJobsData: "http://127.0.0.1:4566",
        secretsManager: "http://127.0.0.1:4566",
        sts: "http://127.0.0.1:4566",
      },
      reason: "AWS_ENDPOINT_URL* is set",
    });
    assert.deepEqual(endpointsFromEnv({ AWS_ENDPOINT_URL_IOT: " http://x:1 " }), { iot: "http://x:1" });
  });

  it("obeys IoT:Aws:Target and IoT:Aws:Enabled", () => {
    const account = { AWS_REGION: "eu-west-1", AWS_ACCESS_KEY_ID: "AKIA0000000000000000" };

    assert.deepEqual(target(account, { IoT__Aws__Target: "emulator" }), { kind: "emulator", port: 4566 });
    assert.deepEqual(target({}, { IoT__Aws__Target: "Account" }), {
      kind: "account",
      region: null,
      endpoints: {},
      reason: "IoT:Aws:Target=Account",
    });
    assert.deepEqual(target(account, { IoT__Aws__Enabled: "false" }), { kind: "disabled" });
    assert.deepEqual(target({}, { IoT__Aws__Emulator__Port: "0" }), { kind: "emulator", port: 0 });
  });
});

describe("readAwsHostSettings", () => {
  it("reads the defaults, the flags and the simulation switch", () => {
    assert.deepEqual(settingsOf(), {
      enabled: true,
      target: "Auto",
      region: null,
      accountId: null,
      emulator: { port: 4566 },
      simulation: { devices: 0, tickMilliseconds: 2000 },
    });
    assert.deepEqual(
      settingsOf({ IoT__Aws__Region: "eu-west-1", IoT__Aws__AccountId: "123456789012" }, [
        "--IoT:Aws:Simulation:Devices=20",
      ]),
      {
        enabled: true,
        target: "Auto",
        region: "eu-west-1",
        accountId: "123456789012",
        emulator: { port: 4566 },
        simulation: { devices: 20, tickMilliseconds: 2000 },
      },
    );
  });

  it("refuses a typo under IoT:Aws and bad values, one line per key", () => {
    assert.throws(
      () =>
        settingsOf({
          IoT__Aws__Shadw__PollIntervalSeconds: "10",
          IoT__Aws__Enabled: "yes",
          IoT__Aws__AccountId: "42",
        }),
      (error: unknown) =>
        error instanceof ConfigurationError &&
        error.errors
          .map((e) => e.key)
          .sort()
          .join(",") === "IoT:Aws:AccountId,IoT:Aws:Enabled,IoT:Aws:Shadw" &&
        /is not a known setting \(known here: Enabled, Target, Region, AccountId, Credentials, Calls, Provisioning, Shadow, Jobs, FleetProvisioning, Emulator, Simulation\)/.test(
          error.errors.find((e) => e.key === "IoT:Aws:Shadw")?.message ?? "",
        ),
    );
    assert.throws(
      () => settingsOf({}, ["--IoT:Aws:Simulation:Devices=5000"]),
      (error: unknown) =>
        error instanceof ConfigurationError &&
        error.errors[0]?.key === "IoT:Aws:Simulation:Devices" &&
        /from 0 to 1000/.test(error.errors[0]?.message ?? ""),
    );
  });
});
