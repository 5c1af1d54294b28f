/**
 * The device policy against the topics and actions devices use with the shadow and jobs bridges:
 * a small evaluator of IoT policy statements (Allow, `*` wildcards, the thing-name variable, the
 * IsAttached condition) checks that a device may use its own shadow and jobs topics and nothing of
 * another device. Besides AWS's documented device topics, the `$aws/things/...` topics and the
 * data-plane commands found in the sources of the shadow and jobs packages are checked (read as
 * text: bridge packages never import each other).
 */
import assert from "node:assert/strict";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import {
  type DevicePolicyDocument,
  devicePolicyDocument,
  THING_NAME_VARIABLE,
} from "@granit/iot-aws-provisioning";

const ARN = "arn:aws:iot:eu-west-1:123456789012";
const THING = "t11111111222233334444555555555555-SN-001";
const OTHER = "t11111111222233334444555555555555-SN-002";
const document = devicePolicyDocument({ region: "eu-west-1", accountId: "123456789012" });

function glob(pattern: string, value: string): boolean {
  const regex = new RegExp(
    `^${pattern
      .replace(/[.+^$()|[\]\\{}]/g, "\\$&")
      .replace(/\*/g, ".*")
      .replace(/\?/g, ".")}$`,
  );
  return regex.test(value);
}

/** Whether `doc` lets a connection of `thingName` do `action` on `resource` (Allow statements only). */
function allows(
  doc: DevicePolicyDocument,
  action: string,
  resource: string,
  connection: { thingName: string; attached?: boolean },
): boolean {
  return doc.Statement.some((statement) => {
    if (statement.Effect !== "Allow") return false;
    const actions = [statement.Action].flat();
    if (!actions.some((a) => glob(a, action))) return false;
    const attached = statement.Condition?.Bool?.["iot:Connection.Thing.IsAttached"];
    if (attached === "true" && connection.attached === false) return false;
    return [statement.Resource]
      .flat()
      .some((r) => glob(r.split(THING_NAME_VARIABLE).join(connection.thingName), resource));
  });
}

const topic = (t: string) => `${ARN}:topic/${t}`;
const filter = (t: string) => `${ARN}:topicfilter/${t}`;

/** Device-side MQTT topics of the shadow and jobs services (AWS developer guide). */
function documentedTopics(thing: string): { publish: string[]; subscribe: string[] } {
  const shadow = (prefix: string) => ({
    publish: ["update", "get", "delete"].map((op) => `${prefix}/${op}`),
    subscribe: [
      "update/accepted",
      "update/rejected",
      "update/delta",
      "update/documents",
      "get/accepted",
      "get/rejected",
      "delete/accepted",
      "delete/rejected",
    ].map((s) => `${prefix}/${s}`),
  });
  const classic = shadow(`$aws/things/${thing}/shadow`);
  const named = shadow(`$aws/things/${thing}/shadow/name/config`);
  const jobs = `$aws/things/${thing}/jobs`;
  return {
    publish: [
      ...classic.publish,
      ...named.publish,
      `${jobs}/get`,
      `${jobs}/start-next`,
      `${jobs}/job-1/get`,
      `${jobs}/job-1/update`,
    ],
    subscribe: [
      ...classic.subscribe,
      ...named.subscribe,
      `${jobs}/notify`,
      `${jobs}/notify-next`,
      `${jobs}/get/accepted`,
      `${jobs}/start-next/accepted`,
      `${jobs}/job-1/update/accepted`,
      `${jobs}/job-1/get/rejected`,
    ],
  };
}

function sourcesOf(pkg: string): string {
  const dir = join(import.meta.dirname, "..", "..", pkg, "src");
  const files: string[] = [];
  const walk = (d: string) => {
    for (const entry of readdirSync(d)) {
      const path = join(d, entry);
      if (statSync(path).isDirectory()) walk(path);
      else if (path.endsWith(".ts")) files.push(readFileSync(path, "utf8"));
    }
  };
  try {
    walk(dir);
  } catch {
    return "";
  }
  return files.join("\n");
}

