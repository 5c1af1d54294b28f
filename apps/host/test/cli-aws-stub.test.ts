/**
 * `granit-iot policy print|ensure` against a STUB server that serves the documented shapes of the
 * device-policy endpoint (`GET /api/iot/aws/policy` → `{ policyName, document }`,
 * `POST /api/iot/aws/policy/ensure` → `{ policyName, created, matches }` as `ensureDevicePolicy`
 * answers), because no host route serves the policy yet. These tests pin the CLI side — requests
 * sent, output, exit codes — and are to be replaced by tests on the real route once it lands.
 */
import assert from "node:assert/strict";
import type { ServerResponse } from "node:http";
import { after, before, describe, it } from "node:test";
import { type CliResult, granitIot, removeTempDirs, startStubServer } from "./cli-fixtures/run-cli.ts";

const TOKEN = "stub-operator-token-0001";

const POLICY_DOCUMENT = {
  Version: "2012-10-17",
  Statement: [
    { Effect: "Allow", Action: "iot:Connect", Resource: "arn:aws:iot:us-east-1:000000000000:client/x" },
  ],
};

after(removeTempDirs);

describe("granit-iot policy (stub server: the host has no policy route yet)", () => {
  let stub: Awaited<ReturnType<typeof startStubServer>>;
  let ensureAnswer = { policyName: "granit-device", created: true, matches: true };

  const send = (response: ServerResponse, status: number, body: unknown) => {
    response
      .writeHead(status, { "content-type": status >= 400 ? "application/problem+json" : "application/json" })
      .end(JSON.stringify(body));
  };

  before(async () => {
    stub = await startStubServer((request, response) => {
      if (request.headers.authorization !== `Bearer ${TOKEN}`) {
        send(response, 401, {
          type: "urn:granit:iot:problem:unauthorized",
          title: "Authentication is required.",
          status: 401,
          detail: "The bearer token is not valid.",
          instance: request.url,
        });
      } else if (`${request.method} ${request.url}` === "GET /api/iot/aws/policy") {
        send(response, 200, { policyName: "granit-device", document: POLICY_DOCUMENT });
      } else if (`${request.method} ${request.url}` === "POST /api/iot/aws/policy/ensure") {
        send(response, 200, ensureAnswer);
      } else {
        send(response, 404, {
          type: "urn:granit:iot:problem:not-found",
          title: "The resource was not found.",
          status: 404,
          detail: `No route matches ${request.method} ${request.url}.`,
          instance: request.url,
        });
      }
    });
  });
  after(() => stub.close());

  const cli = (args: readonly string[]): Promise<CliResult> =>
    granitIot([...args, "--url", stub.url, "--token", TOKEN]);

  it("prints the device policy document as JSON on stdout, its name on stderr", async () => {
    const result = await cli(["policy", "print"]);

    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stderr, "Device policy granit-device:\n");
    assert.deepEqual(JSON.parse(result.stdout), POLICY_DOCUMENT);
  });

  it("says whether policy ensure created the policy, found it matching, or found it different", async () => {
    ensureAnswer = { policyName: "granit-device", created: true, matches: true };
    const created = await cli(["policy", "ensure"]);
    ensureAnswer = { policyName: "granit-device", created: false, matches: true };
    const matching = await cli(["policy", "ensure"]);
    ensureAnswer = { policyName: "granit-device", created: false, matches: false };
    const different = await cli(["policy", "ensure", "--json"]);

    assert.deepEqual([created.code, matching.code, different.code], [0, 0, 0]);
    assert.equal(created.stdout, "Created the device policy granit-device.\n");
    assert.equal(matching.stdout, "The device policy granit-device exists and matches.\n");
    assert.deepEqual(different.json(), ensureAnswer);
  });

  it("exits 4 when the stub refuses the token", async () => {
    const result = await granitIot(["reconcile", "--url", stub.url, "--token", "wrong-token-000000001"]);

    assert.equal(result.code, 4);
    assert.match(
      result.stderr,
      /^error: Authentication is required\. \(HTTP 401, POST \/api\/iot\/aws\/reconcile\)/,
    );
  });
});
