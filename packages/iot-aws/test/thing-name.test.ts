import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  InvalidArnError,
  InvalidThingNameError,
  isArn,
  parseCertificateArn,
  parseSecretArn,
  parseThingArn,
  THING_NAME_MAX_LENGTH,
  THING_NAME_SERIAL_MAX_LENGTH,
  ThingName,
  type ThingNameRule,
} from "../src/index.ts";

const TENANT = "11111111-2222-3333-4444-555555555555";
const TENANT_HEX = "11111111222233334444555555555555";

function rejects(rule: ThingNameRule, act: () => unknown): void {
  assert.throws(act, (error: unknown) => {
    assert.ok(error instanceof InvalidThingNameError, `expected InvalidThingNameError, got ${String(error)}`);
    assert.equal(error.name, "InvalidThingNameError");
    assert.equal(error.rule, rule);
    return true;
  });
}

describe("ThingName.from", () => {
  it("produces t{tenant as 32 lowercase hex}-{serial}", () => {
    assert.equal(ThingName.from(TENANT, "SN-001").value, `t${TENANT_HEX}-SN-001`);
  });

  it("lower-cases an upper-case tenant id", () => {
    assert.equal(
      ThingName.from("ABCDEF01-2222-3333-4444-555555555555", "X").value,
      "tabcdef01222233334444555555555555-X",
    );
  });

  it("round-trips tenant and serial", () => {
    const name = ThingName.parse(ThingName.from(TENANT, "Device_42").value);
    assert.equal(name.tenantId, TENANT);
    assert.equal(name.serialNumber, "Device_42");
  });

  it("uses the all-zero tenant for host devices and parses it back as the host", () => {
    const name = ThingName.from(null, "ABC");
    assert.equal(name.value, `t${"0".repeat(32)}-ABC`);
    assert.equal(ThingName.parse(name.value).tenantId, null);
  });

  for (const serial of ["SN-001", "Device_42", "ABC", "a", "9-_"]) {
    it(`accepts the serial '${serial}'`, () => {
      assert.equal(ThingName.from(TENANT, serial).serialNumber, serial);
    });
  }

  it(`accepts a serial of exactly ${THING_NAME_SERIAL_MAX_LENGTH} characters (a ${THING_NAME_MAX_LENGTH}-character name)`, () => {
    const name = ThingName.from(TENANT, "A".repeat(94));
    assert.equal(name.value.length, 128);
  });

  it("refuses a serial of 95 characters", () => {
    rejects("serialMaxLength", () => ThingName.from(TENANT, "A".repeat(95)));
  });

  for (const serial of ["", null, undefined]) {
    it(`refuses the empty serial ${JSON.stringify(serial)}`, () => {
      rejects("serialRequired", () => ThingName.from(TENANT, serial));
    });
  }

  for (const serial of [
    " ",
    "contains spaces",
    "with!special",
    "-leadingdash",
    "_leading",
    "colon:ok-in-aws",
    "é",
  ]) {
    it(`refuses the serial ${JSON.stringify(serial)}`, () => {
      rejects("serialPattern", () => ThingName.from(TENANT, serial));
    });
  }

  it("refuses a tenant id that is not a UUID", () => {
    rejects("tenantId", () => ThingName.from("tenant-1", "SN"));
  });
});

describe("ThingName.parse", () => {
  it("accepts the canonical value and converts to text", () => {
    const name = ThingName.parse(`t${TENANT_HEX}-SN-001`);
    assert.equal(String(name), `t${TENANT_HEX}-SN-001`);
    assert.equal(JSON.stringify({ name }), `{"name":"t${TENANT_HEX}-SN-001"}`);
    assert.ok(name.equals(`t${TENANT_HEX}-SN-001`));
  });

  it("accepts the longest name, 128 characters", () => {
    assert.equal(ThingName.parse(`t${TENANT_HEX}-${"A".repeat(94)}`).serialNumber.length, 94);
  });

  const cases: [string, ThingNameRule, unknown][] = [
    ["129 characters", "maxLength", `t${TENANT_HEX}-${"A".repeat(95)}`],
    ["a serial of 100", "maxLength", `t${TENANT_HEX}-${"A".repeat(100)}`],
    ["a number", "type", 42],
    ["null", "type", null],
    ["the missing 't'", "prefix", `${TENANT_HEX}-SN-001`],
    ["an upper-case 'T'", "prefix", `T${TENANT_HEX}-SN-001`],
    ["the empty string", "prefix", ""],
    ["a tenant that is too short", "tenantHex", "t1111-SN-001"],
    ["a non-hex 'G' in the tenant", "tenantHex", `tG${TENANT_HEX.slice(1)}-SN-001`],
    ["upper-case hex in the tenant", "tenantHex", `t${TENANT_HEX.replace("1", "A").toUpperCase()}-SN`],
    ["a dashed UUID tenant", "tenantHex", `t${TENANT}-SN`],
    ["'_' instead of '-' after the tenant", "separator", `t${TENANT_HEX}_SN-001`],
    ["no serial", "serialRequired", `t${TENANT_HEX}-`],
    ["a serial with a space", "serialPattern", `t${TENANT_HEX}-SN 1`],
    ["a serial starting with '-'", "serialPattern", `t${TENANT_HEX}--SN`],
  ];
  for (const [label, rule, value] of cases) {
    it(`refuses ${label} (rule ${rule})`, () => {
      rejects(rule, () => ThingName.parse(value));
      assert.equal(ThingName.tryParse(value), null);
    });
  }

  it("says which rule failed in the message", () => {
    assert.throws(() => ThingName.parse(`t${TENANT_HEX}_SN`), /must be followed by '-'/);
  });

  it("gives the per-tenant policy prefix", () => {
    assert.equal(ThingName.tenantPrefix(TENANT), `t${TENANT_HEX}-`);
    assert.ok(ThingName.from(TENANT, "X").value.startsWith(ThingName.tenantPrefix(TENANT)));
  });
});

