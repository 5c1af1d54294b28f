/**
 * Chaos: 200 devices provisioned by a host process (bus + saga, no HTTP) that is SIGKILLed at random
 * moments 10 times and restarted, on PostgreSQL when DATABASE_URL is set, else on a PGlite data
 * directory. Afterwards all 200 hold exactly one thing, one ACTIVE certificate with the policy and a
 * matching secret; none is Failed, nothing is dead-lettered, the account holds no other certificate.
 */
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { type Emulator, startEmulator } from "@granit/aws-iot-emulator";
import { ThingName } from "@granit/iot-aws";
import { IOTAWS_MIGRATIONS } from "@granit/iot-aws-postgres";
import { devicePolicyDocument, ensureDevicePolicy, secretNameOf } from "@granit/iot-aws-provisioning";
import { Database, IOT_MIGRATIONS } from "@granit/iot-postgres";
import { assertProvisioned } from "./support/inventory.ts";
import { buildStack, POLICY_NAME, TENANT_A, TENANT_B } from "./support/stack.ts";

const DEVICES = 200;
const KILLS = 10;

function startHost(env: Record<string, string>): {
  child: ChildProcess;
  lines: string[];
  exited: Promise<void>;
} {
  const child = spawn(process.execPath, [join(import.meta.dirname, "support", "host-child.ts")], {
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "inherit"],
  });
  const lines: string[] = [];
  let buffer = "";
  child.stdout?.on("data", (chunk) => {
    buffer += chunk;
    const parts = buffer.split("\n");
    buffer = parts.pop() ?? "";
    lines.push(...parts);
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  return { child, lines, exited };
}

async function until(condition: () => boolean, what: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const onPostgres = Boolean(process.env.DATABASE_URL);

describe(`chaos: ${DEVICES} devices, host SIGKILLed ${KILLS} times (${onPostgres ? "PostgreSQL" : "PGlite data dir"})`, () => {
  let emulator: Emulator;
  const work = mkdtempSync(join(tmpdir(), "granit-chaos-"));
  const schema = `chaos_${Date.now().toString(36)}`;
  const location = onPostgres ? { url: process.env.DATABASE_URL, schema } : { dataDir: join(work, "pglite") };
  const env: Record<string, string> = {
    CHILD_DATABASE_URL: location.url ?? "",
    CHILD_SCHEMA: location.schema ?? "",
    CHILD_DATA_DIR: location.dataDir ?? "",
  };
  const devices: { id: string; thingName: string }[] = [];
  let kills = 0;
  /** Active bindings last reported by each killed host before the kill. */
  const activeAtKill: number[] = [];
  let final: Record<string, number> = {};

  before(async () => {
    emulator = await startEmulator({ port: 0, detachPropagationMs: 30 });
    env.CHILD_AWS = JSON.stringify(emulator.clientConfig());
    const database = await Database.open(location);
    await database.migrate(IOT_MIGRATIONS);
    await database.migrate(IOTAWS_MIGRATIONS);
    const seed = buildStack({ database, aws: emulator.clientConfig(), register: true });
    await seed.bus.start(); // registers the handlers' subscriptions, so the devices' events fan out
    await seed.bus.stop();
    await ensureDevicePolicy(
      { iot: seed.iot, callPolicy: seed.policy },
      POLICY_NAME,
      devicePolicyDocument({ region: emulator.region, accountId: emulator.accountId }),
    );
    for (let i = 0; i < DEVICES; i++) {
      const device = await seed.addDevice(
        `CHAOS-${String(i).padStart(3, "0")}`,
        i % 2 === 0 ? TENANT_A : TENANT_B,
      );
      devices.push({ id: device.id, thingName: ThingName.from(device.tenantId, device.serialNumber).value });
    }
    seed.iot.destroy();
    seed.secrets.destroy();
    await database.close();

    let active = 0;
    for (let round = 0; round < KILLS; round++) {
      const host = startHost(env);
      await until(() => host.lines.includes("ready"), "the host to start");
      // Kill mid-flight: once a random number (1–15) of further devices is Active (or after 8 s),
      // plus a random few milliseconds, so the kill lands between the steps of running sagas.
      const target = active + 1 + Math.floor(Math.random() * 15);
      const progress = () =>
        Number(
          host.lines
            .filter((l) => l.startsWith("progress "))
            .at(-1)
            ?.slice(9) ?? 0,
        );
      await until(() => progress() >= target, "progress", 8000).catch(() => {});
      await new Promise((resolve) => setTimeout(resolve, Math.random() * 200));
      host.child.kill("SIGKILL");
      await host.exited;
      kills += 1;
      active = Math.max(active, progress());
      activeAtKill.push(progress());
    }
    const last = startHost({ ...env, CHILD_EXPECT: String(DEVICES) });
    await last.exited;
    const done = last.lines.find((l) => l.startsWith("done "));
    assert.ok(done, `the last host finished: ${last.lines.join(" | ")}`);
    final = JSON.parse(done.slice(5));
  });

  after(async () => {
    if (onPostgres) {
      const database = await Database.open({ url: process.env.DATABASE_URL });
      await database.execute(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await database.close();
    }
    await emulator?.stop();
    rmSync(work, { recursive: true, force: true });
  });

  it(`ends with all ${DEVICES} devices provisioned exactly once and none Failed`, async () => {
    assert.equal(kills, KILLS);
    console.log(`# active bindings when each host was killed: ${activeAtKill.join(", ")}`);
    const advanced = activeAtKill.filter((n, i) => n > (activeAtKill[i - 1] ?? 0) && n < DEVICES).length;
    assert.ok(
      advanced >= KILLS / 2,
      `most kills hit a host that was provisioning (${activeAtKill.join(", ")})`,
    );
    assert.deepEqual(final, { active: DEVICES, failed: 0, deadLetters: 0 });
    const database = await Database.open(location);
    const check = buildStack({ database, aws: emulator.clientConfig() });
    try {
      const inventory = emulator.inventory();
      for (const device of devices) {
        const tenant = ThingName.parse(device.thingName).tenantId;
        assertProvisioned(inventory, await check.provisioning.describeBinding(device.id, tenant), {
          thingName: device.thingName,
          secretName: secretNameOf(check.options.secretNameTemplate, device.thingName),
          policyName: POLICY_NAME,
        });
      }
      assert.equal(inventory.certificates.length, DEVICES, "no other certificate in the account");
      assert.equal(inventory.things.length, DEVICES);
      assert.equal(inventory.secrets.length, DEVICES);
    } finally {
      check.iot.destroy();
      check.secrets.destroy();
      await database.close();
    }
  });
});
