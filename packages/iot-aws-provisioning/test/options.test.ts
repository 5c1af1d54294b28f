import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { OptionsValidationError } from "@granit/iot";
import {
  DEFAULT_SECRET_NAME_TEMPLATE,
  parseAwsProvisioningOptions,
  secretNameOf,
} from "@granit/iot-aws-provisioning";

describe("IoT:Aws:Provisioning options", () => {
  it("stops start-up with a clear message when DevicePolicyName is missing", () => {
    assert.throws(
      () => parseAwsProvisioningOptions({}),
      (error: unknown) =>
        error instanceof OptionsValidationError &&
        error.key === "IoT:Aws:Provisioning:DevicePolicyName" &&
        error.message ===
          "IoT:Aws:Provisioning:DevicePolicyName: is required: the name of the IoT policy attached to every device certificate (create it with ensureDevicePolicy)",
    );
    assert.throws(() => parseAwsProvisioningOptions(undefined), /DevicePolicyName: is required/);
    assert.throws(
      () => parseAwsProvisioningOptions({ DevicePolicyName: "  " }),
      /DevicePolicyName: is required/,
    );
  });

  it("fills every other setting with its default", () => {
    assert.deepEqual(parseAwsProvisioningOptions({ DevicePolicyName: "granit-device" }), {
      devicePolicyName: "granit-device",
      secretNameTemplate: DEFAULT_SECRET_NAME_TEMPLATE,
      secretKmsKeyId: null,
      secretRecoveryWindowInDays: null,
      adoptionScanMaxCertificates: 1000,
      adoptionScanMarginSeconds: 300,
      teardownMaxWaitSeconds: 60,
      teardownBaseDelayMilliseconds: 500,
      reconcileGraceSeconds: 3600,
    });
  });

  it("accepts the strings environment variables carry", () => {
    const options = parseAwsProvisioningOptions({
      DevicePolicyName: "granit-device",
      SecretRecoveryWindowInDays: "7",
      TeardownMaxWaitSeconds: "120",
      SecretKmsKeyId: "alias/granit-devices",
    });
    assert.equal(options.secretRecoveryWindowInDays, 7);
    assert.equal(options.teardownMaxWaitSeconds, 120);
    assert.equal(options.secretKmsKeyId, "alias/granit-devices");
    assert.equal(
      parseAwsProvisioningOptions({ DevicePolicyName: "p", SecretRecoveryWindowInDays: "" })
        .secretRecoveryWindowInDays,
      null,
    );
  });

  it("refuses a policy name AWS would refuse", () => {
    assert.throws(
      () => parseAwsProvisioningOptions({ DevicePolicyName: "has spaces" }),
      /must be an IoT policy name/,
    );
  });

  for (const [template, problem] of [
    ["iot/devices/key", /must contain \{thingName\}/],
    ["iot/devices/{thingName}", /must not end with \{thingName\}/],
    ["iot devices/{thingName}/key", /may contain only letters, digits/],
  ] as const) {
    it(`refuses the secret name template '${template}'`, () => {
      assert.throws(
        () => parseAwsProvisioningOptions({ DevicePolicyName: "p", SecretNameTemplate: template }),
        (error: unknown) =>
          error instanceof OptionsValidationError &&
          error.key === "IoT:Aws:Provisioning:SecretNameTemplate" &&
          problem.test(error.message),
      );
    });
  }

  it("refuses a recovery window outside 7–30 days, and unknown settings", () => {
    assert.throws(
      () => parseAwsProvisioningOptions({ DevicePolicyName: "p", SecretRecoveryWindowInDays: 6 }),
      /SecretRecoveryWindowInDays: must be an integer from 7 to 30/,
    );
    assert.throws(
      () => parseAwsProvisioningOptions({ DevicePolicyName: "p", DevicePolicy: "typo" }),
      /IoT:Aws:Provisioning:DevicePolicy: unknown setting/,
    );
  });

  it("names a device's secret from the template", () => {
    assert.equal(
      secretNameOf(DEFAULT_SECRET_NAME_TEMPLATE, "t11111111222233334444555555555555-SN-001"),
      "iot/devices/t11111111222233334444555555555555-SN-001/key",
    );
  });
});