/** `$aws/things/...` topics mentioned in a package's sources, as the device `thing` would use them. */
function topicsIn(source: string, thing: string): string[] {
  const found = source.match(/\$aws\/things\/[A-Za-z0-9_{}+$/:#.-]+/g) ?? [];
  return [...new Set(found)].map((t) =>
    t
      .replace(/\/$/, "")
      .replace(/\$aws\/things\/(\+|\{[A-Za-z]+\}|\$\{[A-Za-z]+\})/, `$aws/things/${thing}`)
      .replace(/\{[A-Za-z]+\}/g, "x"),
  );
}

/** Data-plane commands a package sends (`XCommand` of the iot-data-plane and jobs data-plane SDKs). */
function dataPlaneActions(source: string): string[] {
  const jobs = [
    ...source.matchAll(
      /\b(StartNextPendingJobExecution|UpdateJobExecution|GetPendingJobExecutions|DescribeJobExecution)Command\b/g,
    ),
  ];
  const shadow = [...source.matchAll(/\b(GetThingShadow|UpdateThingShadow|DeleteThingShadow)Command\b/g)];
  return [...new Set([...jobs.map((m) => `iotjobsdata:${m[1]}`), ...shadow.map((m) => `iot:${m[1]}`)])];
}

describe("the device policy", () => {
  it("lets a device connect only as its own thing, and only with the certificate attached to it", () => {
    assert.ok(allows(document, "iot:Connect", `${ARN}:client/${THING}`, { thingName: THING }));
    assert.ok(!allows(document, "iot:Connect", `${ARN}:client/${OTHER}`, { thingName: THING }));
    assert.ok(
      !allows(document, "iot:Connect", `${ARN}:client/${THING}`, { thingName: THING, attached: false }),
    );
  });

  it("lets a device use its own shadow and jobs topics (classic and named shadows)", () => {
    const { publish, subscribe } = documentedTopics(THING);
    for (const t of publish) assert.ok(allows(document, "iot:Publish", topic(t), { thingName: THING }), t);
    for (const t of subscribe) {
      assert.ok(allows(document, "iot:Subscribe", filter(t), { thingName: THING }), t);
      assert.ok(allows(document, "iot:Receive", topic(t), { thingName: THING }), t);
    }
  });

  it("refuses every topic of another device, and topics outside shadow and jobs", () => {
    const { publish, subscribe } = documentedTopics(OTHER);
    for (const t of publish) assert.ok(!allows(document, "iot:Publish", topic(t), { thingName: THING }), t);
    for (const t of subscribe)
      assert.ok(!allows(document, "iot:Subscribe", filter(t), { thingName: THING }), t);
    assert.ok(
      !allows(document, "iot:Subscribe", filter("$aws/things/+/shadow/update/delta"), { thingName: THING }),
    );
    assert.ok(
      !allows(document, "iot:Publish", topic(`$aws/things/${THING}/tunnels/notify`), { thingName: THING }),
    );
    assert.ok(!allows(document, "iot:Publish", topic("telemetry/anything"), { thingName: THING }));
  });

  it("covers every topic and data-plane action the shadow and jobs packages use, for the device's own thing", () => {
    const sources = sourcesOf("iot-aws-shadow") + sourcesOf("iot-aws-jobs");
    const topics = topicsIn(sources, THING);
    const actions = dataPlaneActions(sources);
    console.log(
      `# checked ${topics.length} topics and ${actions.length} data-plane actions from the shadow and jobs packages`,
    );
    for (const t of topics) {
      assert.ok(allows(document, "iot:Subscribe", filter(t), { thingName: THING }), t);
      assert.ok(allows(document, "iot:Receive", topic(t), { thingName: THING }), t);
    }
    for (const action of actions) {
      assert.ok(allows(document, action, `${ARN}:thing/${THING}`, { thingName: THING }), action);
      assert.ok(!allows(document, action, `${ARN}:thing/${OTHER}`, { thingName: THING }), action);
    }
  });

  it("fits AWS's policy size limit (2048 characters without whitespace)", () => {
    assert.ok(JSON.stringify(document).replace(/\s/g, "").length <= 2048);
  });

  it("names the partition, region and account in every resource", () => {
    const cn = devicePolicyDocument({ partition: "aws-cn", region: "cn-north-1", accountId: "123456789012" });
    const resources = cn.Statement.flatMap((s) => [s.Resource].flat());
    assert.ok(resources.every((r) => r.startsWith("arn:aws-cn:iot:cn-north-1:123456789012:")));
  });
});

describe("ensureDevicePolicy against the emulator", () => {
  it("creates the policy when absent, then leaves it alone and says whether it matches", async () => {
    const { startEmulator } = await import("@granit/aws-iot-emulator");
    const { IoTClient } = await import("@aws-sdk/client-iot");
    const { AwsCallPolicy } = await import("@granit/iot-aws");
    const { ensureDevicePolicy } = await import("@granit/iot-aws-provisioning");
    const emulator = await startEmulator({ port: 0 });
    const iot = new IoTClient({ ...emulator.clientConfig(), maxAttempts: 1 });
    try {
      const aws = { iot, callPolicy: new AwsCallPolicy() };
      const doc = devicePolicyDocument({ region: emulator.region, accountId: emulator.accountId });

      assert.deepEqual(await ensureDevicePolicy(aws, "granit-device", doc), {
        policyName: "granit-device",
        created: true,
        matches: true,
      });
      assert.deepEqual(await ensureDevicePolicy(aws, "granit-device", doc), {
        policyName: "granit-device",
        created: false,
        matches: true,
      });
      const other = devicePolicyDocument({ region: "eu-west-1", accountId: "999999999999" });
      assert.equal((await ensureDevicePolicy(aws, "granit-device", other)).matches, false);
      assert.equal(emulator.callCounts()["iot:CreatePolicy"], 1);
      assert.deepEqual(JSON.parse(emulator.inventory().policies[0]?.document ?? "{}"), doc);
    } finally {
      iot.destroy();
      await emulator.stop();
    }
  });
});
