/**
 * The Lambda handlers as AWS runs them: configured from environment variables on the first
 * invocation (`preProvisioningHook`, `registrationForwarder` exported by `/lambda`), the forwarder's
 * IoT client built by the SDK from the standard `AWS_*` variables (pointed at the emulator).
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import {
  AttachThingPrincipalCommand,
  CreateKeysAndCertificateCommand,
  CreateThingCommand,
} from "@aws-sdk/client-iot";
import { type Emulator, startEmulator } from "@granit/aws-iot-emulator";
import { ThingName } from "@granit/iot-aws";
import {
  FleetLambdaConfigError,
  fleetLambdaConfigFromEnv,
  preProvisioningHook,
  registrationForwarder,
} from "@granit/iot-aws-fleet-provisioning/lambda";
import { databaseTargets } from "@granit/iot-postgres/testing";
import { TENANT_A } from "./support/fleet-fixture.ts";
import { type FleetHost, startFleetHost } from "./support/fleet-host.ts";

const base = {
  GRANIT_FLEET_URL: "https://iot.example.com/api/iot/fleet-provisioning/",
  GRANIT_FLEET_KEY_ID: "fk_1",
  GRANIT_FLEET_KEY_SECRET: "s3cret",
};

describe("fleetLambdaConfigFromEnv", () => {
  it("reads the variables with their defaults", () => {
    const config = fleetLambdaConfigFromEnv(base);
    assert.equal(config.url, "https://iot.example.com/api/iot/fleet-provisioning");
    assert.equal(config.timeoutMs, 2500);
    assert.equal(config.serialParameter, "SerialNumber");
    assert.equal(config.attributes.model, "model");
    assert.equal(config.principalWaitMs, 5000);
    assert.equal(config.secretArn, null);
  });

  for (const [name, env, message] of [
    ["no URL", { ...base, GRANIT_FLEET_URL: "" }, /GRANIT_FLEET_URL is required/],
    ["a URL that is not http(s)", { ...base, GRANIT_FLEET_URL: "ftp://x" }, /http\(s\) URL/],
    ["no key id", { ...base, GRANIT_FLEET_KEY_ID: " " }, /GRANIT_FLEET_KEY_ID/],
    [
      "no secret nor secret ARN",
      { ...base, GRANIT_FLEET_KEY_SECRET: undefined },
      /GRANIT_FLEET_KEY_SECRET_ARN/,
    ],
    ["a timeout over 3 s", { ...base, GRANIT_FLEET_TIMEOUT_MS: "4000" }, /100 to 3000/],
  ] as const) {
    it(`refuses ${name}`, () => {
      assert.throws(
        () => fleetLambdaConfigFromEnv(env),
        (error: unknown) => error instanceof FleetLambdaConfigError && message.test((error as Error).message),
      );
    });
  }
});

const [pglite] = databaseTargets();
describe("the env-configured handlers against a real host", () => {
  let emulator: Emulator;
  let fh: FleetHost;
  const saved = { ...process.env };
  before(async () => {
    emulator = await startEmulator({ port: 0 });
    fh = await startFleetHost(pglite as NonNullable<typeof pglite>, emulator);
  });
  after(async () => {
    process.env = saved;
    await fh?.dispose();
    await emulator?.stop();
  });

  it("denies while the configuration is incomplete, then allows once it is set", async () => {
    for (const name of Object.keys(process.env).filter((n) => n.startsWith("GRANIT_FLEET_")))
      delete process.env[name];
    const event = { claimCertificateId: "a".repeat(64), parameters: { SerialNumber: "ENV-1" } };
    assert.deepEqual(await preProvisioningHook(event), { allowProvisioning: false });

    Object.assign(process.env, {
      GRANIT_FLEET_URL: fh.fleetUrl,
      GRANIT_FLEET_KEY_ID: fh.keys.a.keyId,
      GRANIT_FLEET_KEY_SECRET: fh.keys.a.secret,
      GRANIT_FLEET_TIMEOUT_MS: "2000",
    });
    const { claimCertificateId: _none, ...withoutClaim } = event;
    assert.deepEqual(await preProvisioningHook(withoutClaim), {
      allowProvisioning: true,
      parameterOverrides: { ThingName: ThingName.from(TENANT_A, "ENV-1").value },
    });
  });

  it("forwards a thing creation with an IoT client the SDK builds from AWS_* variables", async () => {
    const config = emulator.clientConfig();
    Object.assign(process.env, {
      AWS_ENDPOINT_URL: config.endpoint,
      AWS_REGION: config.region,
      AWS_ACCESS_KEY_ID: config.credentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: config.credentials.secretAccessKey,
      GRANIT_FLEET_DEFAULT_MODEL: "GW-ENV",
      GRANIT_FLEET_DEFAULT_FIRMWARE: "1.0.0",
    });
    const thingName = ThingName.from(TENANT_A, "ENV-2").value;
    await fh.iot.send(new CreateThingCommand({ thingName }));
    const certificate = await fh.iot.send(new CreateKeysAndCertificateCommand({ setAsActive: true }));
    await fh.iot.send(new AttachThingPrincipalCommand({ thingName, principal: certificate.certificateArn }));

    const result = await registrationForwarder({ operation: "CREATED", thingName, attributes: {} });

    assert.equal(result.forwarded, true);
    const device = await fh.host.deviceStore.findBySerialNumber(TENANT_A, "ENV-2");
    assert.equal(device?.model, "GW-ENV");
    assert.equal(device?.status, "Active");
  });
});
