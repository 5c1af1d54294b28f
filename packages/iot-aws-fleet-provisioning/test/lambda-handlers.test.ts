/**
 * The Lambda handlers invoked with AWS's documented event shapes, against a real host (this
 * package's plugin mounted on `@granit/iot-host`, the provisioning saga on its bus) and the AWS IoT
 * emulator — and the whole fleet-provisioning flow end to end.
 */
import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";
import {
  AttachThingPrincipalCommand,
  CreateKeysAndCertificateCommand,
  CreateThingCommand,
} from "@aws-sdk/client-iot";
import { CreateSecretCommand } from "@aws-sdk/client-secrets-manager";
import { type Emulator, startEmulator } from "@granit/aws-iot-emulator";
import { ThingName } from "@granit/iot-aws";
import {
  createPreProvisioningHook,
  createRegistrationForwarder,
  FleetApiClient,
  type LambdaLog,
  loadSecretFromSecretsManager,
  type PreProvisioningHookEvent,
  type ThingCreatedEvent,
} from "@granit/iot-aws-fleet-provisioning/lambda";
import { databaseTargets } from "@granit/iot-postgres/testing";
import { TENANT_A, TENANT_B } from "./support/fleet-fixture.ts";
import { type FleetHost, startFleetHost } from "./support/fleet-host.ts";

const silent: LambdaLog = () => {};
let counter = 0;
const serial = (prefix = "GW") => `${prefix}-${Date.now().toString(36)}-${++counter}`;

/** AWS's documented pre-provisioning hook input (pre-provisioning-hook.html). */
function hookEvent(
  emulator: Emulator,
  parameters: Record<string, string>,
  claimCertificateId?: string,
): PreProvisioningHookEvent {
  return {
    claimCertificateId: claimCertificateId ?? "a".repeat(64),
    certificateId: "b".repeat(64),
    certificatePem: "-----BEGIN CERTIFICATE-----\nMIIB...\n-----END CERTIFICATE-----",
    templateArn: `arn:aws:iot:${emulator.region}:${emulator.accountId}:provisioningtemplate/granit-fleet`,
    clientId: "221a6d10-9c7f-42f1-9153-e52e6fc869c1",
    parameters,
  };
}

/** AWS's documented registry event of a created thing (registry-events.html). */
function thingCreatedEvent(
  emulator: Emulator,
  thingName: string,
  attributes: Record<string, string>,
): ThingCreatedEvent {
  return {
    eventType: "THING_EVENT",
    eventId: "f5ae9b94-8b8e-4d8e-8c8f-b3266dd89853",
    timestamp: Date.now(),
    operation: "CREATED",
    accountId: emulator.accountId,
    thingId: "b604f69c-aa9a-4d4a-829e-c480e958a0b5",
    thingName,
    versionNumber: 1,
    thingTypeName: null,
    attributes,
  };
}

/** What AWS does between the hook's "allow" and the registry event: RegisterThing with the template. */
async function awsRegistersThing(fh: FleetHost, thingName: string, attributes: Record<string, string>) {
  await fh.iot.send(new CreateThingCommand({ thingName, attributePayload: { attributes } }));
  const certificate = await fh.iot.send(new CreateKeysAndCertificateCommand({ setAsActive: true }));
  await fh.iot.send(new AttachThingPrincipalCommand({ thingName, principal: certificate.certificateArn }));
  return certificate.certificateArn as string;
}

