/**
 * `npm start` and AWS, end to end: `src/main.ts` as a child process. With nothing configured it runs
 * on its in-process emulator (first line), keeps that emulator's account across a restart and runs a
 * simulated fleet; with `AWS_ENDPOINT_URL` it talks to that endpoint instead (here: an emulator the
 * test runs apart, standing in for an account); and it refuses what an AWS account cannot do.
 * (`scripts/e2e-new-user.sh` runs the same loop with 20 devices on a fresh clone, through the CLI.)
 */
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { startEmulator } from "@granit/aws-iot-emulator";
import {
  cleanEnv as hostEnv,
  type RunningHost as Running,
  runHost,
  tempDirs,
} from "./support/host-process.ts";

/** Generous bound so a hung child fails the test instead of hanging the run; never a timing assertion. */
const PATIENCE_MS = 180_000;
const MASTER_KEY = Buffer.alloc(32, 5).toString("base64");
const emptyDir = tempDirs("granit-main-aws-");
/** The clean environment (no AWS of the runner's), with the in-process emulator on a free port. */
const cleanEnv = (extra: Record<string, string> = {}) => hostEnv({ IoT__Aws__Emulator__Port: "0", ...extra });
const run = (args: readonly string[], cwd: string, env: NodeJS.ProcessEnv) =>
  runHost(["--port", "0", ...args], { cwd, env, patienceMs: PATIENCE_MS });

async function start(cwd: string, env: NodeJS.ProcessEnv, args: readonly string[] = []) {
  const running = run(args, cwd, env);
  const url = (await running.waitFor(/^Granit IoT host listening on (http:\/\/\S+)$/m))[1] as string;
  await running.waitFor(/^Try: .*$/m);
  return { running, url };
}

async function stop(running: Running): Promise<number | null> {
  running.child.kill("SIGTERM");
  return running.exit();
}

