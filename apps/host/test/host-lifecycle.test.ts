/**
 * Start and graceful shutdown of a host that owns its database (the embedded default: PGlite
 * under `<DataDir>/pglite`), driven in-process so the test can hold a request and a bus handler
 * open while `stop()` runs.
 */
import "../src/telemetry/meter-provider.ts";

import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { loadConfig } from "../src/config/load-config.ts";
import { createHost } from "../src/host.ts";

const TOKEN = "lifecycle-operator-token-1";

/** A promise with its resolver, to hold work open until the test lets it go. */
function gate(): { promise: Promise<void>; open: () => void } {
  let open = () => {};
  const promise = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { promise, open };
}

describe("host lifecycle", () => {
  const dataDir = mkdtempSync(join(tmpdir(), "granit-lifecycle-test-"));
  after(() => rmSync(dataDir, { recursive: true, force: true }));

  it("lets an in-flight request and an in-flight bus handler finish, refuses new requests, then closes the database", async () => {
    // Prepare: a host on its own PGlite, a slow route and a slow event handler.
    const config = loadConfig({
      env: {},
      overrides: {
        Host: { Port: 0, DataDir: dataDir },
        Logging: { Level: "silent" },
        IoT: { MessageBus: { PollIntervalMilliseconds: 50 } },
        Auth: { Tokens: [{ Name: "ops", Token: TOKEN, TenantId: null }] },
      },
    });
    const host = await createHost(config);
    const request = gate();
    const handler = gate();
    const handlerStarted = gate();
    const requestArrived = gate();
    const order: string[] = [];
    host.app.get("/test/slow", async () => {
      requestArrived.open();
      await request.promise;
      order.push("request finished");
      return { ok: true };
    });
    host.bus.subscribe("DeviceProvisionedEvent", "slow-handler", async () => {
      handlerStarted.open();
      await handler.promise;
      // The database must still be open while a handler finishes.
      await host.database.execute("SELECT 1");
      order.push("handler finished");
    });
    await host.start();
    const url = host.url;
    const created = await fetch(`${url}/api/iot/devices`, {
      method: "POST",
      headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" },
      body: JSON.stringify({ serialNumber: "SN-SLOW", model: "M", firmware: "1" }),
    });
    assert.equal(created.status, 201);
    await handlerStarted.promise;
    const inFlight = fetch(`${url}/test/slow`);
    await requestArrived.promise;

    // Act: stop while both are running, then let them finish.
    const stopped = host.stop().then(() => order.push("stopped"));
    const refused = await fetch(`${url}/health/live`, { headers: { connection: "close" } }).then(
      (r) => r.status,
      () => "connection refused",
    );
    request.open();
    const response = await inFlight;
    handler.open();
    await stopped;

    // Assess
    assert.equal(response.status, 200);
    assert.deepEqual(await response.json(), { ok: true });
    assert.ok(refused === 503 || refused === "connection refused", `new request got ${refused}`);
    assert.deepEqual(order, ["request finished", "handler finished", "stopped"]);
    assert.equal(host.database.closed, true);
  });

  it("reopens the same embedded database after a clean stop (the data-directory lock is released)", async () => {
    const config = loadConfig({
      env: {},
      overrides: {
        Host: { Port: 0, DataDir: dataDir },
        Logging: { Level: "silent" },
        Auth: { Tokens: [{ Name: "ops", Token: TOKEN, TenantId: null }] },
      },
    });
    const host = await createHost(config);
    await host.start();

    const list = await fetch(`${host.url}/api/iot/devices`, {
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    const body = (await list.json()) as { items: { serialNumber: string }[] };
    await host.stop();

    assert.deepEqual(
      body.items.map((d) => d.serialNumber),
      ["SN-SLOW"],
    );
  });
});
