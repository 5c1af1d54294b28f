import "../src/telemetry/meter-provider.ts";

import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { databaseTargets } from "@granit/iot-postgres/testing";
import { startTestHost, TENANT_A, type TestHost, TOKENS } from "./support/test-host.ts";

for (const target of databaseTargets()) {
  describe(`devices API (${target.name})`, { skip: target.skip }, () => {
    let t: TestHost;
    before(async () => {
      t = await startTestHost(target);
    });
    after(async () => {
      await t?.dispose();
    });

    it("creates a device in Provisioning with 201, Location and ETag, and never returns the secret", async () => {
      // Act
      const response = await t.call("POST", "/api/iot/devices", {
        token: TOKENS.tenantA,
        json: {
          serialNumber: "GW-0001",
          model: "GW-100",
          firmware: "1.4.2",
          label: "Roof gateway",
          tags: { site: "lyon" },
          credential: { type: "api-key", secret: "s3cr3t-value" },
        },
      });
      t.clock.advance(1000);

      // Assess
      assert.equal(response.status, 201);
      assert.equal(response.headers.get("location"), `/api/iot/devices/${response.body.id}`);
      assert.equal(response.headers.get("etag"), '"1"');
      assert.deepEqual(
        { ...response.body, id: undefined },
        {
          id: undefined,
          tenantId: TENANT_A,
          serialNumber: "GW-0001",
          model: "GW-100",
          firmware: "1.4.2",
          label: "Roof gateway",
          status: "Provisioning",
          credentialType: "api-key",
          lastHeartbeatAt: null,
          suspensionReason: null,
          tags: { site: "lyon" },
          createdAt: "2026-03-01T08:00:00.000Z",
          createdBy: "alice@tenant-a",
          modifiedAt: null,
          modifiedBy: null,
          version: 1,
        },
      );
      assert.ok(!response.text.includes("s3cr3t-value"), "the secret must not be in the response");
      const fetched = await t.call("GET", `/api/iot/devices/${response.body.id}`, { token: TOKENS.tenantA });
      assert.ok(!fetched.text.includes("s3cr3t-value"));
    });

    it("gets a device by id with its ETag", async () => {
      const device = await t.createDevice(TOKENS.tenantA);

      const response = await t.call("GET", `/api/iot/devices/${device.id}`, { token: TOKENS.tenantA });

      assert.equal(response.status, 200);
      assert.equal(response.headers.get("etag"), '"1"');
      assert.deepEqual(response.body, device);
    });

    it("lists only the caller's tenant, pages with nextCursor and filters by status", async () => {
      // Prepare: tenant B gets its own device; tenant A activates one of its devices.
      await t.createDevice(TOKENS.tenantB);
      const active = await t.createDevice(TOKENS.tenantA);
      await t.call("POST", `/api/iot/devices/${active.id}/activate`, { token: TOKENS.tenantA });
      const all = await t.call("GET", "/api/iot/devices?limit=1000", { token: TOKENS.tenantA });

      // Act: walk the pages two by two.
      const seen: string[] = [];
      let cursor: string | null = null;
      do {
        const query: string = cursor ? `&cursor=${encodeURIComponent(cursor)}` : "";
        const page = await t.call("GET", `/api/iot/devices?limit=2${query}`, { token: TOKENS.tenantA });
        assert.equal(page.status, 200);
        assert.ok(page.body.items.length <= 2);
        seen.push(...page.body.items.map((d: { id: string }) => d.id));
        cursor = page.body.nextCursor;
      } while (cursor);
      const activeOnly = await t.call("GET", "/api/iot/devices?status=Active", { token: TOKENS.tenantA });

      // Assess
      assert.ok(all.body.items.every((d: { tenantId: string }) => d.tenantId === TENANT_A));
      assert.deepEqual(
        seen,
        all.body.items.map((d: { id: string }) => d.id),
      );
      assert.equal(new Set(seen).size, seen.length, "every device exactly once");
      assert.deepEqual(
        activeOnly.body.items.map((d: { id: string }) => d.id),
        [active.id],
      );
    });

    it("updates label and firmware, bumping the version and the ETag, and honours a current If-Match", async () => {
      const device = await t.createDevice(TOKENS.tenantA);
      t.clock.advance(5000);

      const response = await t.call("PATCH", `/api/iot/devices/${device.id}`, {
        token: TOKENS.tenantA,
        headers: { "if-match": '"1"' },
        json: { label: "Basement", firmware: "2.0.0-rc.1" },
      });
      const cleared = await t.call("PATCH", `/api/iot/devices/${device.id}`, {
        token: TOKENS.tenantA,
        json: { label: null },
      });

      assert.equal(response.status, 200);
      assert.equal(response.body.label, "Basement");
      assert.equal(response.body.firmware, "2.0.0-rc.1");
      assert.ok(response.body.version > 1);
      assert.equal(response.body.modifiedBy, "alice@tenant-a");
      assert.equal(response.body.modifiedAt, t.clock.now().toISOString());
      assert.equal(response.headers.get("etag"), `"${response.body.version}"`);
      assert.equal(cleared.body.label, null);
      assert.equal(cleared.body.version, response.body.version + 1);
    });

    it("leaves the version alone when a patch changes nothing", async () => {
      const device = await t.createDevice(TOKENS.tenantA, { label: "Same" });

      const response = await t.call("PATCH", `/api/iot/devices/${device.id}`, {
        token: TOKENS.tenantA,
        json: { label: "Same", firmware: "1.0.0" },
      });

      assert.equal(response.status, 200);
      assert.equal(response.body.version, 1);
    });

    it("walks the lifecycle activate → suspend → reactivate → decommission, one timeline entry and one event each", async () => {
      // Prepare
      const device = await t.createDevice(TOKENS.tenantA);
      const base = `/api/iot/devices/${device.id}`;
      const step = async (operation: string, json?: unknown) => {
        const response = await t.call("POST", `${base}/${operation}`, { token: TOKENS.tenantA, json });
        t.clock.advance(1000);
        return response;
      };

      // Act
      const activated = await step("activate");
      const suspended = await step("suspend", { reason: "Unpaid invoice" });
      const reactivated = await step("reactivate");
      const decommissioned = await step("decommission");
      const timeline = await t.call("GET", `${base}/timeline`, { token: TOKENS.tenantA });
      await t.host.bus.drain();

      // Assess
      assert.deepEqual(
        [activated, suspended, reactivated, decommissioned].map((r) => [
          r.status,
          r.body.status,
          r.body.version,
        ]),
        [
          [200, "Active", 2],
          [200, "Suspended", 3],
          [200, "Active", 4],
          [200, "Decommissioned", 5],
        ],
      );
      assert.equal(suspended.body.suspensionReason, "Unpaid invoice");
      assert.equal(reactivated.body.suspensionReason, null);
      assert.equal(timeline.status, 200);
      assert.deepEqual(
        timeline.body.items.map((e: { eventType: string }) => e.eventType),
        [
          "DeviceDecommissionedEvent",
          "DeviceReactivatedEvent",
          "DeviceSuspendedEvent",
          "DeviceActivatedEvent",
          "DeviceProvisionedEvent",
        ],
      );
      assert.equal(
        timeline.body.items[2].message,
        "Device suspended (Active → Suspended): reason = 'Unpaid invoice'",
      );
      assert.ok(timeline.body.items.every((e: { actor: string }) => e.actor === "alice@tenant-a"));
      assert.deepEqual(
        t.delivered.filter((e) => (e as { deviceId?: string }).deviceId === device.id).map((e) => e.type),
        [
          "DeviceProvisionedEvent",
          "DeviceActivatedEvent",
          "DeviceSuspendedEvent",
          "DeviceReactivatedEvent",
          "DeviceDecommissionedEvent",
        ],
      );
    });

    it("accepts a bodiless lifecycle POST sent with a JSON content type", async () => {
      const device = await t.createDevice(TOKENS.tenantA);

      const response = await t.call("POST", `/api/iot/devices/${device.id}/activate`, {
        token: TOKENS.tenantA,
        headers: { "content-type": "application/json" },
      });

      assert.equal(response.status, 200);
      assert.equal(response.body.status, "Active");
    });

    it("records a heartbeat with 204, the clock's instant, and no new version, event or timeline entry", async () => {
      const device = await t.createDevice(TOKENS.tenantA);
      t.clock.advance(60_000);
      const before = await t.snapshot();

      const response = await t.call("POST", `/api/iot/devices/${device.id}/heartbeat`, {
        token: TOKENS.tenantA,
      });
      const after = await t.snapshot();
      const fetched = await t.call("GET", `/api/iot/devices/${device.id}`, { token: TOKENS.tenantA });

      assert.equal(response.status, 204);
      assert.equal(response.text, "");
      assert.equal(fetched.body.lastHeartbeatAt, t.clock.now().toISOString());
      assert.equal(fetched.body.version, 1);
      assert.deepEqual({ ...after, heartbeats: null }, { ...before, heartbeats: null });
    });

    it("shows the host operator the host's devices and none of a tenant's", async () => {
      const hostDevice = await t.createDevice(TOKENS.operator);
      const tenantDevice = await t.createDevice(TOKENS.tenantA);

      const list = await t.call("GET", "/api/iot/devices?limit=1000", { token: TOKENS.operator });
      const cross = await t.call("GET", `/api/iot/devices/${tenantDevice.id}`, { token: TOKENS.operator });

      assert.equal(hostDevice.tenantId, null);
      assert.deepEqual(
        list.body.items.map((d: { id: string }) => d.id),
        [hostDevice.id],
      );
      assert.equal(cross.status, 404);
    });

    it("lets the same serial number exist once per tenant", async () => {
      const inA = await t.call("POST", "/api/iot/devices", {
        token: TOKENS.tenantA,
        json: { serialNumber: "SHARED-1", model: "M", firmware: "1" },
      });
      const inB = await t.call("POST", "/api/iot/devices", {
        token: TOKENS.tenantB,
        json: { serialNumber: "SHARED-1", model: "M", firmware: "1" },
      });

      assert.equal(inA.status, 201);
      assert.equal(inB.status, 201);
    });

    it("answers the collection with or without a trailing slash", async () => {
      const response = await t.call("GET", "/api/iot/devices/", { token: TOKENS.tenantA });

      assert.equal(response.status, 200);
    });

    it("authenticates a token configured by its SHA-256 only", async () => {
      const response = await t.call("GET", "/api/iot/devices", { token: TOKENS.tenantBHashed });

      assert.equal(response.status, 200);
    });
  });
}