/** Polls `probe` until it answers something truthy (generous bound; never a timing assertion). */
async function eventually<T>(what: string, probe: () => Promise<T | null | undefined | false>): Promise<T> {
  const deadline = Date.now() + PATIENCE_MS;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`${what}: not reached within ${PATIENCE_MS} ms`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

const api = async (url: string, token: string, method: string, path: string, body?: unknown) => {
  const response = await fetch(`${url}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body === undefined ? {} : { "content-type": "application/json" }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  // biome-ignore lint/suspicious/noExplicitAny: test reads arbitrary JSON.
  return { status: response.status, body: (text ? JSON.parse(text) : undefined) as any };
};

describe("npm start with the AWS bridge (src/main.ts as a child process)", () => {
  it("runs a simulated fleet on its in-process emulator, says so first, and keeps the emulator's account across a restart", async () => {
    // Prepare + Act: a first run with two simulated devices.
    const cwd = emptyDir();
    const first = await start(cwd, cleanEnv(), ["--simulate-devices", "2"]);
    const out = first.running.stdout();
    const emulatorUrl = (out.match(/^AWS: +in-process emulator at (http:\/\/\S+) \(no AWS account used/) ??
      [])[1];
    const token = readFileSync(join(cwd, ".data", "operator-token"), "utf8").trim();
    const devices = await eventually("two simulated devices Active", async () => {
      const list = await api(first.url, token, "GET", "/api/iot/devices");
      const active = list.body.items.filter((d: { status: string }) => d.status === "Active");
      return active.length === 2 ? active : null;
    });
    const binding = await api(first.url, token, "GET", `/api/iot/aws/bindings/${devices[0].id}`);
    const desired = await api(first.url, token, "PUT", `/api/iot/devices/${devices[0].id}/shadow/desired`, {
      firmware: "2.0.0",
    });
    const command = await eventually("the simulated device completed the firmware job", async () => {
      const list = await api(first.url, token, "GET", `/api/iot/devices/${devices[0].id}/commands`);
      const found = list.body.items?.find(
        (c: { operation: string }) => c.operation === "shadow.applyDesiredState",
      );
      return found?.status === "Succeeded" ? found : null;
    });
    const upgraded = await api(first.url, token, "GET", `/api/iot/devices/${devices[0].id}`);
    const shadow = await api(first.url, token, "GET", `/api/iot/devices/${devices[0].id}/shadow`);
    const metrics = await (await fetch(`${first.url}/metrics`)).text();
    assert.equal(await stop(first.running), 0);
    const second = await start(cwd, cleanEnv(), ["--simulate-devices", "2"]);
    const secondEmulator = (second.running.stdout().match(/^AWS: +in-process emulator at (http:\/\/\S+)/) ??
      [])[1];
    const inventory = (await (await fetch(`${secondEmulator}/_emulator/inventory`)).json()) as {
      things: { name: string }[];
    };
    const listed = await api(second.url, token, "GET", "/api/iot/devices");
    const code = await stop(second.running);

    // Assess
    assert.ok(emulatorUrl, `the first line names the emulator:\n${out}`);
    assert.equal(out.split("\n")[0], out.match(/^AWS: .*$/m)?.[0], "the AWS line is the first line printed");
    assert.match(
      out,
      /^Simulation: +2 devices SIM-0001…SIM-0002 against the emulator; shadow deltas polled every 5 s, job status every 15 s/m,
    );
    assert.match(out, /^Device policy: +granit-device-policy \(created when absent\)$/m);
    assert.match(
      out,
      /^Fleet: +http:\/\/\S+\/api\/iot\/fleet-provisioning\/verify and \/registered \(master key generated into \.data\/fleet-master-key\)$/m,
    );
    assert.deepEqual(devices.map((d: { serialNumber: string }) => d.serialNumber).sort(), [
      "SIM-0001",
      "SIM-0002",
    ]);
    assert.equal(binding.body.status, "Active");
    assert.equal(desired.status, 200);
    assert.deepEqual(command.parameters, { firmware: "2.0.0" });
    assert.equal(command.executionStatus, "SUCCEEDED");
    assert.equal(
      upgraded.body.firmware,
      "2.0.0",
      "the simulated device's firmware report reached the device",
    );
    assert.equal(shadow.body.reported.firmware, "2.0.0");
    assert.deepEqual(shadow.body.delta, {});
    assert.match(metrics, /^granit_iot_aws_binding_activated_total\{.*tenant_id="host"/m);
    assert.ok(existsSync(join(cwd, ".data", "emulator-state.json")));
    assert.match(second.running.stdout(), /^Fleet: .*\(master key in \.data\/fleet-master-key\)$/m);
    assert.deepEqual(
      inventory.things.map((t) => t.name).sort(),
      ["t00000000000000000000000000000000-SIM-0001", "t00000000000000000000000000000000-SIM-0002"],
      "the things survived the restart",
    );
    assert.equal(listed.body.items.length, 2, "the simulated devices are reused, not created again");
    assert.equal(code, 0);
    assert.equal(first.running.stderr() + second.running.stderr(), "");
  });

  it("talks to the endpoint AWS_ENDPOINT_URL names instead of starting its own emulator", async () => {
    // Prepare: an emulator run apart stands in for the AWS account.
    const account = await startEmulator({ port: 0, detachPropagationMs: 10 });
    const cwd = emptyDir();
    try {
      // Act
      const { running, url } = await start(
        cwd,
        cleanEnv({
          AWS_ENDPOINT_URL: account.url,
          AWS_REGION: "us-east-1",
          AWS_ACCESS_KEY_ID: "AKIAEXTERNAL00000001",
          AWS_SECRET_ACCESS_KEY: "external",
          IoT__Aws__Provisioning__DevicePolicyName: "acme-device-policy",
          IoT__Aws__FleetProvisioning__MasterKey: MASTER_KEY,
          IoT__Aws__AccountId: account.accountId,
        }),
      );
      const token = readFileSync(join(cwd, ".data", "operator-token"), "utf8").trim();
      const ensured = await api(url, token, "POST", "/api/iot/aws/policy/ensure");
      const created = await api(url, token, "POST", "/api/iot/devices", {
        serialNumber: "EXT-0001",
        model: "GW-100",
        firmware: "1.0.0",
      });
      const binding = await eventually("an Active binding", async () => {
        const read = await api(url, token, "GET", `/api/iot/aws/bindings/${created.body.id}`);
        return read.body?.status === "Active" ? read.body : null;
      });
      const code = await stop(running);

      // Assess
      assert.equal(
        running.stdout().split("\n")[0],
        `AWS:            account via endpoint ${account.url}, region us-east-1 (AWS_ENDPOINT_URL* is set)`,
      );
      assert.doesNotMatch(running.stdout(), /in-process emulator|^Simulation:/m);
      assert.match(running.stdout(), /^Device policy: +acme-device-policy$/m);
      assert.match(running.stdout(), /^Fleet: .*\(master key from IoT:Aws:FleetProvisioning:MasterKey\)$/m);
      assert.deepEqual(ensured.body, { policyName: "acme-device-policy", created: true, matches: true });
      assert.equal(binding.thingName, "t00000000000000000000000000000000-EXT-0001");
      assert.deepEqual(
        account.inventory().things.map((t) => t.name),
        ["t00000000000000000000000000000000-EXT-0001"],
      );
      assert.ok(
        account.calls().every((c) => c.accessKeyId === "AKIAEXTERNAL00000001"),
        "signed with the environment's credentials",
      );
      assert.ok(!existsSync(join(cwd, ".data", "emulator-state.json")), "no emulator of its own");
      assert.equal(code, 0);
    } finally {
      await account.stop();
    }
  });

  it("refuses --simulate-devices against an AWS account, with exit code 2 and the reason", async () => {
    const running = run(
      ["--simulate-devices", "5"],
      emptyDir(),
      cleanEnv({ AWS_REGION: "eu-west-1", AWS_ACCESS_KEY_ID: "AKIA0000000000000000" }),
    );

    const code = await running.exit();

    assert.equal(code, 2);
    assert.equal(
      running.stderr(),
      "granit-iot: invalid configuration, not starting:\n" +
        "  IoT:Aws:Simulation:Devices (--simulate-devices): simulated devices run only against the in-process emulator, " +
        "and this host talks to an AWS account (AWS_ACCESS_KEY_ID is set); unset it, or set IoT:Aws:Target=Emulator\n",
    );
    assert.equal(running.stdout(), "");
  });

  it("against an AWS account, stops naming DevicePolicyName, then MasterKey, when they are missing", async () => {
    const account = { AWS_REGION: "eu-west-1", AWS_ACCESS_KEY_ID: "AKIA0000000000000000" };

    const noPolicy = run([], emptyDir(), cleanEnv(account));
    const noPolicyCode = await noPolicy.exit();
    const noKey = run(
      [],
      emptyDir(),
      cleanEnv({
        ...account,
        IoT__Aws__Provisioning__DevicePolicyName: "acme",
        IoT__Aws__AccountId: "123456789012",
      }),
    );
    const noKeyCode = await noKey.exit();

    assert.equal(noPolicyCode, 2);
    assert.match(
      noPolicy.stderr(),
      /^granit-iot: invalid configuration, not starting:\n {2}IoT:Aws:Provisioning:DevicePolicyName: is required/,
    );
    assert.equal(noKeyCode, 2);
    assert.match(
      noKey.stderr(),
      /^granit-iot: invalid configuration, not starting:\n {2}IoT:Aws:FleetProvisioning:MasterKey: is required to encrypt and verify fleet keys/,
    );
    assert.match(noKey.stdout(), /^AWS: +account via region eu-west-1 \(AWS_ACCESS_KEY_ID is set\)$/m);
  });
});
