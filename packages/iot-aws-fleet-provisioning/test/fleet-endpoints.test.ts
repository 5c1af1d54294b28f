import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { ALL_TENANTS, Device, uuidv7 } from "@granit/iot";
import { AwsThingBinding, ThingName } from "@granit/iot-aws";
import { FleetProvisioningService, fleetAuthorizationHeader } from "@granit/iot-aws-fleet-provisioning";
import { databaseTargets } from "@granit/iot-postgres/testing";
import type { LightMyRequestResponse } from "fastify";
import {
  type FleetFixture,
  openFleetFixture,
  registeredBody,
  TENANT_A,
  TENANT_B,
} from "./support/fleet-fixture.ts";

const PROBLEM = "application/problem+json; charset=utf-8";
// biome-ignore lint/suspicious/noExplicitAny: assertions read arbitrary JSON bodies.
const json = (response: LightMyRequestResponse) => response.json() as Record<string, any>;
let serialCounter = 0;
const serial = (prefix = "SN") => `${prefix}-${String(++serialCounter).padStart(5, "0")}`;
const certId = (n: number) => n.toString(16).padStart(64, "a");

for (const target of databaseTargets()) {
  describe(`fleet endpoints (${target.name})`, { skip: target.skip }, () => {
    let fx: FleetFixture;
    before(async () => {
      fx = await openFleetFixture(target, {
        config: { DeniedSerialNumbers: ["SN-DENIED", "sn-lower-denied"] },
        serialPolicy: {
          evaluate: (s) =>
            s.startsWith("BAD") ? { allow: false, reason: "not in the manufacturing list" } : { allow: true },
        },
      });
    });
    after(() => fx?.dispose());

    /** Runs `act` and asserts that no row of any iot_* / iotaws_* table changed. */
    const nothingWritten = async (act: () => Promise<unknown>) => {
      await fx.bus.drain();
      const before = await fx.rowCounts();
      await act();
      await fx.bus.drain();
      assert.deepEqual(await fx.rowCounts(), before, "an error must write nothing");
    };
    const change = () => ({ at: fx.clock.now(), by: "test" });
    const addDevice = async (tenantId: string | null, serialNumber: string) => {
      const device = Device.provision(
        { tenantId, serialNumber, model: "GW-100", firmware: "1.0.0" },
        change(),
      );
      await fx.devices.add(device);
      return device;
    };
    const registerClaim = (tenantId: string, id: string, notAfter = "2027-01-01T00:00:00Z") =>
      fx.fleet.claimCertificates.register(
        { tenantId, actor: "ops" },
        { certificateId: id, templateName: "granit-fleet", notAfter },
      );

    describe("POST /verify", () => {
      it("allows an eligible serial and overrides ThingName with the tenant's thing name", async () => {
        const s = serial();
        const response = await fx.post("/verify", { body: { serialNumber: s } });

        assert.equal(response.statusCode, 200);
        assert.deepEqual(json(response), {
          allowProvisioning: true,
          parameterOverrides: { ThingName: ThingName.from(TENANT_A, s).value },
        });
        assert.ok(
          (await fx.metrics.sum("granit.iot.aws.fleet_provisioning.verify.allowed", {
            tenant_id: TENANT_A,
          })) >= 1,
        );
      });

      it("allows with a registered Active claim certificate and its template, passing the claim id on", async () => {
        const id = certId(1);
        await registerClaim(TENANT_A, id);
        const response = await fx.post("/verify", {
          body: {
            serialNumber: serial(),
            claimCertificateId: id,
            templateName: "granit-fleet",
            parameters: { SerialNumber: "x" },
          },
        });
        assert.equal(response.statusCode, 200);
        assert.equal(json(response).parameterOverrides.ClaimCertificateId, id);
      });

      it("accepts a body naming the key's own tenant", async () => {
        const response = await fx.post("/verify", { body: { serialNumber: serial(), tenantId: TENANT_A } });
        assert.equal(response.statusCode, 200);
      });

      const denials: {
        name: string;
        reason: string;
        prepare: () => Promise<Record<string, unknown>>;
      }[] = [
        {
          name: "a serial on the configured deny list",
          reason: "serial_denied",
          prepare: async () => ({ serialNumber: "SN-DENIED" }),
        },
        {
          name: "a denied serial in another case",
          reason: "serial_denied",
          prepare: async () => ({ serialNumber: "SN-LOWER-DENIED" }),
        },
        {
          name: "a decommissioned device",
          reason: "device_decommissioned",
          prepare: async () => {
            const device = await addDevice(TENANT_A, serial());
            device.decommission(change());
            await fx.devices.update(device);
            return { serialNumber: device.serialNumber };
          },
        },
        {
          name: "a serial owned by another tenant",
          reason: "other_tenant",
          prepare: async () => ({ serialNumber: (await addDevice(TENANT_B, serial())).serialNumber }),
        },
        {
          name: "an unknown claim certificate",
          reason: "unknown_claim_certificate",
          prepare: async () => ({ serialNumber: serial(), claimCertificateId: certId(2) }),
        },
        {
          name: "another tenant's claim certificate",
          reason: "unknown_claim_certificate",
          prepare: async () => {
            await registerClaim(TENANT_B, certId(3));
            return { serialNumber: serial(), claimCertificateId: certId(3) };
          },
        },
        {
          name: "a claim certificate of another template",
          reason: "unknown_claim_certificate",
          prepare: async () => {
            await registerClaim(TENANT_A, certId(4));
            return { serialNumber: serial(), claimCertificateId: certId(4), templateName: "other-template" };
          },
        },
        {
          name: "a deactivated claim certificate",
          reason: "inactive_claim_certificate",
          prepare: async () => {
            await registerClaim(TENANT_A, certId(5));
            await fx.fleet.claimCertificates.deactivate({ tenantId: TENANT_A, actor: "ops" }, certId(5));
            return { serialNumber: serial(), claimCertificateId: certId(5) };
          },
        },
        {
          name: "an expired claim certificate",
          reason: "inactive_claim_certificate",
          prepare: async () => {
            await registerClaim(TENANT_A, certId(6), "2026-02-01T00:00:00Z");
            return { serialNumber: serial(), claimCertificateId: certId(6) };
          },
        },
        {
          name: "a serial the SerialPolicy refuses",
          reason: "policy_denied",
          prepare: async () => ({ serialNumber: serial("BAD") }),
        },
      ];
      for (const denial of denials) {
        it(`denies ${denial.name} with 403 ${denial.reason}, writing nothing`, async () => {
          const body = await denial.prepare();
          const deniedBefore = await fx.metrics.sum("granit.iot.aws.fleet_provisioning.verify.denied", {
            reason: denial.reason,
          });
          let response: LightMyRequestResponse | undefined;

          await nothingWritten(async () => {
            response = await fx.post("/verify", { body });
          });

          assert.equal(response?.statusCode, 403);
          assert.equal(response?.headers["content-type"], PROBLEM);
          const problem = json(response as LightMyRequestResponse);
          assert.equal(problem.allowProvisioning, false);
          assert.equal(problem.reason, denial.reason);
          assert.equal(problem.type, "urn:granit:iot:problem:provisioning-denied");
          assert.ok(problem.detail.length > 0);
          assert.equal(
            await fx.metrics.sum("granit.iot.aws.fleet_provisioning.verify.denied", {
              reason: denial.reason,
            }),
            deniedBefore + 1,
          );
        });
      }

      it("refuses a claim certificate deactivated here at once, and on another host within CredentialCacheSeconds", async () => {
        const id = certId(20);
        await registerClaim(TENANT_A, id);
        const otherHost = new FleetProvisioningService({
          unitOfWork: fx.tdb.database,
          devices: fx.devices,
          bindings: fx.bindings,
          claimCertificates: fx.stores.claimCertificates,
          nonces: fx.stores.nonces,
          clock: fx.clock,
          claimCertificateCacheMs: 10_000,
        });
        const caller = { tenantId: TENANT_A, keyId: fx.keys.a.keyId, actor: "test" };
        const verifyHere = async () =>
          (await fx.post("/verify", { body: { serialNumber: serial(), claimCertificateId: id } })).statusCode;
        const verifyThere = async () =>
          (await otherHost.verify(caller, { serialNumber: serial(), claimCertificateId: id }))
            .allowProvisioning;
        assert.deepEqual([await verifyHere(), await verifyThere()], [200, true]);

        await fx.fleet.claimCertificates.deactivate({ tenantId: TENANT_A, actor: "ops" }, id);

        assert.deepEqual(
          [await verifyHere(), await verifyThere()],
          [403, true],
          "the other host still has it cached",
        );
        fx.clock.advance(10_000);
        assert.equal(await verifyThere(), false);
      });

      it("uses the SerialPolicy's reason text", async () => {
        const response = await fx.post("/verify", { body: { serialNumber: serial("BAD") } });
        assert.equal(json(response).detail, "not in the manufacturing list");
      });

      it("refuses a body naming another tenant with 403 tenant_mismatch (the tenant comes from the key)", async () => {
        let response: LightMyRequestResponse | undefined;
        await nothingWritten(async () => {
          response = await fx.post("/verify", { body: { serialNumber: serial(), tenantId: TENANT_B } });
        });
        assert.equal(response?.statusCode, 403);
        assert.deepEqual(
          { ...json(response as LightMyRequestResponse), detail: undefined },
          {
            type: "urn:granit:iot:problem:forbidden",
            title: "The fleet key may not do this.",
            status: 403,
            detail: undefined,
            instance: "/api/iot/fleet-provisioning/verify",
            reason: "tenant_mismatch",
            allowProvisioning: false,
          },
        );
        const host = await fx.post("/verify", {
          key: fx.keys.host,
          body: { serialNumber: serial(), tenantId: TENANT_A },
        });
        assert.equal(host.statusCode, 403, "a host key cannot act for a tenant either");
      });

      const malformed: { name: string; body: unknown; errors: string[] }[] = [
        { name: "a missing serial number", body: {}, errors: ["serialNumber:required"] },
        { name: "a serial of the wrong type", body: { serialNumber: 42 }, errors: ["serialNumber:type"] },
        {
          name: "a serial with forbidden characters",
          body: { serialNumber: "has space" },
          errors: ["serialNumber:pattern"],
        },
        {
          name: "a serial too long",
          body: { serialNumber: "S".repeat(95) },
          errors: ["serialNumber:maxLength"],
        },
        { name: "an unknown field", body: { serialNumber: "SN-X", tenant: "x" }, errors: ["tenant:unknown"] },
        {
          name: "a malformed claim certificate id and template",
          body: { serialNumber: "SN-X", claimCertificateId: "abc", templateName: "bad name" },
          errors: ["claimCertificateId:format", "templateName:format"],
        },
        {
          name: "a malformed tenant id",
          body: { serialNumber: "SN-X", tenantId: "acme" },
          errors: ["tenantId:format"],
        },
        {
          name: "non-string parameters",
          body: { serialNumber: "SN-X", parameters: { a: 1 } },
          errors: ["parameters.a:type"],
        },
        { name: "an array body", body: [1, 2], errors: ["body:type"] },
        { name: "a JSON string body", body: JSON.stringify("serial"), errors: ["body:type"] },
      ];
      for (const bad of malformed) {
        it(`answers 400 with field errors for ${bad.name}, writing nothing`, async () => {
          let response: LightMyRequestResponse | undefined;
          await nothingWritten(async () => {
            response = await fx.post("/verify", { body: bad.body });
          });
          assert.equal(response?.statusCode, 400);
          const problem = json(response as LightMyRequestResponse);
          assert.equal(problem.type, "urn:granit:iot:problem:validation");
          assert.deepEqual(
            problem.errors.map((e: { field: string; rule: string }) => `${e.field}:${e.rule}`),
            bad.errors,
          );
        });
      }

      it("answers 400 for a body that is not JSON, writing nothing", async () => {
        let response: LightMyRequestResponse | undefined;
        await nothingWritten(async () => {
          response = await fx.post("/verify", { body: '{"serialNumber": "SN-1"' });
        });
        assert.equal(response?.statusCode, 400);
        assert.deepEqual(json(response as LightMyRequestResponse).errors, [
          { field: "body", rule: "json", message: "is not valid JSON" },
        ]);
      });

      it("answers 400 for an empty body", async () => {
        const response = await fx.post("/verify", { body: "" });
        assert.equal(response.statusCode, 400);
      });

      it("answers 413 for a body over the limit, writing nothing", async () => {
        let response: LightMyRequestResponse | undefined;
        await nothingWritten(async () => {
          response = await fx.post("/verify", {
            body: { serialNumber: "SN-1", parameters: { big: "x".repeat(2000) }, pad: "y".repeat(20_000) },
          });
        });
        assert.equal(response?.statusCode, 413);
        assert.equal(
          json(response as LightMyRequestResponse).type,
          "urn:granit:iot:problem:payload-too-large",
        );
      });

      for (const contentType of ["text/plain", "application/x-www-form-urlencoded", "application/xml"]) {
        it(`answers 415 for ${contentType}, writing nothing`, async () => {
          let response: LightMyRequestResponse | undefined;
          await nothingWritten(async () => {
            response = await fx.post("/verify", { body: '{"serialNumber":"SN-1"}', contentType });
          });
          assert.equal(response?.statusCode, 415);
          assert.equal(
            json(response as LightMyRequestResponse).type,
            "urn:granit:iot:problem:unsupported-media-type",
          );
        });
      }
    });

    describe("authentication", () => {
      const unauthorized = async (response: LightMyRequestResponse) => {
        assert.equal(response.statusCode, 401);
        assert.equal(response.headers["www-authenticate"], 'GRANIT-HMAC-SHA256 realm="granit-iot-fleet"');
        const problem = json(response);
        assert.equal(problem.type, "urn:granit:iot:problem:unauthorized");
        return problem;
      };
      const cases: { name: string; reason: string; options: () => Parameters<FleetFixture["post"]>[1] }[] = [
        {
          name: "no Authorization header",
          reason: "missing_credential",
          options: () => ({ authorization: null }),
        },
        {
          name: "a Bearer token",
          reason: "malformed_credential",
          options: () => ({ authorization: "Bearer abcdefghijklmnop" }),
        },
        {
          name: "a header missing the signature",
          reason: "malformed_credential",
          options: () => ({
            authorization: `GRANIT-HMAC-SHA256 KeyId=${fx.keys.a.keyId}, Timestamp=${fx.clock.now().toISOString()}`,
          }),
        },
        {
          name: "an unknown key",
          reason: "unknown_key",
          options: () => ({ key: { ...fx.keys.a, keyId: "fk_000000000000000000000000" } }),
        },
        {
          name: "a wrong secret",
          reason: "bad_signature",
          options: () => ({ key: { ...fx.keys.a, secret: fx.keys.b.secret } }),
        },
        {
          name: "a timestamp six minutes old",
          reason: "stale_timestamp",
          options: () => ({ timestamp: new Date(fx.clock.now().getTime() - 360_000).toISOString() }),
        },
        {
          name: "a timestamp six minutes ahead",
          reason: "stale_timestamp",
          options: () => ({ timestamp: String(Math.floor(fx.clock.now().getTime() / 1000) + 360) }),
        },
      ];
      for (const c of cases) {
        it(`answers 401 for ${c.name}, counts ${c.reason} and writes nothing`, async () => {
          const before = await fx.metrics.sum("granit.iot.aws.fleet_provisioning.auth_failures", {
            reason: c.reason,
          });
          for (const path of ["/verify", "/registered"] as const) {
            let response: LightMyRequestResponse | undefined;
            await nothingWritten(async () => {
              response = await fx.post(path, {
                body: path === "/verify" ? { serialNumber: serial() } : registeredBody(TENANT_A, serial()),
                ...c.options(),
              });
            });
            await unauthorized(response as LightMyRequestResponse);
          }
          assert.equal(
            await fx.metrics.sum("granit.iot.aws.fleet_provisioning.auth_failures", { reason: c.reason }),
            before + 2,
          );
        });
      }

      it("answers 401 when the body was changed after signing", async () => {
        const body = JSON.stringify({ serialNumber: serial() });
        const authorization = fleetAuthorizationHeader({
          keyId: fx.keys.a.keyId,
          secret: fx.keys.a.secret,
          method: "POST",
          path: "/api/iot/fleet-provisioning/verify",
          body,
          timestamp: fx.clock.now().toISOString(),
        });
        const response = await fx.post("/verify", { authorization, body: body.replace("SN", "XX") });
        await unauthorized(response);
      });

      it("answers 401 when a /verify signature is sent to /registered", async () => {
        const body = JSON.stringify(registeredBody(TENANT_A, serial()));
        const authorization = fleetAuthorizationHeader({
          keyId: fx.keys.a.keyId,
          secret: fx.keys.a.secret,
          method: "POST",
          path: "/api/iot/fleet-provisioning/verify",
          body,
          timestamp: fx.clock.now().toISOString(),
        });
        await nothingWritten(async () => {
          await unauthorized(await fx.post("/registered", { authorization, body }));
        });
      });

      it("refuses a replayed /verify signature with 401, and the replay writes nothing", async () => {
        const body = JSON.stringify({ serialNumber: serial() });
        const authorization = fleetAuthorizationHeader({
          keyId: fx.keys.a.keyId,
          secret: fx.keys.a.secret,
          method: "POST",
          path: "/api/iot/fleet-provisioning/verify",
          body,
          timestamp: fx.clock.now().toISOString(),
        });
        const first = await fx.post("/verify", { authorization, body });
        const replays = await fx.metrics.sum("granit.iot.aws.fleet_provisioning.auth_failures", {
          reason: "replayed",
        });
        assert.equal(first.statusCode, 200);

        await nothingWritten(async () => {
          await unauthorized(await fx.post("/verify", { authorization, body }));
        });
        assert.equal(
          await fx.metrics.sum("granit.iot.aws.fleet_provisioning.auth_failures", { reason: "replayed" }),
          replays + 1,
        );
      });

      it("lets a denied verdict be asked again with the same signature (a denial records no nonce)", async () => {
        const body = JSON.stringify({ serialNumber: "SN-DENIED" });
        const authorization = fleetAuthorizationHeader({
          keyId: fx.keys.a.keyId,
          secret: fx.keys.a.secret,
          method: "POST",
          path: "/api/iot/fleet-provisioning/verify",
          body,
          timestamp: fx.clock.now().toISOString(),
        });
        assert.equal((await fx.post("/verify", { authorization, body })).statusCode, 403);
        assert.equal((await fx.post("/verify", { authorization, body })).statusCode, 403);
      });

      it("refuses a revoked key at once on the host that revoked it", async () => {
        const key = await fx.fleet.fleetKeys.create({ tenantId: TENANT_A, actor: "alice" });
        assert.equal((await fx.post("/verify", { key, body: { serialNumber: serial() } })).statusCode, 200);
        await fx.fleet.fleetKeys.revoke({ tenantId: TENANT_A, actor: "alice" }, key.keyId);

        let response: LightMyRequestResponse | undefined;
        await nothingWritten(async () => {
          response = await fx.post("/verify", { key, body: { serialNumber: serial() } });
        });
        await unauthorized(response as LightMyRequestResponse);
        assert.ok(
          (await fx.metrics.sum("granit.iot.aws.fleet_provisioning.auth_failures", {
            reason: "revoked_key",
          })) >= 1,
        );
      });

      it("checks the signature before reading a non-JSON body (401 before 415 for strangers)", async () => {
        const response = await fx.post("/verify", {
          authorization: null,
          body: "hello",
          contentType: "text/plain",
        });
        await unauthorized(response);
      });
    });

    describe("POST /registered", () => {
      it("records the device Active and its JITP binding Active in one go, with the claim expiry", async () => {
        const s = serial();
        const claim = certId(10);
        await registerClaim(TENANT_A, claim, "2026-09-01T00:00:00Z");
        const body = registeredBody(TENANT_A, s, { claimCertificateId: claim, label: "Roof" });

        const response = await fx.post("/registered", { body });

        assert.equal(response.statusCode, 200);
        const result = json(response);
        assert.equal(result.alreadyProvisioned, false);
        assert.equal(result.thingName, body.thingName);
        const device = await fx.devices.findById(result.deviceId, TENANT_A);
        assert.equal(device?.status, "Active");
        assert.equal(device?.serialNumber, s);
        assert.equal(device?.label, "Roof");
        assert.equal(device?.audit.createdBy, `fleet-key:${fx.keys.a.keyId}`);
        const binding = await fx.bindings.findByDevice(result.deviceId, TENANT_A);
        assert.equal(binding?.id, result.bindingId);
        assert.equal(binding?.provisioningStatus, "Active");
        assert.equal(binding?.provisionedViaJitp, true);
        assert.equal(binding?.certificateArn, body.certificateArn);
        assert.equal(binding?.certificateSecretArn, null, "the device's key never left the device");
        assert.equal(binding?.claimCertificateId, claim);
        assert.equal(binding?.claimCertificateExpiresAt?.toISOString(), "2026-09-01T00:00:00.000Z");

        await fx.bus.drain();
        const types = fx.delivered
          .filter((e) => (e as { deviceId?: string }).deviceId === result.deviceId)
          .map((e) => e.type);
        assert.deepEqual(types.sort(), [
          "AwsThingProvisionedEvent",
          "DeviceActivatedEvent",
          "DeviceProvisionedEvent",
        ]);
        assert.ok(
          (await fx.metrics.sum("granit.iot.aws.fleet_provisioning.registered", { tenant_id: TENANT_A })) >=
            1,
        );
      });

      it("answers the same registration again with 200 alreadyProvisioned and writes nothing new", async () => {
        const body = registeredBody(TENANT_A, serial());
        const first = json(await fx.post("/registered", { body }));
        fx.clock.advance(1000);
        await fx.bus.drain();
        const before = await fx.rowCounts();

        const again = await fx.post("/registered", { body });

        assert.equal(again.statusCode, 200);
        assert.deepEqual(json(again), { ...first, alreadyProvisioned: true });
        await fx.bus.drain();
        const afterCounts = await fx.rowCounts();
        assert.deepEqual(
          { ...afterCounts, iotaws_fleet_request_nonces: 0 },
          { ...before, iotaws_fleet_request_nonces: 0 },
          "only the new request's nonce is stored",
        );
        assert.ok((await fx.metrics.sum("granit.iot.aws.fleet_provisioning.already_provisioned")) >= 1);
      });

      it("gives an existing device without a binding its binding (and activates it)", async () => {
        const device = await addDevice(TENANT_A, serial());
        const response = await fx.post("/registered", {
          body: registeredBody(TENANT_A, device.serialNumber),
        });

        assert.equal(response.statusCode, 200);
        assert.equal(json(response).deviceId, device.id);
        assert.equal(json(response).alreadyProvisioned, false);
        assert.equal((await fx.devices.findById(device.id, TENANT_A))?.status, "Active");
        assert.equal((await fx.bindings.findByDevice(device.id, TENANT_A))?.provisionedViaJitp, true);
      });

      it("stores a certificate secret ARN when one is given", async () => {
        const body = registeredBody(TENANT_A, serial(), {
          certificateSecretArn:
            "arn:aws:secretsmanager:eu-west-1:123456789012:secret:iot/devices/x/key-AbC123",
        });
        const result = json(await fx.post("/registered", { body }));
        const binding = await fx.bindings.findByDevice(result.deviceId, TENANT_A);
        assert.equal(binding?.certificateSecretArn, body.certificateSecretArn);
      });

      it("records one device and one binding when the same registration arrives twice at once", async () => {
        const body = registeredBody(TENANT_A, serial());
        const responses = await Promise.all([
          fx.post("/registered", { body }),
          fx.post("/registered", { body, timestamp: new Date(fx.clock.now().getTime() + 1).toISOString() }),
        ]);
        assert.deepEqual(
          responses.map((r) => r.statusCode),
          [200, 200],
        );
        assert.deepEqual(responses.map((r) => json(r).alreadyProvisioned).sort(), [false, true]);
        const devices = await fx.devices.findAllBySerialNumber(body.serialNumber as string);
        assert.equal(devices.length, 1);
        assert.equal(
          json(responses[0] as LightMyRequestResponse).deviceId,
          json(responses[1] as LightMyRequestResponse).deviceId,
        );
      });

      const unprocessable: {
        name: string;
        body: () => Record<string, unknown>;
        field: string;
        rule: string;
      }[] = [
        {
          name: "a thing name of another tenant",
          body: () => {
            const s = serial();
            return { ...registeredBody(TENANT_B, s), serialNumber: s };
          },
          field: "thingName",
          rule: "tenant",
        },
        {
          name: "a thing name of another serial",
          body: () => ({ ...registeredBody(TENANT_A, serial()), serialNumber: serial() }),
          field: "thingName",
          rule: "serialNumber",
        },
        {
          name: "a thing ARN of another thing",
          body: () => {
            const other = registeredBody(TENANT_A, serial());
            return { ...registeredBody(TENANT_A, serial()), thingArn: other.thingArn };
          },
          field: "thingArn",
          rule: "thingArn",
        },
      ];
      for (const bad of unprocessable) {
        it(`answers 422 for ${bad.name}, writing nothing`, async () => {
          let response: LightMyRequestResponse | undefined;
          await nothingWritten(async () => {
            response = await fx.post("/registered", { body: bad.body() });
          });
          assert.equal(response?.statusCode, 422);
          const problem = json(response as LightMyRequestResponse);
          assert.equal(problem.type, "urn:granit:iot:problem:thing-name-mismatch");
          assert.equal(problem.errors[0].field, bad.field);
          assert.equal(problem.errors[0].rule, bad.rule);
        });
      }

      const malformed: { name: string; body: () => Record<string, unknown>; errors: string[] }[] = [
        {
          name: "missing fields",
          body: () => ({ serialNumber: serial() }),
          errors: [
            "thingName:required",
            "thingArn:required",
            "certificateArn:required",
            "model:required",
            "firmwareVersion:required",
          ],
        },
        {
          name: "a malformed thing name",
          body: () => registeredBody(TENANT_A, serial(), { thingName: "sensor-1" }),
          errors: ["thingName:prefix"],
        },
        {
          name: "malformed ARNs",
          body: () =>
            registeredBody(TENANT_A, serial(), {
              certificateArn: "arn:aws:iot:eu-west-1:123456789012:cert/xyz",
              certificateSecretArn: "arn:aws:s3:::bucket",
            }),
          errors: ["certificateArn:resource", "certificateSecretArn:service"],
        },
        {
          name: "a bad firmware version and an unknown field",
          body: () => registeredBody(TENANT_A, serial(), { firmwareVersion: "v1 beta", color: "red" }),
          errors: ["color:unknown"],
        },
        {
          name: "a bad firmware version",
          body: () => registeredBody(TENANT_A, serial(), { firmwareVersion: "v1 beta" }),
          errors: ["firmwareVersion:semver"],
        },
      ];
      for (const bad of malformed) {
        it(`answers 400 for ${bad.name}, writing nothing`, async () => {
          let response: LightMyRequestResponse | undefined;
          await nothingWritten(async () => {
            response = await fx.post("/registered", { body: bad.body() });
          });
          assert.equal(response?.statusCode, 400, response?.body);
          assert.deepEqual(
            json(response as LightMyRequestResponse).errors.map(
              (e: { field: string; rule: string }) => `${e.field}:${e.rule}`,
            ),
            bad.errors,
          );
        });
      }

      it("refuses a body naming another tenant with 403, writing nothing", async () => {
        let response: LightMyRequestResponse | undefined;
        await nothingWritten(async () => {
          response = await fx.post("/registered", {
            body: registeredBody(TENANT_A, serial(), { tenantId: TENANT_B }),
          });
        });
        assert.equal(response?.statusCode, 403);
        assert.equal(json(response as LightMyRequestResponse).reason, "tenant_mismatch");
      });

      it("refuses a denied serial with 403 serial_denied, writing nothing", async () => {
        let response: LightMyRequestResponse | undefined;
        await nothingWritten(async () => {
          response = await fx.post("/registered", { body: registeredBody(TENANT_A, "SN-DENIED") });
        });
        assert.equal(response?.statusCode, 403);
        assert.equal(json(response as LightMyRequestResponse).reason, "serial_denied");
      });

      const conflicts: { name: string; reason: string; body: () => Promise<Record<string, unknown>> }[] = [
        {
          name: "a serial owned by another tenant",
          reason: "other_tenant",
          body: async () => registeredBody(TENANT_A, (await addDevice(TENANT_B, serial())).serialNumber),
        },
        {
          name: "a decommissioned device",
          reason: "device_decommissioned",
          body: async () => {
            const device = await addDevice(TENANT_A, serial());
            device.decommission(change());
            await fx.devices.update(device);
            return registeredBody(TENANT_A, device.serialNumber);
          },
        },
        {
          name: "a device the provisioning saga is provisioning",
          reason: "binding_exists",
          body: async () => {
            const device = await addDevice(TENANT_A, serial());
            await fx.bindings.add(
              AwsThingBinding.create(
                {
                  deviceId: device.id,
                  tenantId: TENANT_A,
                  thingName: ThingName.from(TENANT_A, device.serialNumber),
                },
                change(),
              ),
            );
            return registeredBody(TENANT_A, device.serialNumber);
          },
        },
        {
          name: "a thing name bound to another device",
          reason: "thing_name_taken",
          body: async () => {
            const s = serial();
            await fx.bindings.add(
              AwsThingBinding.create(
                { deviceId: uuidv7(), tenantId: TENANT_A, thingName: ThingName.from(TENANT_A, s) },
                change(),
              ),
            );
            return registeredBody(TENANT_A, s);
          },
        },
      ];
      for (const conflict of conflicts) {
        it(`answers 409 ${conflict.reason} for ${conflict.name}, writing nothing`, async () => {
          const body = await conflict.body();
          let response: LightMyRequestResponse | undefined;
          await nothingWritten(async () => {
            response = await fx.post("/registered", { body });
          });
          assert.equal(response?.statusCode, 409, response?.body);
          const problem = json(response as LightMyRequestResponse);
          assert.equal(problem.type, "urn:granit:iot:problem:registration-conflict");
          assert.equal(problem.reason, conflict.reason);
        });
      }

      it("refuses a replayed /registered signature with 401, writing nothing", async () => {
        const body = JSON.stringify(registeredBody(TENANT_A, serial()));
        const authorization = fleetAuthorizationHeader({
          keyId: fx.keys.a.keyId,
          secret: fx.keys.a.secret,
          method: "POST",
          path: "/api/iot/fleet-provisioning/registered",
          body,
          timestamp: fx.clock.now().toISOString(),
        });
        assert.equal((await fx.post("/registered", { authorization, body })).statusCode, 200);
        let response: LightMyRequestResponse | undefined;
        await nothingWritten(async () => {
          response = await fx.post("/registered", { authorization, body });
        });
        assert.equal(response?.statusCode, 401);
      });

      it("registers host devices with the host's key (tenant null, all-zero thing name)", async () => {
        const response = await fx.post("/registered", {
          key: fx.keys.host,
          body: registeredBody(null, serial()),
        });
        assert.equal(response.statusCode, 200, response.body);
        const binding = await fx.bindings.findByDevice(json(response).deviceId, ALL_TENANTS);
        assert.equal(binding?.tenantId, null);
      });

      it("answers 413 and 415 on /registered as well, writing nothing", async () => {
        await nothingWritten(async () => {
          const big = await fx.post("/registered", {
            body: registeredBody(TENANT_A, serial(), { label: "x".repeat(20_000) }),
          });
          assert.equal(big.statusCode, 413);
          const text = await fx.post("/registered", { body: "serialNumber=1", contentType: "text/plain" });
          assert.equal(text.statusCode, 415);
        });
      });
    });
  });
}
