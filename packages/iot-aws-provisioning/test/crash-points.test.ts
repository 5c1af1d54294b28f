/**
 * The crash-safety proof, by experiment: the saga runs in a child process against this process's
 * emulator and a real database (a PGlite data directory, or a PostgreSQL schema when DATABASE_URL is
 * set), and SIGKILLs itself right after every AWS call (before its checkpoint commits) and right
 * after every checkpoint commit. The next child replays the saga. Afterwards every device must hold
 * exactly one thing, exactly one certificate (ACTIVE, attached, with the policy), one secret whose
 * key matches the certificate, and an Active binding — and the account no other certificate.
 *
 * Children run in a chain to keep the suite fast: each child first finishes the previous device
 * (the replay), then runs the next device until it crashes at that device's point.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { CreateSecretCommand } from "@aws-sdk/client-secrets-manager";
import { type Emulator, startEmulator } from "@granit/aws-iot-emulator";
import { ThingName } from "@granit/iot-aws";
import { IOTAWS_MIGRATIONS } from "@granit/iot-aws-postgres";
import {
  CRASH_AT_ENV,
  CRASH_POINTS,
  type CrashPointName,
  devicePolicyDocument,
  ensureDevicePolicy,
  secretNameOf,
} from "@granit/iot-aws-provisioning";
import { Database, IOT_MIGRATIONS } from "@granit/iot-postgres";
import { databaseTargets } from "@granit/iot-postgres/testing";
import { assertProvisioned } from "./support/inventory.ts";
import { buildStack, POLICY_NAME, TENANT_A } from "./support/stack.ts";

interface Scenario {
  readonly name: string;
  /** One crash per run, in order; then a final replay without crash. */
  readonly crashes: readonly CrashPointName[];
  /** A secret of an earlier device already holds the name (PutSecretValue path). */
  readonly leftoverSecret?: boolean;
}

const SINGLE: readonly CrashPointName[] = CRASH_POINTS.filter(
  (p) => !p.startsWith("decommission:") && p !== "certificate:after-adopt",
);

const SCENARIOS: readonly Scenario[] = [
  ...SINGLE.map((point) => ({ name: `a crash at ${point}`, crashes: [point] })),
  {
    name: "a crash after CreateCertificateFromCsr, then a crash right after adopting that certificate",
    crashes: ["certificate:after-create", "certificate:after-adopt"],
  },
  {
    name: "a crash after CreateCertificateFromCsr, then after attaching the adopted certificate",
    crashes: ["certificate:after-create", "certificate:before-checkpoint"],
  },
  {
    name: "three crashes in a row (after the intent, after CreateCertificateFromCsr, after AttachPolicy)",
    crashes: ["certificate:after-intent", "certificate:after-create", "activate:after-attach-policy"],
  },
  {
    name: "a crash after PutSecretValue over a leftover secret of an earlier device",
    crashes: ["key:before-checkpoint"],
    leftoverSecret: true,
  },
];

interface PlannedRun {
  readonly scenario: number;
  readonly deviceId: string;
  readonly crash: CrashPointName | null;
}

interface ChildResult {
  readonly signal: NodeJS.Signals | null;
  readonly code: number | null;
  readonly lines: Record<string, unknown>[];
  readonly stderr: string;
}

function runChild(env: Record<string, string>): Promise<ChildResult> {
  const script = join(import.meta.dirname, "support", "saga-child.ts");
  const child = spawn(process.execPath, [script], {
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk) => {
    stdout += chunk;
  });
  child.stderr.on("data", (chunk) => {
    stderr += chunk;
  });
  return new Promise((resolve) => {
    child.once("exit", (code, signal) =>
      resolve({
        code,
        signal,
        stderr,
        lines: stdout
          .split("\n")
          .filter(Boolean)
          .map((line) => JSON.parse(line) as Record<string, unknown>),
      }),
    );
  });
}

let emulator: Emulator;
before(async () => {
  emulator = await startEmulator({ port: 0, detachPropagationMs: 30 });
});
after(() => emulator.stop());

