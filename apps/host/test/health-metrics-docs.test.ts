import "../src/telemetry/meter-provider.ts";

import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { databaseTargets } from "@granit/iot-postgres/testing";
import { startTestHost, TENANT_A, type TestHost, TOKENS } from "./support/test-host.ts";

for (const target of databaseTargets()) {
  describe(`health, metrics and docs (${target.name})`, { skip: target.skip }, () => {
    let t: TestHost;
    let credentialsLoaded = false;
    before(async () => {
      t = await startTestHost(target, {
        beforeStart: (host) =>
          host.readiness.register({
            name: "aws-credentials",
            isReady: () => credentialsLoaded,
            describe: () => "the first fetch of the fleet credentials has not succeeded yet",
          }),
      });
    });
    after(async () => {
      await t?.dispose();
    });

    it("answers /health/live without a token", async () => {
      const response = await t.call("GET", "/health/live");

      assert.equal(response.status, 200);
      assert.deepEqual(response.body, { status: "live" });
    });

    it("answers /health/ready 503 naming the closed gate, then 200 once every gate is open", async () => {
      const closed = await t.call("GET", "/health/ready");
      credentialsLoaded = true;
      const open = await t.call("GET", "/health/ready");

      assert.equal(closed.status, 503);
      assert.deepEqual(closed.body, {
        status: "not_ready",
        checks: [
          { name: "database", status: "up" },
          {
            name: "aws-credentials",
            status: "down",
            detail: "the first fetch of the fleet credentials has not succeeded yet",
          },
        ],
      });
      assert.equal(open.status, 200);
      assert.deepEqual(open.body, {
        status: "ready",
        checks: [
          { name: "database", status: "up" },
          { name: "aws-credentials", status: "up" },
        ],
      });
    });

    it("answers /health/ready 503 when the database does not answer", async () => {
      const database = t.host.database;
      const ping = database.ping;
      database.ping = async () => false;
      try {
        const response = await t.call("GET", "/health/ready");

        assert.equal(response.status, 503);
        assert.deepEqual(response.body.checks[0], {
          name: "database",
          status: "down",
          detail: "the database does not answer",
        });
      } finally {
        database.ping = ping;
      }
    });

    it("serves Prometheus text on /metrics with HTTP and device metrics tagged by tenant", async () => {
      await t.createDevice(TOKENS.tenantA);

      const response = await t.call("GET", "/metrics");

      assert.equal(response.status, 200);
      assert.match(response.headers.get("content-type") ?? "", /^text\/plain/);
      assert.match(
        response.text,
        new RegExp(`granit_iot_devices_provisioned_total\\{tenant_id="${TENANT_A}"`),
      );
      assert.match(
        response.text,
        /http_server_request_duration_count\{http_request_method="POST",http_route="\/api\/iot\/devices",http_response_status_code="201"/,
      );
    });

    it("serves the OpenAPI document on /docs/json and the UI on /docs, without a token", async () => {
      const json = await t.call("GET", "/docs/json");
      const ui = await t.call("GET", "/docs/");

      assert.equal(json.status, 200);
      assert.equal(json.body.openapi, "3.1.0");
      assert.deepEqual(json.body.components.securitySchemes.bearerAuth, { type: "http", scheme: "bearer" });
      assert.deepEqual(Object.keys(json.body.paths).sort(), [
        "/api/iot/bus/dead-letters",
        "/api/iot/bus/dead-letters/{id}/retry",
        "/api/iot/devices",
        "/api/iot/devices/{id}",
        "/api/iot/devices/{id}/activate",
        "/api/iot/devices/{id}/decommission",
        "/api/iot/devices/{id}/heartbeat",
        "/api/iot/devices/{id}/reactivate",
        "/api/iot/devices/{id}/suspend",
        "/api/iot/devices/{id}/timeline",
        "/health/live",
        "/health/ready",
      ]);
      assert.deepEqual(json.body.paths["/api/iot/devices"].post.security, [{ bearerAuth: [] }]);
      assert.equal(ui.status, 200);
      assert.match(ui.text, /swagger/i);
    });
  });
}
