import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { OptionsValidationError } from "@granit/iot";
import { decodeMasterKey, parseFleetProvisioningOptions } from "@granit/iot-aws-fleet-provisioning";

const KEY = Buffer.alloc(32, 1).toString("base64");

describe("IoT:Aws:FleetProvisioning options", () => {
  it("has the documented defaults", () => {
    assert.deepEqual(parseFleetProvisioningOptions(undefined), {
      expiryWarningWindowDays: 30,
      rotationCheckIntervalHours: 24,
      rotationCheckBatchSize: 1000,
      deniedSerialNumbers: [],
      deniedSerialNumbersFile: null,
      masterKey: null,
      previousMasterKeys: [],
      signatureToleranceSeconds: 300,
      credentialCacheSeconds: 10,
      bodyLimitBytes: 16_384,
    });
  });

  it("reads strings from environment variables, lists as comma-separated text", () => {
    const options = parseFleetProvisioningOptions({
      ExpiryWarningWindowDays: "45",
      RotationCheckBatchSize: "10000",
      DeniedSerialNumbers: "SN-1, SN-2,,",
      MasterKey: KEY,
    });
    assert.equal(options.expiryWarningWindowDays, 45);
    assert.equal(options.rotationCheckBatchSize, 10_000);
    assert.deepEqual(options.deniedSerialNumbers, ["SN-1", "SN-2"]);
    assert.equal(options.masterKey, KEY);
  });

  it("reads lists as the host's configuration tree holds them (index-keyed sections, {} for empty)", () => {
    const options = parseFleetProvisioningOptions({
      DeniedSerialNumbers: { "1": "SN-2", "0": "SN-1" },
      PreviousMasterKeys: {},
    });
    assert.deepEqual(options.deniedSerialNumbers, ["SN-1", "SN-2"]);
    assert.deepEqual(options.previousMasterKeys, []);
  });

  for (const [key, value, expected] of [
    ["ExpiryWarningWindowDays", 0, "IoT:Aws:FleetProvisioning:ExpiryWarningWindowDays"],
    ["ExpiryWarningWindowDays", 181, "IoT:Aws:FleetProvisioning:ExpiryWarningWindowDays"],
    ["RotationCheckIntervalHours", 169, "IoT:Aws:FleetProvisioning:RotationCheckIntervalHours"],
    ["RotationCheckBatchSize", 10_001, "IoT:Aws:FleetProvisioning:RotationCheckBatchSize"],
    ["SignatureToleranceSeconds", 5, "IoT:Aws:FleetProvisioning:SignatureToleranceSeconds"],
    ["MasterKey", "short", "IoT:Aws:FleetProvisioning:MasterKey"],
    ["DeniedSerialNumbers", 12, "IoT:Aws:FleetProvisioning:DeniedSerialNumbers"],
    ["Unknown", 1, "IoT:Aws:FleetProvisioning:Unknown"],
  ] as const) {
    it(`refuses ${key} = ${JSON.stringify(value)} naming the full key`, () => {
      assert.throws(
        () => parseFleetProvisioningOptions({ [key]: value }),
        (error: unknown) => error instanceof OptionsValidationError && error.key === expected,
      );
    });
  }

  it("decodes a master key from base64, base64url or hex, and nothing shorter", () => {
    const bytes = Buffer.alloc(32, 200);
    assert.deepEqual(decodeMasterKey(bytes.toString("base64")), bytes);
    assert.deepEqual(decodeMasterKey(bytes.toString("base64url")), bytes);
    assert.deepEqual(decodeMasterKey(bytes.toString("hex")), bytes);
    assert.equal(decodeMasterKey(Buffer.alloc(16).toString("base64")), null);
  });
});