/** A server that accepts connections and never answers (or answers `status` with `body`). */
async function stubServer(answer?: {
  status: number;
  body: string;
}): Promise<{ url: string; server: Server }> {
  const server = createServer((_request, response) => {
    if (answer) response.writeHead(answer.status, { "content-type": "application/json" }).end(answer.body);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/iot/fleet-provisioning`,
    server,
  };
}

let emulator: Emulator;
before(async () => {
  emulator = await startEmulator({ port: 0 });
});
after(async () => {
  await emulator?.stop();
});

for (const target of databaseTargets()) {
  describe(`Lambda handlers against a real host (${target.name})`, { skip: target.skip }, () => {
    let fh: FleetHost;
    before(async () => {
      fh = await startFleetHost(target, emulator, { config: { DeniedSerialNumbers: ["GW-STOLEN-1"] } });
    });
    after(() => fh?.dispose());

    const client = (key = fh.keys.a, url = fh.fleetUrl) =>
      new FleetApiClient({ url, keyId: key.keyId, secret: key.secret });
    const hook = (options: Partial<Parameters<typeof createPreProvisioningHook>[0]> = {}) =>
      createPreProvisioningHook({ client: client(), log: silent, ...options });

    describe("preProvisioningHook", () => {
      it("allows an eligible serial and returns the thing name and claim id as parameter overrides", async () => {
        const claim = "c1".repeat(32);
        await fh.fleet.claimCertificates.register(
          { tenantId: TENANT_A, actor: "ops" },
          { certificateId: claim, templateName: "granit-fleet", notAfter: "2030-01-01T00:00:00Z" },
        );
        const s = serial();

        const result = await hook()(hookEvent(emulator, { SerialNumber: s, Model: "GW-100" }, claim));

        assert.deepEqual(result, {
          allowProvisioning: true,
          parameterOverrides: { ClaimCertificateId: claim, ThingName: ThingName.from(TENANT_A, s).value },
        });
      });

      it("reads the serial from a configured parameter", async () => {
        const result = await hook({ serialParameter: "DeviceSerial" })(
          hookEvent(emulator, { DeviceSerial: serial() }, "c1".repeat(32)),
        );
        assert.equal(result.allowProvisioning, true);
      });

      const denials: { name: string; run: () => Promise<{ allowProvisioning: boolean }> }[] = [
        {
          name: "a denied serial (403)",
          run: () => hook()(hookEvent(emulator, { SerialNumber: "GW-STOLEN-1" }, "c1".repeat(32))),
        },
        {
          name: "an unknown claim certificate (403)",
          run: () => hook()(hookEvent(emulator, { SerialNumber: serial() }, "d".repeat(64))),
        },
        { name: "no serial parameter", run: () => hook()(hookEvent(emulator, { Model: "GW-100" })) },
        {
          name: "a malformed serial (400)",
          run: () => hook()(hookEvent(emulator, { SerialNumber: "bad serial!" }, "c1".repeat(32))),
        },
        {
          name: "a wrong secret (401)",
          run: () =>
            hook({ client: client({ ...fh.keys.a, secret: fh.keys.b.secret }) })(
              hookEvent(emulator, { SerialNumber: serial() }, "c1".repeat(32)),
            ),
        },
        {
          name: "another tenant's key for this tenant's claim certificate (403)",
          run: () =>
            hook({ client: client(fh.keys.b) })(
              hookEvent(emulator, { SerialNumber: serial() }, "c1".repeat(32)),
            ),
        },
        { name: "an empty event", run: () => hook()({} as PreProvisioningHookEvent) },
        {
          name: "a host that is down",
          run: () =>
            hook({ client: client(fh.keys.a, "http://127.0.0.1:9/api/iot/fleet-provisioning") })(
              hookEvent(emulator, { SerialNumber: serial() }),
            ),
        },
      ];
      for (const denial of denials) {
        it(`denies by default on ${denial.name}`, async () => {
          assert.deepEqual(await denial.run(), { allowProvisioning: false });
        });
      }

      for (const answer of [
        { status: 500, body: '{"type":"urn:granit:iot:problem:internal"}' },
        { status: 200, body: "not json" },
        { status: 200, body: '{"allowProvisioning":"yes"}' },
        { status: 200, body: '{"allowProvisioning":true,"parameterOverrides":{"ThingName":42}}' },
      ]) {
        it(`denies on an answer it cannot trust: ${answer.status} ${answer.body}`, async () => {
          const stub = await stubServer(answer);
          try {
            const result = await hook({ client: client(fh.keys.a, stub.url) })(
              hookEvent(emulator, { SerialNumber: serial() }),
            );
            assert.deepEqual(result, { allowProvisioning: false });
          } finally {
            stub.server.close();
          }
        });
      }

      it("denies when the host does not answer within its budget, well inside AWS's 5 s", async () => {
        const stub = await stubServer();
        const logged: Record<string, unknown>[] = [];
        try {
          const started = performance.now();
          const result = await createPreProvisioningHook({
            client: client(fh.keys.a, stub.url),
            timeoutMs: 300,
            log: (entry) => logged.push({ ...entry }),
          })(hookEvent(emulator, { SerialNumber: serial() }));
          const elapsed = performance.now() - started;

          assert.deepEqual(result, { allowProvisioning: false });
          assert.equal(logged.at(-1)?.reason, "timeout");
          assert.ok(elapsed < 4000, `gave up after ${Math.round(elapsed)} ms`);
        } finally {
          stub.server.closeAllConnections();
          stub.server.close();
        }
      });

      it("caps the budget at 3 s whatever it is configured to", async () => {
        const stub = await stubServer();
        const logged: Record<string, unknown>[] = [];
        try {
          const result = await createPreProvisioningHook({
            client: client(fh.keys.a, stub.url),
            timeoutMs: 60_000,
            log: (e) => logged.push({ ...e }),
          })(hookEvent(emulator, { SerialNumber: serial() }));
          assert.deepEqual(result, { allowProvisioning: false });
          assert.ok(Number(logged.at(-1)?.ms) < 4500, `gave up after ${logged.at(-1)?.ms} ms`);
        } finally {
          stub.server.closeAllConnections();
          stub.server.close();
        }
      });

      it("reads the fleet key secret from Secrets Manager once and signs with it", async () => {
        const created = await fh.secrets.send(
          new CreateSecretCommand({
            Name: `granit/fleet/${serial("key")}`,
            SecretString: JSON.stringify({ secret: fh.keys.a.secret }),
          }),
        );
        let loads = 0;
        const fromSecretsManager = new FleetApiClient({
          url: fh.fleetUrl,
          keyId: fh.keys.a.keyId,
          secret: (signal) => {
            loads++;
            return loadSecretFromSecretsManager(created.ARN as string, { client: fh.secrets, signal });
          },
        });
        const handler = hook({ client: fromSecretsManager });

        const first = await handler(hookEvent(emulator, { SerialNumber: serial() }, "c1".repeat(32)));
        const second = await handler(hookEvent(emulator, { SerialNumber: serial() }, "c1".repeat(32)));

        assert.equal(first.allowProvisioning, true);
        assert.equal(second.allowProvisioning, true);
        assert.equal(loads, 1, "the secret is read once per container");
      });
    });

    describe("registrationForwarder", () => {
      const forwarder = (options: Partial<Parameters<typeof createRegistrationForwarder>[0]> = {}) =>
        createRegistrationForwarder({
          client: client(),
          iot: fh.iot,
          log: silent,
          principalWaitMs: 0,
          ...options,
        });

      it("registers a fleet-provisioned thing: device and binding Active, certificate found on the thing", async () => {
        const s = serial();
        const thingName = ThingName.from(TENANT_A, s).value;
        const attributes = { model: "GW-100", firmwareVersion: "2.1.0", claimCertificateId: "c1".repeat(32) };
        const certificateArn = await awsRegistersThing(fh, thingName, attributes);

        const result = await forwarder()(thingCreatedEvent(emulator, thingName, attributes));

        assert.equal(result.forwarded, true);
        assert.equal(result.alreadyProvisioned, false);
        const device = await fh.host.deviceStore.findById(result.deviceId as string, TENANT_A);
        assert.equal(device?.status, "Active");
        assert.equal(device?.firmware, "2.1.0");
        const binding = await fh.bindings.findByDevice(result.deviceId as string, TENANT_A);
        assert.equal(binding?.provisioningStatus, "Active");
        assert.equal(binding?.provisionedViaJitp, true);
        assert.equal(binding?.certificateArn, certificateArn);
        assert.equal(
          binding?.thingArn,
          `arn:aws:iot:${emulator.region}:${emulator.accountId}:thing/${thingName}`,
        );
        assert.equal(binding?.claimCertificateExpiresAt?.toISOString(), "2030-01-01T00:00:00.000Z");

        const again = await forwarder()(thingCreatedEvent(emulator, thingName, attributes));
        assert.deepEqual(
          { ...again },
          { forwarded: true, status: 200, deviceId: result.deviceId, alreadyProvisioned: true },
        );
      });

      it("uses the configured default model and firmware when the template sets no attributes", async () => {
        const thingName = ThingName.from(TENANT_A, serial()).value;
        await awsRegistersThing(fh, thingName, {});
        const result = await forwarder({ defaultModel: "GW-200", defaultFirmwareVersion: "1.0.0" })(
          thingCreatedEvent(emulator, thingName, {}),
        );
        assert.equal(result.forwarded, true);
      });

      it("ignores updates, deletions and things that are not named like Granit's", async () => {
        const thingName = ThingName.from(TENANT_A, serial()).value;
        assert.deepEqual(
          await forwarder()({ ...thingCreatedEvent(emulator, thingName, {}), operation: "UPDATED" }),
          {
            forwarded: false,
            reason: "not_a_thing_creation",
          },
        );
        assert.deepEqual(await forwarder()(thingCreatedEvent(emulator, "sensor-1", {})), {
          forwarded: false,
          reason: "not_a_granit_thing_name",
        });
      });

      it("throws (Lambda retries) while no certificate is attached to the thing yet", async () => {
        const thingName = ThingName.from(TENANT_A, serial()).value;
        await fh.iot.send(new CreateThingCommand({ thingName }));
        const waits: number[] = [];
        await assert.rejects(
          forwarder({ principalWaitMs: 1, sleep: async (ms) => void waits.push(ms) })(
            thingCreatedEvent(emulator, thingName, { model: "GW-100", firmwareVersion: "1.0.0" }),
          ),
          /No certificate is attached/,
        );
        assert.equal(await fh.host.deviceStore.findBySerialNumber(TENANT_A, thingName.slice(34)), null);
      });

      it("returns a refusal that no retry can fix (another tenant's thing → 422) without throwing", async () => {
        const thingName = ThingName.from(TENANT_B, serial()).value;
        await awsRegistersThing(fh, thingName, { model: "GW-100", firmwareVersion: "1.0.0" });
        const result = await forwarder()(
          thingCreatedEvent(emulator, thingName, { model: "GW-100", firmwareVersion: "1.0.0" }),
        );
        assert.deepEqual(
          { forwarded: result.forwarded, status: result.status },
          { forwarded: false, status: 422 },
        );
      });

      it("throws when the host fails (5xx), so Lambda retries", async () => {
        const stub = await stubServer({ status: 503, body: "{}" });
        try {
          const thingName = ThingName.from(TENANT_A, serial()).value;
          await awsRegistersThing(fh, thingName, {});
          await assert.rejects(
            forwarder({
              client: client(fh.keys.a, stub.url),
              defaultModel: "m",
              defaultFirmwareVersion: "1",
            })(thingCreatedEvent(emulator, thingName, {})),
            /answered 503/,
          );
        } finally {
          stub.server.close();
        }
      });
    });

    describe("fleet provisioning end to end", () => {
      it("hook allows → AWS registers the thing → forwarder → device and binding Active → the saga does nothing", async () => {
        // 1. The device asks to provision with its claim certificate: AWS calls the hook.
        const s = serial("E2E");
        const claim = "e2".repeat(32);
        await fh.fleet.claimCertificates.register(
          { tenantId: TENANT_A, actor: "ops" },
          { certificateId: claim, templateName: "granit-fleet", notAfter: "2029-06-01T00:00:00Z" },
        );
        const verdict = await hook()(hookEvent(emulator, { SerialNumber: s }, claim));
        assert.equal(verdict.allowProvisioning, true);
        const thingName = verdict.parameterOverrides?.ThingName as string;
        assert.equal(thingName, ThingName.from(TENANT_A, s).value);

        // 2. AWS runs the template with the overrides, then publishes the registry event.
        const attributes = {
          model: "GW-100",
          firmwareVersion: "3.0.0",
          claimCertificateId: verdict.parameterOverrides?.ClaimCertificateId as string,
        };
        await awsRegistersThing(fh, thingName, attributes);
        const forwarded = await createRegistrationForwarder({ client: client(), iot: fh.iot, log: silent })(
          thingCreatedEvent(emulator, thingName, attributes),
        );
        const callsAfterForwarder = emulator.calls().length;

        // 3. The device and its binding are recorded, Active.
        assert.equal(forwarded.forwarded, true);
        const deviceId = forwarded.deviceId as string;
        assert.equal((await fh.host.deviceStore.findById(deviceId, TENANT_A))?.status, "Active");
        const binding = await fh.bindings.findByDevice(deviceId, TENANT_A);
        assert.deepEqual(
          {
            status: binding?.provisioningStatus,
            jitp: binding?.provisionedViaJitp,
            claim: binding?.claimCertificateId,
          },
          { status: "Active", jitp: true, claim },
        );

        // 4. DeviceProvisionedEvent reaches the bus, the saga handles it — and calls no AWS API.
        await fh.host.bus.drain();
        const events = fh.delivered
          .filter((e) => (e as { deviceId?: string }).deviceId === deviceId)
          .map((e) => e.type);
        assert.deepEqual(events.sort(), [
          "AwsThingProvisionedEvent",
          "DeviceActivatedEvent",
          "DeviceProvisionedEvent",
        ]);
        assert.deepEqual(
          emulator.calls().slice(callsAfterForwarder),
          [],
          "the saga made no IoT / Secrets Manager call for the fleet-provisioned device",
        );
        assert.equal(
          (await fh.bindings.findByDevice(deviceId, TENANT_A))?.version,
          binding?.version,
          "the saga left the binding alone",
        );
        assert.deepEqual(await fh.host.bus.deadLetters(), []);
      });

      it("the deny path: the hook refuses a serial of another tenant and nothing is recorded", async () => {
        const s = serial("E2E");
        await fh.host.devices.create(
          { tenantId: TENANT_B, actor: "bob" },
          {
            serialNumber: s,
            model: "GW-100",
            firmware: "1.0.0",
          },
        );
        const verdict = await hook()(hookEvent(emulator, { SerialNumber: s }));
        assert.deepEqual(verdict, { allowProvisioning: false });
        assert.equal(await fh.host.deviceStore.findBySerialNumber(TENANT_A, s), null);
      });

      it("control: a device created through the API is provisioned by the same saga (the wiring is live)", async () => {
        const before = emulator.calls().length;
        const device = await fh.host.devices.create(
          { tenantId: TENANT_A, actor: "alice" },
          {
            serialNumber: serial("API"),
            model: "GW-100",
            firmware: "1.0.0",
          },
        );
        await fh.host.bus.drain();
        const binding = await fh.bindings.findByDevice(device.id, TENANT_A);
        assert.equal(binding?.provisioningStatus, "Active");
        assert.equal(binding?.provisionedViaJitp, false);
        assert.ok(
          emulator
            .calls()
            .slice(before)
            .some((c) => c.operation === "CreateThing"),
        );
      });
    });
  });
}
