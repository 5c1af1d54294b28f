import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { databaseTargets } from "@granit/iot-postgres/testing";
import { granitIot, removeTempDirs } from "./cli-fixtures/run-cli.ts";
import { startTestHost, type TestHost, TOKENS } from "./support/test-host.ts";

after(() => removeTempDirs());

for (const target of databaseTargets()) {
  describe(`bus dead-letter routes (${target.name})`, { skip: target.skip }, () => {
    let t: TestHost;
    let healed = false;
    let calls = 0;

    before(async () => {
      t = await startTestHost(target, {
        beforeStart: (host) => {
          host.bus.subscribe(
            "DeviceProvisionedEvent",
            "test.flaky-projection",
            async () => {
              calls++;
              if (!healed) throw new RangeError("projection table is missing");
            },
            { maxAttempts: 2, backoffMs: 5, maxBackoffMs: 10 },
          );
        },
      });
    });
    after(() => t.dispose());
    const cli = (...args: string[]) => granitIot([...args, "--url", t.host.url, "--token", TOKENS.operator]);

    async function deadLetters(): Promise<
      { id: number; handler: string; lastError: string; attempts: number }[]
    > {
      const response = await t.call("GET", "/api/iot/bus/dead-letters?handler=test.flaky-projection", {
        token: TOKENS.operator,
      });
      assert.equal(response.status, 200, response.text);
      return response.body.items;
    }

    it("lists a delivery that exhausted its attempts, with the last error and no stack", async () => {
      await t.createDevice(TOKENS.operator, { serialNumber: "DLQ-1" });
      let items: Awaited<ReturnType<typeof deadLetters>> = [];
      for (let i = 0; i < 400 && items.length === 0; i++) {
        items = await deadLetters();
        if (items.length === 0) await new Promise((resolve) => setTimeout(resolve, 25));
      }
      assert.equal(items.length, 1);
      assert.equal(items[0]?.attempts, 2);
      assert.equal(items[0]?.lastError, "RangeError: projection table is missing");
    });

    it("shows it through the CLI: granit-iot bus dead-letters, human and --json", async () => {
      const human = await cli("bus", "dead-letters", "--handler", "test.flaky-projection");
      assert.equal(human.code, 0, human.stderr);
      assert.match(human.stdout, /test\.flaky-projection\s+DeviceProvisionedEvent\s+2/);
      assert.match(human.stdout, /RangeError: projection table is missing/);
      const json = await cli("bus", "dead-letters", "--json");
      assert.equal(json.code, 0, json.stderr);
      assert.equal(json.json().items.length, 1);
      const refused = await granitIot([
        "bus",
        "dead-letters",
        "--url",
        t.host.url,
        "--token",
        TOKENS.tenantA,
      ]);
      assert.equal(refused.code, 4, refused.stderr);
      const usage = await cli("bus", "retry", "not-a-number");
      assert.equal(usage.code, 2, usage.stderr);
    });

    it("requeues a dead letter once the cause is fixed (granit-iot bus retry), and it is then handled", async () => {
      const [letter] = await deadLetters();
      healed = true;
      const before = calls;
      const retried = await cli("bus", "retry", String(letter?.id));
      assert.equal(retried.code, 0, retried.stderr);
      assert.match(retried.stdout, new RegExp(`Dead letter ${letter?.id} requeued`));
      await t.host.bus.drain();
      assert.equal(calls, before + 1);
      assert.deepEqual(await deadLetters(), []);
      const again = await cli("bus", "retry", String(letter?.id));
      assert.equal(again.code, 1, "a second retry of the same id is refused (404)");
    });

    it("answers 404 for an id that is not a dead letter", async () => {
      const response = await t.call("POST", "/api/iot/bus/dead-letters/999999/retry", {
        token: TOKENS.operator,
      });
      assert.equal(response.status, 404);
      assert.equal(response.headers.get("content-type"), "application/problem+json; charset=utf-8");
    });

    it("refuses tenant tokens (403) and missing tokens (401)", async () => {
      assert.equal((await t.call("GET", "/api/iot/bus/dead-letters", { token: TOKENS.tenantA })).status, 403);
      assert.equal(
        (await t.call("POST", "/api/iot/bus/dead-letters/1/retry", { token: TOKENS.tenantA })).status,
        403,
      );
      assert.equal((await t.call("GET", "/api/iot/bus/dead-letters", { token: null })).status, 401);
    });
  });
}
