/**
 * `granit-iot bindings ...`, `reconcile` and `policy ...` against a STUB server that serves the
 * documented shapes of routes not yet in the host (`src/aws/provisioning-routes.ts`: binding view,
 * retry, reconcile report; the device-policy endpoint). These tests pin the CLI side — requests
 * sent, output, exit codes — and are to be replaced by tests on the real routes once they land.
 */
import assert from "node:assert/strict";
import type { IncomingMessage, ServerResponse } from "node:http";
import { after, before, describe, it } from "node:test";
import { type CliResult, granitIot, removeTempDirs, startStubServer } from "./cli-fixtures/run-cli.ts";

const TOKEN = "stub-operator-token-0001";
const FAILED_DEVICE = "0194a5e0-1111-7111-8111-111111111111";
const ACTIVE_DEVICE = "0194a5e0-2222-7222-8222-222222222222";
const THING = "t0194a5e0aaaa7aaa8aaaaaaaaaaaaaaa-GW-0001";

function binding(deviceId: string, status: string, failure: { reason: string; from: string } | null) {
  return {
    deviceId,
    bindingId: "0194a5e0-9999-7999-8999-999999999999",
    tenantId: null,
    thingName: THING,
    status,
    failureReason: failure?.reason ?? null,
    failedFromStatus: failure?.from ?? null,
    thingArn: `arn:aws:iot:us-east-1:000000000000:thing/${THING}`,
    certificateArn: null,
    certificateSecretArn: "arn:aws:secretsmanager:us-east-1:000000000000:secret:granit/iot/x-AbCdEf",
    certificateRequestedAt: null,
    provisionedViaJitp: false,
    createdAt: "2026-03-01T08:00:00.000Z",
    modifiedAt: "2026-03-01T08:01:00.000Z",
    version: 4,
  };
}

const ZERO = {
  thingsWithoutBinding: 0,
  bindingsMissingThing: 0,
  bindingsMissingCertificate: 0,
  bindingsMissingSecret: 0,
  orphanCertificates: 0,
  unattachedCertificates: 0,
};

function report(repair: Record<string, boolean> | undefined) {
  const repaired = repair?.orphanCertificates === true;
  return {
    startedAt: "2026-03-01T08:00:00.000Z",
    finishedAt: "2026-03-01T08:00:02.000Z",
    scanned: { bindings: 12, things: 13, certificates: 14 },
    tenants: [
      {
        tenantId: null,
        counts: { ...ZERO, orphanCertificates: 1 },
        items: [
          {
            kind: "orphanCertificates",
            tenantId: null,
            thingName: THING,
            deviceId: null,
            bindingId: null,
            certificateArn: "arn:aws:iot:us-east-1:000000000000:cert/abcd",
            detail: "certificate abcd made for a bridge thing is recorded by no binding",
            repaired: repair === undefined ? null : repaired,
          },
        ],
      },
    ],
    totals: { ...ZERO, orphanCertificates: 1 },
    repaired: { ...ZERO, orphanCertificates: repaired ? 1 : 0 },
  };
}

const POLICY_DOCUMENT = {
  Version: "2012-10-17",
  Statement: [
    { Effect: "Allow", Action: "iot:Connect", Resource: "arn:aws:iot:us-east-1:000000000000:client/x" },
  ],
};

after(removeTempDirs);

