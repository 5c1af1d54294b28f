/**
 * `granit-iot policy print|ensure` against the real device-policy routes (`GET /api/iot/aws/policy`,
 * `POST /api/iot/aws/policy/ensure`) of a host with the AWS bridge wired as `npm start` wires it,
 * over the emulator — run as a child process: output, `--json`, exit codes, and the policy in AWS.
 * (Replaces the stub-server tests written before the routes existed.)
 */
import "../src/telemetry/meter-provider.ts";

import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { CreatePolicyCommand, IoTClient } from "@aws-sdk/client-iot";
import { devicePolicyDocument } from "@granit/iot-aws-provisioning";
import { databaseTargets } from "@granit/iot-postgres/testing";
import { type CliResult, granitIot, removeTempDirs } from "./cli-fixtures/run-cli.ts";
import { type AwsTestHost, DEVICE_POLICY, startAwsTestHost } from "./support/aws-test-host.ts";
import { TOKENS } from "./support/test-host.ts";

after(removeTempDirs);

for (const target of databaseTargets()) {
  describe(`granit-iot policy on the real routes (${target.name})`, { skip: target.skip }, () => {
    let aws: AwsTestHost;

    before(async () => {
      aws = await startAwsTestHost(target, { ensureDevicePolicy: false });
    });
    after(() => aws?.dispose());

    const cli = (args: readonly string[], token: string = TOKENS.operator): Promise<CliResult> =>
      granitIot([...args, "--url", aws.t.host.url, "--token", token]);
    const expected = () =>
      devicePolicyDocument({ region: aws.emulator.region, accountId: aws.emulator.accountId });
    const policiesInAws = () => aws.emulator.inventory().policies.filter((p) => p.name === DEVICE_POLICY);

    it("prints the expected device policy document as JSON on stdout, its name on stderr", async () => {
      const human = await cli(["policy", "print"], TOKENS.tenantAReader);
      const json = await cli(["policy", "print", "--json"]);

      assert.equal(human.code, 0, human.stderr);
      assert.equal(human.stderr, `Device policy ${DEVICE_POLICY}:\n`);
      assert.deepEqual(JSON.parse(human.stdout), expected());
      assert.deepEqual(json.json(), { policyName: DEVICE_POLICY, document: expected() });
    });

    it("creates the policy in AWS once, then finds it matching", async () => {
      aws.emulator.reset();

      const created = await cli(["policy", "ensure"]);
      const again = await cli(["policy", "ensure", "--json"]);

      assert.equal(created.code, 0, created.stderr);
      assert.equal(created.stdout, `Created the device policy ${DEVICE_POLICY}.\n`);
      assert.equal(again.code, 0, again.stderr);
      assert.deepEqual(again.json(), { policyName: DEVICE_POLICY, created: false, matches: true });
      const [policy] = policiesInAws();
      assert.ok(policy);
      assert.deepEqual(JSON.parse(policy.document), expected());
      assert.equal(policiesInAws().length, 1);
    });

    it("says when an existing policy differs, and leaves it untouched", async () => {
      aws.emulator.reset();
      const iot = new IoTClient({ ...aws.emulator.clientConfig(), maxAttempts: 1 });
      const foreign = JSON.stringify({
        Version: "2012-10-17",
        Statement: [{ Effect: "Allow", Action: "iot:Connect", Resource: "*" }],
      });
      await iot.send(new CreatePolicyCommand({ policyName: DEVICE_POLICY, policyDocument: foreign }));
      iot.destroy();

      const result = await cli(["policy", "ensure"]);

      assert.equal(result.code, 0, result.stderr);
      assert.equal(
        result.stdout,
        `The device policy ${DEVICE_POLICY} exists but differs from the expected document (left untouched; compare with 'policy print').\n`,
      );
      assert.deepEqual(JSON.parse(policiesInAws()[0]?.document ?? "{}"), JSON.parse(foreign));
    });

    it("refuses a tenant's token for the account-wide policy (exit 4) and creates nothing", async () => {
      aws.emulator.reset();

      const tenant = await cli(["policy", "ensure"], TOKENS.tenantA);
      const reader = await cli(["policy", "ensure"], TOKENS.tenantAReader);
      const wrong = await cli(["policy", "print"], "wrong-token-000000000001");

      assert.equal(tenant.code, 4);
      assert.match(
        tenant.stderr,
        /^error: .*\(HTTP 403, POST \/api\/iot\/aws\/policy\/ensure\)\n {2}The device policy is account-wide: only a host-operator token/,
      );
      assert.equal(reader.code, 4);
      assert.equal(wrong.code, 4);
      assert.match(wrong.stderr, /HTTP 401, GET \/api\/iot\/aws\/policy/);
      assert.deepEqual(policiesInAws(), []);
    });
  });
}
