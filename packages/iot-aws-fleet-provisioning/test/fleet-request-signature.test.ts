import assert from "node:assert/strict";
import { createHash, createHmac } from "node:crypto";
import { describe, it } from "node:test";
import {
  computeFleetSignature,
  fleetAuthorizationHeader,
  fleetStringToSign,
  parseFleetAuthorization,
  parseFleetTimestamp,
} from "@granit/iot-aws-fleet-provisioning";

const request = {
  method: "post",
  path: "/api/iot/fleet-provisioning/verify",
  timestamp: "2026-03-01T08:00:00.000Z",
  body: '{"serialNumber":"SN-1"}',
};

describe("the fleet request signature", () => {
  it("signs METHOD, path, timestamp and the body's SHA-256, one per line", () => {
    const bodyHash = createHash("sha256").update(request.body).digest("hex");
    assert.equal(
      fleetStringToSign(request),
      `POST\n/api/iot/fleet-provisioning/verify\n2026-03-01T08:00:00.000Z\n${bodyHash}`,
    );
    assert.equal(
      computeFleetSignature("s3cret", request),
      createHmac("sha256", "s3cret").update(fleetStringToSign(request)).digest("hex"),
    );
  });

  it("builds a header that parses back to its parts", () => {
    const header = fleetAuthorizationHeader({ keyId: "fk_abc", secret: "s3cret", ...request });
    assert.match(
      header,
      /^GRANIT-HMAC-SHA256 KeyId=fk_abc, Timestamp=2026-03-01T08:00:00.000Z, Signature=[0-9a-f]{64}$/,
    );
    assert.deepEqual(parseFleetAuthorization(header), {
      keyId: "fk_abc",
      timestamp: request.timestamp,
      signature: computeFleetSignature("s3cret", request),
    });
  });

  it("accepts the parameters in any order and the scheme in any case", () => {
    const signature = "a".repeat(64);
    assert.deepEqual(
      parseFleetAuthorization(`granit-hmac-sha256 Signature=${signature},Timestamp=1772352000,KeyId=k-1`),
      { keyId: "k-1", timestamp: "1772352000", signature },
    );
  });

  for (const bad of [
    undefined,
    "",
    "Bearer token",
    "GRANIT-HMAC-SHA256",
    `GRANIT-HMAC-SHA256 KeyId=k, Timestamp=2026-03-01T08:00:00Z`,
    `GRANIT-HMAC-SHA256 KeyId=k, KeyId=k, Timestamp=2026-03-01T08:00:00Z, Signature=${"a".repeat(64)}`,
    `GRANIT-HMAC-SHA256 KeyId=k, Timestamp=yesterday, Signature=${"a".repeat(64)}`,
    `GRANIT-HMAC-SHA256 KeyId=k, Timestamp=2026-03-01T08:00:00Z, Signature=${"g".repeat(64)}`,
    `GRANIT-HMAC-SHA256 KeyId=has space, Timestamp=2026-03-01T08:00:00Z, Signature=${"a".repeat(64)}`,
    `GRANIT-HMAC-SHA256 KeyId=k, Timestamp=2026-03-01T08:00:00Z, Signature=${"a".repeat(64)}, Extra=1`,
    `GRANIT-HMAC-SHA256 KeyId=k, Timestamp=2026-03-01T08:00:00Z, Signature=${"a".repeat(600)}`,
  ]) {
    it(`refuses the header ${JSON.stringify(bad)?.slice(0, 70)}`, () => {
      assert.equal(parseFleetAuthorization(bad), null);
    });
  }

  it("reads ISO-8601 UTC and epoch-second timestamps, nothing else", () => {
    assert.equal(parseFleetTimestamp("2026-03-01T08:00:00Z"), Date.parse("2026-03-01T08:00:00Z"));
    assert.equal(parseFleetTimestamp("1772352000"), 1_772_352_000_000);
    assert.equal(parseFleetTimestamp("1772352000.5"), 1_772_352_000_500);
    assert.equal(parseFleetTimestamp("2026-03-01T08:00:00+01:00"), null);
    assert.equal(parseFleetTimestamp("2026-13-45T99:00:00Z"), null);
  });
});