describe("granit-iot bindings, reconcile and policy (stub server: routes not in the host yet)", () => {
  let stub: Awaited<ReturnType<typeof startStubServer>>;
  const bodies: unknown[] = [];
  let ensureAnswer = { policyName: "granit-device", created: true, matches: true };

  const send = (response: ServerResponse, status: number, body: unknown) => {
    const problem = status >= 400;
    response
      .writeHead(status, { "content-type": problem ? "application/problem+json" : "application/json" })
      .end(JSON.stringify(body));
  };
  const notFound = (request: IncomingMessage, detail: string) => ({
    type: "urn:granit:iot:problem:not-found",
    title: "The resource was not found.",
    status: 404,
    detail,
    instance: request.url,
  });

  before(async () => {
    stub = await startStubServer((request, response) => {
      let text = "";
      request.on("data", (chunk: Buffer) => {
        text += chunk.toString("utf8");
      });
      request.on("end", () => {
        if (request.headers.authorization !== `Bearer ${TOKEN}`) {
          send(response, 401, {
            type: "urn:granit:iot:problem:unauthorized",
            title: "Authentication is required.",
            status: 401,
            detail: "The bearer token is not valid.",
            instance: request.url,
          });
          return;
        }
        if (text) bodies.push(JSON.parse(text));
        const route = `${request.method} ${request.url}`;
        if (route === `GET /api/iot/aws/bindings/${FAILED_DEVICE}`) {
          send(
            response,
            200,
            binding(FAILED_DEVICE, "Failed", { reason: "ThrottlingException", from: "CertIssued" }),
          );
        } else if (route === `POST /api/iot/aws/bindings/${FAILED_DEVICE}/retry`) {
          send(response, 200, binding(FAILED_DEVICE, "CertIssued", null));
        } else if (route === `POST /api/iot/aws/bindings/${ACTIVE_DEVICE}/retry`) {
          send(response, 409, {
            type: "urn:granit:iot:problem:invalid-status-transition",
            title: "The device's status does not allow this operation.",
            status: 409,
            detail: "Cannot retry an AWS thing binding in 'Active' status. Expected 'Failed'.",
            instance: request.url,
          });
        } else if (route === "POST /api/iot/aws/reconcile") {
          send(
            response,
            200,
            report((JSON.parse(text || "{}") as { repair?: Record<string, boolean> }).repair),
          );
        } else if (route === "GET /api/iot/aws/policy") {
          send(response, 200, { policyName: "granit-device", document: POLICY_DOCUMENT });
        } else if (route === "POST /api/iot/aws/policy/ensure") {
          send(response, 200, ensureAnswer);
        } else {
          send(
            response,
            404,
            notFound(request, `No binding for device ${request.url?.split("/")[5] ?? "?"}.`),
          );
        }
      });
    });
  });
  after(() => stub.close());

  const cli = (args: readonly string[]): Promise<CliResult> =>
    granitIot([...args, "--url", stub.url, "--token", TOKEN]);

  it("shows a binding as a key/value block, and the API's JSON with --json", async () => {
    const human = await cli(["bindings", "show", FAILED_DEVICE]);
    const json = await cli(["bindings", "show", FAILED_DEVICE, "--json"]);

    assert.equal(human.code, 0, human.stderr);
    assert.match(human.stdout, /^status: +Failed$/m);
    assert.match(human.stdout, /^failureReason: +ThrottlingException$/m);
    assert.match(human.stdout, /^failedFromStatus: +CertIssued$/m);
    assert.match(human.stdout, new RegExp(`^thingName: +${THING}$`, "m"));
    assert.match(human.stdout, /^certificateArn: +-$/m);
    assert.deepEqual(
      json.json(),
      binding(FAILED_DEVICE, "Failed", { reason: "ThrottlingException", from: "CertIssued" }),
    );
  });

  it("exits 1 with the detail when a device has no binding", async () => {
    const result = await cli(["bindings", "show", "0194a5e0-3333-7333-8333-333333333333"]);

    assert.equal(result.code, 1);
    assert.match(
      result.stderr,
      /^error: The resource was not found\. \(HTTP 404, GET \/api\/iot\/aws\/bindings\/0194a5e0-3333/,
    );
  });

  it("retries a Failed provisioning and says where it resumes; exit 1 when the binding is not Failed", async () => {
    const retried = await cli(["bindings", "retry", FAILED_DEVICE]);
    const refused = await cli(["bindings", "retry", ACTIVE_DEVICE]);

    assert.equal(retried.code, 0, retried.stderr);
    assert.equal(
      retried.stdout,
      `Provisioning of device ${FAILED_DEVICE} resumes from CertIssued (thing ${THING}).\n`,
    );
    assert.equal(refused.code, 1);
    assert.match(
      refused.stderr,
      /\n {2}Cannot retry an AWS thing binding in 'Active' status\. Expected 'Failed'\.\n$/,
    );
  });

  it("reports drift per kind and item without repairing by default", async () => {
    bodies.length = 0;

    const result = await cli(["reconcile"]);

    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(bodies, [{}]);
    const lines = result.stdout.split("\n");
    assert.equal(
      lines[0],
      "Scanned 12 bindings, 13 things, 14 certificates (2026-03-01T08:00:00.000Z → 2026-03-01T08:00:02.000Z).",
    );
    assert.deepEqual(lines.slice(1, 8), [
      "DRIFT                       FOUND",
      "thingsWithoutBinding            0",
      "bindingsMissingThing            0",
      "bindingsMissingCertificate      0",
      "bindingsMissingSecret           0",
      "orphanCertificates              1",
      "unattachedCertificates          0",
    ]);
    assert.match(
      result.stdout,
      new RegExp(`^orphanCertificates +\\(host\\) +${THING} +- +- +certificate abcd made`, "m"),
    );
  });

  it("asks for the repairs named by --repair (or all) and shows what was repaired", async () => {
    bodies.length = 0;

    const some = await cli(["reconcile", "--repair", "orphanCertificates,unattachedCertificates"]);
    const all = await cli(["reconcile", "--repair", "all", "--json"]);

    assert.equal(some.code, 0, some.stderr);
    assert.deepEqual(bodies, [
      { repair: { orphanCertificates: true, unattachedCertificates: true } },
      {
        repair: {
          thingsWithoutBinding: true,
          bindingsMissingThing: true,
          bindingsMissingCertificate: true,
          bindingsMissingSecret: true,
          orphanCertificates: true,
          unattachedCertificates: true,
        },
      },
    ]);
    assert.match(some.stdout, /^DRIFT +FOUND +REPAIRED$/m);
    assert.match(some.stdout, /^orphanCertificates +1 +1$/m);
    assert.match(some.stdout, / repaired +certificate abcd made/);
    assert.equal(all.json().repaired.orphanCertificates, 1);
  });

  it("refuses an unknown drift kind with exit 2 and sends nothing", async () => {
    const before = stub.requests.length;

    const result = await cli(["reconcile", "--repair", "orphanCertificates,everything"]);

    assert.equal(result.code, 2);
    assert.match(
      result.stderr,
      /^error: --repair: unknown drift kind 'everything' \(expected all or thingsWithoutBinding, /,
    );
    assert.equal(stub.requests.length, before);
  });

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
