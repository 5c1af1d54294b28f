import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  CRASH_AT_ENV,
  crashPointFromEnv,
  DEVICE_CREDENTIALS_SCHEMA,
  isCompleteDeviceCredentials,
  noCrashPoints,
  parseDeviceCredentials,
  serializeDeviceCredentials,
} from "@granit/iot-aws-provisioning";

const escrow = {
  schema: DEVICE_CREDENTIALS_SCHEMA,
  bindingId: "0194a5e0-0000-7000-8000-000000000001",
  thingName: "t11111111222233334444555555555555-SN-001",
  privateKeyPem: "key",
  certificateSigningRequestPem: "csr",
} as const;

describe("device credentials in Secrets Manager", () => {
  it("serialises the same content to the same bytes, whatever the key order", () => {
    const reordered = {
      privateKeyPem: "key",
      thingName: escrow.thingName,
      certificateSigningRequestPem: "csr",
      bindingId: escrow.bindingId,
      schema: DEVICE_CREDENTIALS_SCHEMA,
    } as const;
    assert.equal(serializeDeviceCredentials(escrow), serializeDeviceCredentials(reordered));
    assert.ok(serializeDeviceCredentials(escrow).startsWith('{"bindingId":'));
  });

  it("reads back an escrow payload and a complete one, and refuses anything else", () => {
    const complete = { ...escrow, certificateArn: "arn", certificateId: "id", certificatePem: "pem" };
    assert.deepEqual(parseDeviceCredentials(serializeDeviceCredentials(escrow)), escrow);
    assert.equal(
      isCompleteDeviceCredentials(parseDeviceCredentials(serializeDeviceCredentials(escrow))),
      false,
    );
    assert.deepEqual(parseDeviceCredentials(serializeDeviceCredentials(complete)), complete);
    assert.equal(
      isCompleteDeviceCredentials(parseDeviceCredentials(serializeDeviceCredentials(complete))),
      true,
    );
    assert.equal(parseDeviceCredentials('{"left":"over"}'), null);
    assert.equal(parseDeviceCredentials("not json"), null);
    assert.equal(parseDeviceCredentials(null), null);
  });
});

describe("the crash-point test hook", () => {
  it("does nothing unless GRANIT_CRASH_AT is set, and refuses an unknown point", () => {
    assert.equal(crashPointFromEnv({}), noCrashPoints);
    assert.throws(() => crashPointFromEnv({ [CRASH_AT_ENV]: "nowhere:at-all" }), /unknown crash point/);
    const hook = crashPointFromEnv({
      [CRASH_AT_ENV]: "thing:after-describe@0194a5e0-0000-7000-8000-000000000001",
    });
    hook("thing:after-describe", "0194a5e0-0000-7000-8000-000000000002"); // another device: no crash
    hook("key:after-lookup", "0194a5e0-0000-7000-8000-000000000001"); // another point: no crash
  });
});
