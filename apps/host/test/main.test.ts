/**
 * `npm start` end to end: `src/main.ts` as a child process, as an operator runs it.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { statSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { Database } from "@granit/iot-postgres";
import { cleanEnv, type RunningHost as Running, runHost, tempDirs } from "./support/host-process.ts";

/** Generous bound so a hung child fails the test instead of hanging the run; never a timing assertion. */
const PATIENCE_MS = 120_000;
const emptyDir = tempDirs("granit-main-test-");
const run = (args: readonly string[], cwd: string, env: NodeJS.ProcessEnv) =>
  runHost(args, { cwd, env, patienceMs: PATIENCE_MS });

/** Starts main.ts and reads the banner. */
async function start(cwd: string, env: NodeJS.ProcessEnv, args: readonly string[] = ["--port", "0"]) {
  const running = run(args, cwd, env);
  const url = (await running.waitFor(/^Granit IoT host listening on (http:\/\/\S+)$/m))[1] as string;
  await running.waitFor(/^Database: .*$/m);
  return { running, url };
}

async function stop(running: Running): Promise<number | null> {
  running.child.kill("SIGTERM");
  return running.exit();
}

describe("npm start (src/main.ts as a child process)", () => {
  it("on an empty directory prints the URL, the docs URL and a generated token, serves, and exits 0 on SIGTERM", async () => {
    // Prepare
    const cwd = emptyDir();

    // Act
    const { running, url } = await start(cwd, cleanEnv());
    const banner = running.stdout();
    const token = (banner.match(
      /^Operator token: (\S+) {3}\(generated; stored in \.data\/operator-token\)$/m,
    ) ?? [])[1];
    const ready = await fetch(`${url}/health/ready`);
    const anonymous = await fetch(`${url}/api/iot/devices`);
    const authorised = await fetch(`${url}/api/iot/devices`, {
      headers: { authorization: `Bearer ${token}` },
    });
    const code = await stop(running);

    // Assess
    assert.match(url, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.match(banner, new RegExp(`^API docs: +${url}/docs$`, "m"));
    assert.match(banner, /^Database: +PGlite \(embedded\) in \.data\/pglite$/m);
    assert.match(token ?? "", /^[A-Za-z0-9_-]{43}$/);
    assert.equal(ready.status, 200);
    assert.equal(anonymous.status, 401);
    assert.equal(authorised.status, 200);
    assert.equal(statSync(join(cwd, ".data", "operator-token")).mode & 0o777, 0o600);
    assert.equal(code, 0);
    assert.match(running.stdout(), /"msg":"host stopped"/);
    assert.equal(running.stderr(), "");
  });

  it("keeps the operator token and the devices across a restart", async () => {
    // Prepare: a first run creates a device.
    const cwd = emptyDir();
    const first = await start(cwd, cleanEnv());
    const token = (first.running.stdout().match(/^Operator token: (\S+) /m) ?? [])[1];
    const created = await fetch(`${first.url}/api/iot/devices`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: JSON.stringify({ serialNumber: "SN-RESTART", model: "M", firmware: "1.0" }),
    });
    assert.equal(created.status, 201);
    assert.equal(await stop(first.running), 0);

    // Act
    const second = await start(cwd, cleanEnv());
    const list = await fetch(`${second.url}/api/iot/devices`, {
      headers: { authorization: `Bearer ${token}` },
    });
    const body = (await list.json()) as { items: { serialNumber: string }[] };
    const code = await stop(second.running);

    // Assess
    assert.match(second.running.stdout(), /^Operator token: stored in \.data\/operator-token$/m);
    assert.doesNotMatch(second.running.stdout(), new RegExp(token ?? "never"));
    assert.deepEqual(
      body.items.map((d) => d.serialNumber),
      ["SN-RESTART"],
    );
    assert.equal(code, 0);
  });

  it("refuses an invalid value with exit code 2, naming the key and the range, without a stack trace", async () => {
    const running = run(["--port", "0"], emptyDir(), cleanEnv({ IoT__MessageBus__LeaseSeconds: "2" }));

    const code = await running.exit();

    assert.equal(code, 2);
    assert.equal(
      running.stderr(),
      "granit-iot: invalid configuration, not starting:\n  IoT:MessageBus:LeaseSeconds: must be between 5 and 3600 (got 2)\n",
    );
    assert.equal(running.stdout(), "");
  });

  it("starts on PostgreSQL when DATABASE_URL is set", {
    skip: process.env.DATABASE_URL ? false : "DATABASE_URL is not set: PostgreSQL start skipped (PGlite ran)",
  }, async () => {
    const url = process.env.DATABASE_URL as string;
    const schema = `t_main_${randomBytes(4).toString("hex")}`;
    try {
      const { running, url: hostUrl } = await start(
        emptyDir(),
        cleanEnv({ DATABASE_URL: url, Database__Schema: schema }),
      );
      const ready = await fetch(`${hostUrl}/health/ready`);
      const code = await stop(running);

      assert.match(running.stdout(), new RegExp(`^Database: +PostgreSQL .* \\(schema ${schema}\\)$`, "m"));
      assert.equal(ready.status, 200);
      assert.equal(code, 0);
    } finally {
      const database = await Database.open({ url });
      await database.execute(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await database.close();
    }
  });
});