describe("ARN parsers", () => {
  const certId = "0123456789abcdef".repeat(4);

  for (const [partition, region] of [
    ["aws", "eu-west-1"],
    ["aws-cn", "cn-north-1"],
    ["aws-us-gov", "us-gov-west-1"],
    ["aws-iso", "us-iso-east-1"],
  ] as const) {
    it(`parses thing, certificate and secret ARNs of the ${partition} partition`, () => {
      const thing = parseThingArn(`arn:${partition}:iot:${region}:123456789012:thing/t${TENANT_HEX}-SN-1`);
      assert.deepEqual(
        { partition: thing.partition, region: thing.region, account: thing.accountId, name: thing.thingName },
        { partition, region, account: "123456789012", name: `t${TENANT_HEX}-SN-1` },
      );
      assert.equal(
        parseCertificateArn(`arn:${partition}:iot:${region}:123456789012:cert/${certId}`).certificateId,
        certId,
      );
      const secret = parseSecretArn(
        `arn:${partition}:secretsmanager:${region}:123456789012:secret:iot/devices/x/key-AbC123`,
      );
      assert.equal(secret.secretName, "iot/devices/x/key");
      assert.equal(secret.resource, "iot/devices/x/key-AbC123");
    });
  }

  it("keeps a secret name without the random suffix as is (partial ARN)", () => {
    assert.equal(
      parseSecretArn("arn:aws:secretsmanager:us-east-1:123456789012:secret:fleet").secretName,
      "fleet",
    );
  });

  it("accepts ':' in a thing name, as AWS does", () => {
    assert.equal(parseThingArn("arn:aws:iot:us-east-1:123456789012:thing/a:b").thingName, "a:b");
  });

  const bad: [string, string, () => unknown][] = [
    ["an empty string", "required", () => parseThingArn("")],
    ["a non-ARN", "format", () => parseThingArn("thing/x")],
    [
      "an unknown partition",
      "partition",
      () => parseThingArn("arn:azure:iot:us-east-1:123456789012:thing/x"),
    ],
    ["another service", "service", () => parseThingArn("arn:aws:s3:us-east-1:123456789012:thing/x")],
    ["a bad region", "region", () => parseThingArn("arn:aws:iot:moon:123456789012:thing/x")],
    ["a short account", "account", () => parseThingArn("arn:aws:iot:us-east-1:1234:thing/x")],
    [
      "a policy ARN as thing",
      "resourceType",
      () => parseThingArn("arn:aws:iot:us-east-1:123456789012:policy/x"),
    ],
    [
      "a thing ARN without name",
      "resourceType",
      () => parseThingArn("arn:aws:iot:us-east-1:123456789012:thing/"),
    ],
    [
      "a short certificate id",
      "resource",
      () => parseCertificateArn("arn:aws:iot:us-east-1:123456789012:cert/abc"),
    ],
    [
      "a thing ARN as certificate",
      "resourceType",
      () => parseCertificateArn(`arn:aws:iot:us-east-1:123456789012:thing/${certId}`),
    ],
    [
      "a secret name with spaces",
      "resource",
      () => parseSecretArn("arn:aws:secretsmanager:us-east-1:123456789012:secret:a b"),
    ],
    ["an IoT ARN as secret", "service", () => parseSecretArn("arn:aws:iot:us-east-1:123456789012:secret:x")],
  ];
  for (const [label, rule, act] of bad) {
    it(`refuses ${label} (rule ${rule})`, () => {
      assert.throws(act, (error: unknown) => error instanceof InvalidArnError && error.rule === rule);
    });
  }

  it("answers isArn without throwing", () => {
    assert.equal(isArn("secret", "arn:aws:secretsmanager:us-east-1:123456789012:secret:x"), true);
    assert.equal(isArn("certificate", "nope"), false);
  });
});
