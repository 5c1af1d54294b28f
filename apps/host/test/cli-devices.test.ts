/**
 * `granit-iot devices ...` against a real host (test-host on each database target), run as a child
 * process with `--url` and `--token`: human output, `--json`, the host's refusals (exit 1 with the
 * problem's detail and field errors), authentication (exit 4) — and the effects in the database.
 */
import "../src/telemetry/meter-provider.ts";

import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { databaseTargets } from "@granit/iot-postgres/testing";
import { type CliResult, granitIot, removeTempDirs } from "./cli-fixtures/run-cli.ts";
import { startTestHost, TENANT_A, type TestHost, TOKENS } from "./support/test-host.ts";

const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/;

after(removeTempDirs);

for (const target of databaseTargets()) {
  describe(`granit-iot devices (${target.name})`, { skip: target.skip }, () => {
    let t: TestHost;
    before(async () => {
      t = await startTestHost(target);
    });
    after(async () => {
      await t?.dispose();
    });

    const cli = (args: readonly string[], token: string = TOKENS.operator): Promise<CliResult> =>
      granitIot([...args, "--url", t.host.url, "--token", token]);
    const get = async (id: string) =>
      (await t.call("GET", `/api/iot/devices/${id}`, { token: TOKENS.operator })).body;

    it("creates a device, prints its id and stores label and tags", async () => {
      const result = await cli([
        "devices",
        "create",
        "--serial",
        "CLI-0001",
        "--model",
        "GW-100",
        "--firmware",
        "1.4.2",
        "--label",
        "Roof gateway",
        "--tag",
        "site=lyon",
        "--tag",
        "floor=3",
      ]);

      assert.equal(result.code, 0, result.stderr);
      assert.equal(result.stderr, "");
      const id = result.stdout.match(UUID)?.[0] as string;
      assert.equal(result.stdout, `Created device ${id} (serial CLI-0001, status Provisioning).\n`);
      const stored = await get(id);
      assert.equal(stored.serialNumber, "CLI-0001");
      assert.equal(stored.label, "Roof gateway");
      assert.deepEqual(stored.tags, { site: "lyon", floor: "3" });
      assert.equal(stored.createdBy, "operator");
    });

    it("prints the created device as JSON with --json", async () => {
      const result = await cli([
        "devices",
        "create",
        "--serial",
        "CLI-0002",
        "--model",
        "GW-100",
        "--firmware",
        "2.0.0",
        "--json",
      ]);

      assert.equal(result.code, 0);
      const device = result.json();
      assert.equal(device.serialNumber, "CLI-0002");
      assert.equal(device.status, "Provisioning");
      assert.deepEqual(await get(device.id), device);
    });

    it("exits 1 with the host's title and detail when the serial number is taken, and writes nothing", async () => {
      const before = await t.snapshot();

      const result = await cli([
        "devices",
        "create",
        "--serial",
        "CLI-0001",
        "--model",
        "GW-100",
        "--firmware",
        "1.0.0",
      ]);

      assert.equal(result.code, 1);
      assert.equal(result.stdout, "");
      assert.equal(
        result.stderr,
        "error: The resource already exists. (HTTP 409, POST /api/iot/devices)\n" +
          "  A device with serial number 'CLI-0001' already exists in this tenant.\n",
      );
      assert.deepEqual(await t.snapshot(), before);
    });

    it("exits 1 and lists every invalid field on its own line", async () => {
      const result = await cli([
        "devices",
        "create",
        "--serial=-bad-",
        "--model",
        "GW-100",
        "--firmware",
        "one",
      ]);

      assert.equal(result.code, 1);
      assert.equal(
        result.stderr,
        "error: The request is not valid. (HTTP 400, POST /api/iot/devices)\n" +
          "  The request has invalid fields.\n" +
          "  serialNumber: must start with a letter or digit and contain only letters, digits, '_' and '-' (pattern)\n" +
          "  firmware: must look like a version number, e.g. 1.4.2 or 2.0.0-rc.1 (semver)\n",
      );
    });

    it("prints the problem document on stderr and nothing on stdout with --json", async () => {
      const result = await cli([
        "devices",
        "create",
        "--serial=-bad-",
        "--model",
        "GW-100",
        "--firmware",
        "1.0.0",
        "--json",
      ]);

      assert.equal(result.code, 1);
      assert.equal(result.stdout, "");
      const problem = result.errorJson();
      assert.equal(problem.type, "urn:granit:iot:problem:validation");
      assert.equal(problem.status, 400);
      assert.deepEqual(
        problem.errors.map((e: { field: string }) => e.field),
        ["serialNumber"],
      );
    });

    it("lists devices as an aligned table, filters by status and shows the next page's cursor", async () => {
      const active = await t.createDevice(TOKENS.operator, { serialNumber: "CLI-LIST-1", label: "first" });
      await t.call("POST", `/api/iot/devices/${active.id}/activate`, { token: TOKENS.operator });

      const filtered = await cli(["devices", "list", "--status", "Active"]);
      const paged = await cli(["devices", "list", "--limit", "1"]);

      assert.equal(filtered.code, 0);
      const lines = filtered.stdout.trimEnd().split("\n");
      assert.deepEqual(lines, [
        "ID                                    SERIAL      MODEL   FIRMWARE  STATUS  LABEL",
        `${active.id}  CLI-LIST-1  GW-100  1.0.0     Active  first`,
      ]);
      assert.equal(paged.code, 0);
      assert.equal(paged.stdout.trimEnd().split("\n").length, 2);
      assert.match(paged.stderr, /^More devices: add --cursor \S+ for the next page, or --all\.\n$/);
    });

    it("follows nextCursor to the last page with --all (JSON: every item, nextCursor null)", async () => {
      for (const serialNumber of ["CLI-PAGE-1", "CLI-PAGE-2", "CLI-PAGE-3"]) {
        await t.createDevice(TOKENS.operator, { serialNumber });
      }
      const all = await t.call("GET", "/api/iot/devices?limit=1000", { token: TOKENS.operator });
      const expected = all.body.items;

      const result = await cli(["devices", "list", "--all", "--limit", "2", "--json"]);

      assert.equal(result.code, 0);
      const page = result.json();
      assert.equal(page.nextCursor, null);
      assert.ok(expected.length >= 5, "at least three pages of two");
      assert.deepEqual(
        page.items.map((d: { id: string }) => d.id),
        expected.map((d: { id: string }) => d.id),
      );
    });

    it("prints 'No devices.' for an empty list (another tenant sees none of these)", async () => {
      const result = await cli(["devices", "list"], TOKENS.tenantB);

      assert.equal(result.code, 0);
      assert.equal(result.stdout, "No devices.\n");
    });

    it("shows a device as a key/value block, with its timeline on request", async () => {
      const device = await t.createDevice(TOKENS.operator, {
        serialNumber: "CLI-SHOW-1",
        tags: { site: "lyon" },
      });
      await t.call("POST", `/api/iot/devices/${device.id}/activate`, { token: TOKENS.operator });

      const result = await cli(["devices", "show", device.id, "--timeline"]);
      const json = await cli(["devices", "show", device.id, "--timeline", "--json"]);

      assert.equal(result.code, 0, result.stderr);
      assert.match(result.stdout, new RegExp(`^id: {16}${device.id}$`, "m"));
      assert.match(result.stdout, /^serialNumber: {6}CLI-SHOW-1$/m);
      assert.match(result.stdout, /^status: {12}Active$/m);
      assert.match(result.stdout, /^tags: {14}site=lyon$/m);
      assert.match(result.stdout, /^label: {13}-$/m);
      assert.match(
        result.stdout,
        /^Timeline\nOCCURRED +EVENT +ACTOR +MESSAGE\n.*DeviceActivatedEvent +operator +Device activated/m,
      );
      assert.match(result.stdout, /DeviceProvisionedEvent/);
      const { device: shown, timeline } = json.json();
      assert.equal(shown.id, device.id);
      assert.deepEqual(
        timeline.map((e: { eventType: string }) => e.eventType),
        ["DeviceActivatedEvent", "DeviceProvisionedEvent"],
      );
    });

    it("exits 1 with 'not found' for an unknown device", async () => {
      const result = await cli(["devices", "show", "0194a5e0-0000-7000-8000-000000000000"]);

      assert.equal(result.code, 1);
      assert.match(
        result.stderr,
        /^error: The resource was not found\. \(HTTP 404, GET \/api\/iot\/devices\/0194a5e0-0000-7000-8000-000000000000\)\n/,
      );
    });

    it("walks a device through activate, suspend, reactivate and decommission", async () => {
      const device = await t.createDevice(TOKENS.operator, { serialNumber: "CLI-LIFE-1" });

      const activate = await cli(["devices", "activate", device.id]);
      const suspend = await cli(["devices", "suspend", device.id, "--reason", "unpaid invoice"]);
      const suspended = await get(device.id);
      const reactivate = await cli(["devices", "reactivate", device.id, "--json"]);
      const decommission = await cli(["devices", "decommission", device.id]);

      assert.equal(activate.stdout, `Device ${device.id} (CLI-LIFE-1) is now Active (version 2).\n`);
      assert.equal(suspend.stdout, `Device ${device.id} (CLI-LIFE-1) is now Suspended (version 3).\n`);
      assert.equal(suspended.suspensionReason, "unpaid invoice");
      assert.equal(reactivate.json().status, "Active");
      assert.equal(
        decommission.stdout,
        `Device ${device.id} (CLI-LIFE-1) is now Decommissioned (version 5).\n`,
      );
      assert.deepEqual([activate.code, suspend.code, reactivate.code, decommission.code], [0, 0, 0, 0]);
      assert.equal((await get(device.id)).status, "Decommissioned");
    });

    it("exits 1 with the lifecycle rule when a transition is not allowed", async () => {
      const device = await t.createDevice(TOKENS.operator, { serialNumber: "CLI-LIFE-2" });

      const result = await cli(["devices", "reactivate", device.id]);

      assert.equal(result.code, 1);
      assert.match(
        result.stderr,
        /^error: The device's status does not allow this operation\. \(HTTP 409, POST .*\/reactivate\)\n {2}Cannot reactivate a device in 'Provisioning' status\./,
      );
      assert.equal((await get(device.id)).status, "Provisioning");
    });

    it("refuses a stale --if-match with exit 1 (concurrency conflict)", async () => {
      const device = await t.createDevice(TOKENS.operator, { serialNumber: "CLI-LIFE-3" });

      const stale = await cli(["devices", "activate", device.id, "--if-match", "7"]);
      const fresh = await cli(["devices", "activate", device.id, "--if-match", "1"]);

      assert.equal(stale.code, 1);
      assert.match(stale.stderr, /^error: The resource was changed by someone else\. \(HTTP 409/);
      assert.equal(fresh.code, 0);
    });

    it("exits 4 on an unknown token (401) and on a token without the scope (403)", async () => {
      const unknown = await cli(["devices", "list"], "not-a-configured-token-01");
      const readOnly = await cli(
        ["devices", "create", "--serial", "CLI-RO-1", "--model", "GW-100", "--firmware", "1.0.0"],
        TOKENS.tenantAReader,
      );

      assert.equal(unknown.code, 4);
      assert.equal(
        unknown.stderr,
        "error: Authentication is required. (HTTP 401, GET /api/iot/devices)\n  The bearer token is not valid.\n",
      );
      assert.equal(readOnly.code, 4);
      assert.match(
        readOnly.stderr,
        /^error: The token may not do this\. \(HTTP 403, POST \/api\/iot\/devices\)\n {2}The token 'reader@tenant-a' lacks the scope IoT\.Devices\.Manage\.\n$/,
      );
    });

    it("explains a 404 from a host that does not serve the AWS routes", async () => {
      const result = await cli(["bindings", "show", "0194a5e0-0000-7000-8000-000000000000"]);

      assert.equal(result.code, 1);
      assert.equal(
        result.stderr,
        "error: The resource was not found. (HTTP 404, GET /api/iot/aws/bindings/0194a5e0-0000-7000-8000-000000000000)\n" +
          "  No route matches GET /api/iot/aws/bindings/0194a5e0-0000-7000-8000-000000000000.\n" +
          "  (this host does not serve that route: is the AWS bridge enabled on it?)\n",
      );
    });

    it("acts in the token's tenant", async () => {
      const result = await cli(
        ["devices", "create", "--serial", "CLI-TA-1", "--model", "GW-100", "--firmware", "1.0.0", "--json"],
        TOKENS.tenantA,
      );

      assert.equal(result.code, 0);
      assert.equal(result.json().tenantId, TENANT_A);
    });
  });
}
