import "../src/telemetry/meter-provider.ts";

import assert from "node:assert/strict";
import { after, before, beforeEach, describe, it } from "node:test";
import { databaseTargets } from "@granit/iot-postgres/testing";
import {
  type ApiResponse,
  startTestHost,
  type TestHost,
  TOKENS,
  type WriteSnapshot,
} from "./support/test-host.ts";

const PROBLEM = "application/problem+json; charset=utf-8";

function assertProblem(response: ApiResponse, status: number, type: string): void {
  assert.equal(response.status, status, response.text);
  assert.equal(response.headers.get("content-type"), PROBLEM);
  assert.equal(response.body.status, status);
  assert.equal(response.body.type, type);
  assert.equal(typeof response.body.title, "string");
  assert.equal(typeof response.body.detail, "string");
  assert.equal(typeof response.body.instance, "string");
}

function fields(response: ApiResponse): string[] {
  return (response.body.errors ?? []).map((e: { field: string; rule: string }) => `${e.field}:${e.rule}`);
}

for (const target of databaseTargets()) {
  describe(`devices API errors (${target.name})`, { skip: target.skip }, () => {
    let t: TestHost;
    let deviceA: { id: string };
    let deviceB: { id: string };
    let before_: WriteSnapshot;

    before(async () => {
      t = await startTestHost(target, {
        bodyLimitBytes: 4096,
        beforeStart: (host) =>
          host.app.get("/api/iot/test/boom", async () => {
            throw new Error("connection to 10.0.0.7 refused: password authentication failed");
          }),
      });
      deviceA = await t.createDevice(TOKENS.tenantA);
      deviceB = await t.createDevice(TOKENS.tenantB);
    });
    after(async () => {
      await t?.dispose();
    });
    beforeEach(async () => {
      before_ = await t.snapshot();
    });
    const assertNothingWritten = async () => assert.deepEqual(await t.snapshot(), before_);

    describe("400 with the offending fields", () => {
      it("rejects a bad serial number and a bad firmware version together", async () => {
        const response = await t.call("POST", "/api/iot/devices", {
          token: TOKENS.tenantA,
          json: { serialNumber: "-bad serial!", model: "GW-100", firmware: "one.two" },
        });

        assertProblem(response, 400, "urn:granit:iot:problem:validation");
        assert.deepEqual(fields(response), ["serialNumber:pattern", "firmware:semver"]);
        await assertNothingWritten();
      });

      it("rejects a missing model and an unknown field", async () => {
        const response = await t.call("POST", "/api/iot/devices", {
          token: TOKENS.tenantA,
          json: { serialNumber: "SN-X1", firmware: "1.0.0", colour: "red" },
        });

        assertProblem(response, 400, "urn:granit:iot:problem:validation");
        assert.deepEqual(fields(response), ["model:required", "colour:unknown"]);
        await assertNothingWritten();
      });

      it("rejects an empty credential secret under its API name", async () => {
        const response = await t.call("POST", "/api/iot/devices", {
          token: TOKENS.tenantA,
          json: {
            serialNumber: "SN-X2",
            model: "M",
            firmware: "1",
            credential: { type: "api-key", secret: " " },
          },
        });

        assertProblem(response, 400, "urn:granit:iot:problem:validation");
        assert.deepEqual(fields(response), ["credential.secret:required"]);
        await assertNothingWritten();
      });

      it("rejects an unknown status filter and an out-of-range limit", async () => {
        const response = await t.call("GET", "/api/iot/devices?status=Sleeping&limit=5000", {
          token: TOKENS.tenantA,
        });

        assertProblem(response, 400, "urn:granit:iot:problem:validation");
        assert.deepEqual(fields(response), ["status:enum", "limit:max"]);
        await assertNothingWritten();
      });

      it("rejects a cursor the API did not issue, garbage or forged", async () => {
        const forged = Buffer.from(JSON.stringify(["not-a-uuid"])).toString("base64url");

        const garbage = await t.call("GET", "/api/iot/devices?cursor=%%%", { token: TOKENS.tenantA });
        const wellFormed = await t.call("GET", `/api/iot/devices?cursor=${forged}`, {
          token: TOKENS.tenantA,
        });

        for (const response of [garbage, wellFormed]) {
          assertProblem(response, 400, "urn:granit:iot:problem:validation");
          assert.deepEqual(fields(response), ["cursor:format"]);
        }
        await assertNothingWritten();
      });

      it("rejects an id that is not a UUID", async () => {
        const response = await t.call("GET", "/api/iot/devices/12345", { token: TOKENS.tenantA });

        assertProblem(response, 400, "urn:granit:iot:problem:validation");
        assert.deepEqual(fields(response), ["id:format"]);
        await assertNothingWritten();
      });

      it("rejects a suspension without a reason", async () => {
        await t.call("POST", `/api/iot/devices/${deviceA.id}/activate`, { token: TOKENS.tenantA });
        before_ = await t.snapshot();

        const missing = await t.call("POST", `/api/iot/devices/${deviceA.id}/suspend`, {
          token: TOKENS.tenantA,
          json: {},
        });
        const blank = await t.call("POST", `/api/iot/devices/${deviceA.id}/suspend`, {
          token: TOKENS.tenantA,
          json: { reason: "   " },
        });

        assert.deepEqual(fields(missing), ["reason:required"]);
        assert.deepEqual(fields(blank), ["reason:required"]);
        await assertNothingWritten();
      });

      it("rejects malformed JSON and a malformed If-Match", async () => {
        const json = await t.call("POST", "/api/iot/devices", {
          token: TOKENS.tenantA,
          headers: { "content-type": "application/json" },
          body: '{"serialNumber": ',
        });
        const ifMatch = await t.call("PATCH", `/api/iot/devices/${deviceA.id}`, {
          token: TOKENS.tenantA,
          headers: { "if-match": "version-1" },
          json: { label: "x" },
        });

        assertProblem(json, 400, "urn:granit:iot:problem:validation");
        assert.deepEqual(fields(json), ["body:json"]);
        assertProblem(ifMatch, 400, "urn:granit:iot:problem:validation");
        assert.deepEqual(fields(ifMatch), ["If-Match:format"]);
        await assertNothingWritten();
      });
    });

    describe("401 and 403", () => {
      it("answers 401 with WWW-Authenticate when no token is sent, and writes nothing", async () => {
        const response = await t.call("POST", "/api/iot/devices", {
          json: { serialNumber: "SN-ANON", model: "M", firmware: "1" },
        });

        assertProblem(response, 401, "urn:granit:iot:problem:unauthorized");
        assert.equal(response.headers.get("www-authenticate"), 'Bearer realm="granit-iot"');
        await assertNothingWritten();
      });

      it("answers 401 invalid_token for an unknown token and for another scheme", async () => {
        const unknown = await t.call("GET", "/api/iot/devices", { token: "not-a-configured-token-123" });
        const basic = await t.call("GET", "/api/iot/devices", {
          headers: { authorization: "Basic b3A6b3A=" },
        });

        assertProblem(unknown, 401, "urn:granit:iot:problem:unauthorized");
        assert.equal(
          unknown.headers.get("www-authenticate"),
          'Bearer realm="granit-iot", error="invalid_token"',
        );
        assertProblem(basic, 401, "urn:granit:iot:problem:unauthorized");
        await assertNothingWritten();
      });

      it("answers 401 before reading an oversized body", async () => {
        const response = await t.call("POST", "/api/iot/devices", { json: { label: "x".repeat(10_000) } });

        assertProblem(response, 401, "urn:granit:iot:problem:unauthorized");
        await assertNothingWritten();
      });

      it("answers 403 when a read-only token tries to write, and writes nothing", async () => {
        const create = await t.call("POST", "/api/iot/devices", {
          token: TOKENS.tenantAReader,
          json: { serialNumber: "SN-RO", model: "M", firmware: "1" },
        });
        const activate = await t.call("POST", `/api/iot/devices/${deviceA.id}/decommission`, {
          token: TOKENS.tenantAReader,
        });
        const read = await t.call("GET", `/api/iot/devices/${deviceA.id}`, { token: TOKENS.tenantAReader });

        assertProblem(create, 403, "urn:granit:iot:problem:forbidden");
        assert.match(create.headers.get("www-authenticate") ?? "", /error="insufficient_scope"/);
        assertProblem(activate, 403, "urn:granit:iot:problem:forbidden");
        assert.equal(read.status, 200);
        await assertNothingWritten();
      });
    });

    describe("404 for unknown ids and other tenants' devices", () => {
      it("answers 404 for an unknown id on every route", async () => {
        const id = "0194a5e0-0000-7000-8000-000000000042";
        const responses = [
          await t.call("GET", `/api/iot/devices/${id}`, { token: TOKENS.tenantA }),
          await t.call("PATCH", `/api/iot/devices/${id}`, { token: TOKENS.tenantA, json: { label: "x" } }),
          await t.call("POST", `/api/iot/devices/${id}/activate`, { token: TOKENS.tenantA }),
          await t.call("POST", `/api/iot/devices/${id}/heartbeat`, { token: TOKENS.tenantA }),
          await t.call("GET", `/api/iot/devices/${id}/timeline`, { token: TOKENS.tenantA }),
        ];

        for (const response of responses) assertProblem(response, 404, "urn:granit:iot:problem:not-found");
        await assertNothingWritten();
      });

      it("answers 404 when tenant A reads or changes tenant B's device, exactly as for an unknown id", async () => {
        const base = `/api/iot/devices/${deviceB.id}`;

        const read = await t.call("GET", base, { token: TOKENS.tenantA });
        const responses = [
          read,
          await t.call("PATCH", base, { token: TOKENS.tenantA, json: { label: "hijacked" } }),
          await t.call("POST", `${base}/activate`, { token: TOKENS.tenantA }),
          await t.call("POST", `${base}/suspend`, { token: TOKENS.tenantA, json: { reason: "x" } }),
          await t.call("POST", `${base}/decommission`, { token: TOKENS.tenantA }),
          await t.call("POST", `${base}/heartbeat`, { token: TOKENS.tenantA }),
          await t.call("GET", `${base}/timeline`, { token: TOKENS.tenantA }),
        ];
        const list = await t.call("GET", "/api/iot/devices?limit=1000", { token: TOKENS.tenantA });

        for (const response of responses) assertProblem(response, 404, "urn:granit:iot:problem:not-found");
        assert.equal(read.body.detail, `Device '${deviceB.id}' was not found.`);
        assert.ok(!list.text.includes(deviceB.id));
        await assertNothingWritten();
        const owner = await t.call("GET", base, { token: TOKENS.tenantB });
        assert.equal(owner.body.label, null);
        assert.equal(owner.body.status, "Provisioning");
      });

      it("answers 404 problem details for an unknown route", async () => {
        const response = await t.call("GET", "/api/iot/nothing-here", { token: TOKENS.tenantA });

        assertProblem(response, 404, "urn:granit:iot:problem:not-found");
        await assertNothingWritten();
      });
    });

    describe("409 conflicts", () => {
      it("refuses an illegal transition and writes nothing", async () => {
        const device = await t.createDevice(TOKENS.tenantA);
        before_ = await t.snapshot();

        const response = await t.call("POST", `/api/iot/devices/${device.id}/reactivate`, {
          token: TOKENS.tenantA,
        });

        assertProblem(response, 409, "urn:granit:iot:problem:invalid-status-transition");
        assert.equal(
          response.body.detail,
          "Cannot reactivate a device in 'Provisioning' status. Expected 'Suspended'.",
        );
        await assertNothingWritten();
      });

      it("refuses a duplicate serial number in the same tenant and writes nothing", async () => {
        const existing = await t.call("GET", `/api/iot/devices/${deviceA.id}`, { token: TOKENS.tenantA });

        const response = await t.call("POST", "/api/iot/devices", {
          token: TOKENS.tenantA,
          json: { serialNumber: existing.body.serialNumber, model: "Other", firmware: "9.9.9" },
        });

        assertProblem(response, 409, "urn:granit:iot:problem:duplicate-key");
        await assertNothingWritten();
      });

      it("refuses a write with a stale If-Match and writes nothing", async () => {
        const device = await t.createDevice(TOKENS.tenantA);
        await t.call("PATCH", `/api/iot/devices/${device.id}`, {
          token: TOKENS.tenantA,
          json: { label: "v2" },
        });
        before_ = await t.snapshot();

        const patch = await t.call("PATCH", `/api/iot/devices/${device.id}`, {
          token: TOKENS.tenantA,
          headers: { "if-match": '"1"' },
          json: { label: "lost update" },
        });
        const activate = await t.call("POST", `/api/iot/devices/${device.id}/activate`, {
          token: TOKENS.tenantA,
          headers: { "if-match": '"1"' },
        });

        assertProblem(patch, 409, "urn:granit:iot:problem:concurrency-conflict");
        assertProblem(activate, 409, "urn:granit:iot:problem:concurrency-conflict");
        await assertNothingWritten();
        const current = await t.call("GET", `/api/iot/devices/${device.id}`, { token: TOKENS.tenantA });
        assert.equal(current.body.label, "v2");
      });

      it("maps a write that loses the race to the store's version check to 409", async () => {
        // Prepare: load the device the way the service does, then let another writer commit first.
        const device = await t.createDevice(TOKENS.tenantA);
        const stale = await t.host.deviceStore.findById(device.id, device.tenantId as string);
        assert.ok(stale);
        await t.call("PATCH", `/api/iot/devices/${device.id}`, {
          token: TOKENS.tenantA,
          json: { label: "first" },
        });
        stale.updateLabel("second", { at: t.clock.now(), by: "racer" });
        before_ = await t.snapshot();

        // Act: the stale write fails inside the store; the HTTP mapping is the same error class.
        const error = await t.host.deviceStore.update(stale).then(
          () => null,
          (e: unknown) => e,
        );

        // Assess
        assert.equal((error as Error | null)?.name, "ConcurrencyConflictError");
        await assertNothingWritten();
      });
    });

    describe("413, 415 and 500", () => {
      it("answers 413 for a body over Host:BodyLimitBytes and writes nothing", async () => {
        const response = await t.call("POST", "/api/iot/devices", {
          token: TOKENS.tenantA,
          json: { serialNumber: "SN-BIG", model: "M", firmware: "1", label: "x".repeat(5000) },
        });

        assertProblem(response, 413, "urn:granit:iot:problem:payload-too-large");
        await assertNothingWritten();
      });

      it("answers 415 for a body that is not JSON and writes nothing", async () => {
        const text = await t.call("POST", "/api/iot/devices", {
          token: TOKENS.tenantA,
          headers: { "content-type": "text/plain" },
          body: "serialNumber=SN-TXT",
        });
        const form = await t.call("PATCH", `/api/iot/devices/${deviceA.id}`, {
          token: TOKENS.tenantA,
          headers: { "content-type": "application/x-www-form-urlencoded" },
          body: "label=x",
        });

        assertProblem(text, 415, "urn:granit:iot:problem:unsupported-media-type");
        assertProblem(form, 415, "urn:granit:iot:problem:unsupported-media-type");
        await assertNothingWritten();
      });

      it("answers 500 with a generic detail that reveals nothing of the failure", async () => {
        const response = await t.call("GET", "/api/iot/test/boom");

        assertProblem(response, 500, "urn:granit:iot:problem:internal");
        assert.doesNotMatch(response.text, /10\.0\.0\.7|password|Error|at /);
        await assertNothingWritten();
      });
    });
  });
}