for (const target of databaseTargets()) {
  describe(`crash points on ${target.name} (child processes, SIGKILL)`, { skip: target.skip }, () => {
    const work = mkdtempSync(join(tmpdir(), "granit-crash-"));
    const schema = `crash_${Date.now().toString(36)}`;
    const location =
      target.name === "postgres"
        ? { url: process.env.DATABASE_URL, schema }
        : { dataDir: join(work, "pglite") };
    const childEnv: Record<string, string> = {
      CHILD_DATABASE_URL: location.url ?? "",
      CHILD_SCHEMA: location.schema ?? "",
      CHILD_DATA_DIR: location.dataDir ?? "",
    };
    const deviceIds: string[] = [];
    const thingNames: string[] = [];
    const problems = new Map<number, string[]>();
    let children = 0;
    let verified: { inventory: ReturnType<Emulator["inventory"]>; views: unknown[] } | undefined;

    before(async () => {
      emulator.reset();
      childEnv.CHILD_AWS = JSON.stringify(emulator.clientConfig());
      const database = await Database.open(location);
      await database.migrate(IOT_MIGRATIONS);
      await database.migrate(IOTAWS_MIGRATIONS);
      const stack = buildStack({ database, aws: emulator.clientConfig() });
      await ensureDevicePolicy(
        { iot: stack.iot, callPolicy: stack.policy },
        POLICY_NAME,
        devicePolicyDocument({ region: emulator.region, accountId: emulator.accountId }),
      );
      for (const [index, scenario] of SCENARIOS.entries()) {
        const device = await stack.addDevice(`CRASH-${index}`);
        deviceIds.push(device.id);
        const thingName = ThingName.from(device.tenantId, device.serialNumber).value;
        thingNames.push(thingName);
        if (scenario.leftoverSecret) {
          await stack.secrets.send(
            new CreateSecretCommand({
              Name: secretNameOf(stack.options.secretNameTemplate, thingName),
              SecretString: '{"device":"an earlier one"}',
            }),
          );
        }
      }
      stack.iot.destroy();
      stack.secrets.destroy();
      await database.close();

      const plan: PlannedRun[] = SCENARIOS.flatMap((scenario, index) => [
        ...scenario.crashes.map((crash) => ({
          scenario: index,
          deviceId: deviceIds[index] as string,
          crash,
        })),
        { scenario: index, deviceId: deviceIds[index] as string, crash: null },
      ]);
      const note = (run: PlannedRun, problem: string) =>
        problems.set(run.scenario, [...(problems.get(run.scenario) ?? []), problem]);
      for (let next = 0; next < plan.length; ) {
        const end = plan.findIndex((run, i) => i >= next && run.crash !== null);
        const slice = plan.slice(next, end === -1 ? plan.length : end + 1);
        const crashing = end === -1 ? null : (plan[end] as PlannedRun);
        const result = await runChild({
          ...childEnv,
          CHILD_RUNS: JSON.stringify(slice.map((r) => ({ deviceId: r.deviceId, action: "provision" }))),
          [CRASH_AT_ENV]: crashing ? `${crashing.crash}@${crashing.deviceId}` : "",
        });
        children += 1;
        for (const [i, run] of slice.entries()) {
          const line = result.lines[i];
          if (run === crashing) {
            if (line)
              note(
                run,
                `the crash at ${run.crash} was never reached (the run ended: ${JSON.stringify(line)})`,
              );
            if (result.signal !== "SIGKILL")
              note(
                run,
                `child ended with ${result.code}/${result.signal}, not SIGKILL: ${result.stderr.slice(0, 500)}`,
              );
          } else if (!line || (line.outcome !== "activated" && line.outcome !== "already-active")) {
            note(run, `replay did not finish: ${JSON.stringify(line)} ${result.stderr.slice(0, 500)}`);
          }
        }
        next += slice.length;
      }

      const reopened = await Database.open(location);
      const check = buildStack({ database: reopened, aws: emulator.clientConfig() });
      const views = [];
      for (const deviceId of deviceIds)
        views.push(await check.provisioning.describeBinding(deviceId, TENANT_A));
      verified = { inventory: emulator.inventory(), views };
      check.iot.destroy();
      check.secrets.destroy();
      if (target.name === "postgres") await reopened.execute(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await reopened.close();
    });
    after(() => rmSync(work, { recursive: true, force: true }));

    for (const [index, scenario] of SCENARIOS.entries()) {
      it(`replays ${scenario.name} into one thing, one ACTIVE certificate and a matching secret`, () => {
        assert.deepEqual(problems.get(index) ?? [], []);
        assert.ok(verified);
        const thingName = thingNames[index] as string;
        assertProvisioned(verified.inventory, verified.views[index] as never, {
          thingName,
          secretName: secretNameOf("iot/devices/{thingName}/key", thingName),
          policyName: POLICY_NAME,
        });
      });
    }

    it("leaves no other certificate in the account and no Failed binding", () => {
      assert.ok(verified);
      assert.equal(verified.inventory.certificates.length, SCENARIOS.length);
      assert.ok(verified.views.every((v) => (v as { status: string }).status === "Active"));
      assert.ok(children >= SCENARIOS.length, `${children} child processes`);
    });
  });
}
