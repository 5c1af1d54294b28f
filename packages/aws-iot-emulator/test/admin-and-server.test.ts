/** The admin API, the state file, keep-alive, routing and the package's public surface. */
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { Agent, request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import {
  AttachThingPrincipalCommand,
  CreateKeysAndCertificateCommand,
  CreateThingCommand,
  DescribeThingCommand,
  ThrottlingException,
} from "@aws-sdk/client-iot";
import { GetThingShadowCommand, UpdateThingShadowCommand } from "@aws-sdk/client-iot-data-plane";
import { CreateSecretCommand, GetSecretValueCommand } from "@aws-sdk/client-secrets-manager";
import { startEmulator } from "../src/index.ts";
import {
  createClients,
  destroyClients,
  fromUtf8,
  rejectsWith,
  utf8,
  withEmulator,
} from "./support/harness.ts";

async function admin(url: string, method: string, path: string, body?: unknown) {
  const response = await fetch(`${url}/_emulator/${path}`, {
    method,
    headers: { "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

test("the admin API answers health, inventory, calls, and sets faults and quotas", () =>
  withEmulator(async ({ emulator, clients: { iot } }) => {
    // Prepare
    await iot.send(new CreateThingCommand({ thingName: "t", attributePayload: { attributes: { a: "1" } } }));
    // Act
    const health = await admin(emulator.url, "GET", "health");
    const inventory = await admin(emulator.url, "GET", "inventory");
    const calls = await admin(emulator.url, "GET", "calls");
    const quotas = await admin(emulator.url, "PUT", "quotas", { "iot:DescribeThing": 1 });
    await iot.send(new DescribeThingCommand({ thingName: "t" }));
    const throttled = iot.send(new DescribeThingCommand({ thingName: "t" }));
    // Assess
    assert.equal(health.body.status, "ok");
    assert.deepEqual(
      (inventory.body.things as { name: string }[]).map((t) => t.name),
      ["t"],
    );
    assert.deepEqual(calls.body.counts, { "iot:CreateThing": 1 });
    assert.deepEqual(quotas.body.quotas, { "iot:DescribeThing": 1 });
    await rejectsWith(throttled, ThrottlingException);
    await admin(emulator.url, "PUT", "quotas", "off");
    const faults = await admin(emulator.url, "PUT", "faults", [{ kind: "error500", count: 1 }]);
    assert.deepEqual(faults.body.faults, [{ kind: "error500", count: 1 }]);
    const bad = await admin(emulator.url, "PUT", "faults", [{ kind: "explode" }]);
    assert.equal(bad.status, 400);
  }));

test("the admin reset forgets every resource and the call log", () =>
  withEmulator(async ({ emulator, clients: { iot } }) => {
    // Prepare
    await iot.send(new CreateThingCommand({ thingName: "t" }));
    // Act
    const reset = await admin(emulator.url, "POST", "reset");
    // Assess
    assert.equal(reset.status, 200);
    assert.deepEqual(emulator.inventory().things, []);
    assert.deepEqual(emulator.callCounts(), {});
  }));

test("the inventory shows things, certificates with attachments, secrets, shadows and jobs", () =>
  withEmulator(async ({ emulator, clients: { iot, data, secrets } }) => {
    // Prepare
    await iot.send(new CreateThingCommand({ thingName: "t" }));
    const cert = await iot.send(new CreateKeysAndCertificateCommand({ setAsActive: true }));
    await iot.send(new AttachThingPrincipalCommand({ thingName: "t", principal: cert.certificateArn }));
    await secrets.send(new CreateSecretCommand({ Name: "k", SecretString: cert.keyPair?.PrivateKey }));
    await data.send(
      new UpdateThingShadowCommand({ thingName: "t", payload: utf8({ state: { desired: { on: true } } }) }),
    );
    // Act
    const inventory = emulator.inventory();
    // Assess
    assert.deepEqual(inventory.things[0]?.principals, [cert.certificateArn]);
    assert.deepEqual(inventory.certificates[0]?.things, ["t"]);
    assert.equal(inventory.certificates[0]?.status, "ACTIVE");
    assert.equal(inventory.secrets[0]?.versions[0]?.secretString, cert.keyPair?.PrivateKey);
    assert.deepEqual(inventory.shadows[0]?.state, { desired: { on: true }, delta: { on: true } });
    assert.match(inventory.caCertificatePem, /BEGIN CERTIFICATE/);
  }));

test("the state file keeps the account across a restart", async () => {
  // Prepare
  const dir = await mkdtemp(join(tmpdir(), "granit-emulator-"));
  const stateFile = join(dir, "state.json");
  try {
    const first = await startEmulator({ port: 0, stateFile });
    const c1 = createClients(first.clientConfig());
    await c1.iot.send(new CreateThingCommand({ thingName: "kept" }));
    const cert = await c1.iot.send(new CreateKeysAndCertificateCommand({}));
    await c1.secrets.send(new CreateSecretCommand({ Name: "k", SecretString: "v" }));
    await c1.data.send(
      new UpdateThingShadowCommand({ thingName: "kept", payload: utf8({ state: { reported: { v: 1 } } }) }),
    );
    destroyClients(c1);
    const caBefore = first.inventory().caCertificatePem;
    await first.stop();
    // Act
    const second = await startEmulator({ port: 0, stateFile });
    const c2 = createClients(second.clientConfig());
    try {
      // Assess
      assert.equal((await c2.iot.send(new DescribeThingCommand({ thingName: "kept" }))).thingName, "kept");
      assert.equal(second.inventory().certificates[0]?.id, cert.certificateId);
      assert.equal(second.inventory().caCertificatePem, caBefore);
      assert.equal((await c2.secrets.send(new GetSecretValueCommand({ SecretId: "k" }))).SecretString, "v");
      const shadow = fromUtf8((await c2.data.send(new GetThingShadowCommand({ thingName: "kept" }))).payload);
      assert.deepEqual(shadow.state, { reported: { v: 1 } });
    } finally {
      destroyClients(c2);
      await second.stop();
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test("HTTP keep-alive reuses one connection for consecutive calls", () =>
  withEmulator(async ({ emulator }) => {
    // Prepare
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const get = () =>
      new Promise<boolean>((resolve, reject) => {
        const req = request(`${emulator.url}/_emulator/health`, { agent }, (res) => {
          res.resume();
          res.on("end", () => resolve(req.reusedSocket));
        });
        req.on("error", reject);
        req.end();
      });
    // Act
    const reused = [await get(), await get(), await get()];
    agent.destroy();
    // Assess
    assert.deepEqual(reused, [false, true, true]);
  }));

test("a request without SigV4 credentials, or for another service, is refused with 403", () =>
  withEmulator(async ({ emulator }) => {
    // Act
    const unsigned = await fetch(`${emulator.url}/things/t`);
    const otherService = await fetch(`${emulator.url}/things/t`, {
      headers: {
        authorization:
          "AWS4-HMAC-SHA256 Credential=AKID/20250101/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=x",
      },
    });
    // Assess
    assert.equal(unsigned.status, 403);
    assert.equal(otherService.status, 403);
    assert.equal(otherService.headers.get("x-amzn-errortype"), "UnrecognizedClientException");
  }));

test("clientConfig() can be spread into any SDK client", () =>
  withEmulator(async ({ emulator }) => {
    const clients = createClients(emulator.clientConfig());
    try {
      await clients.iot.send(new CreateThingCommand({ thingName: "t" }));
      assert.equal(emulator.clientConfig().endpoint, emulator.url);
      assert.equal(emulator.clientConfig().region, "us-east-1");
    } finally {
      destroyClients(clients);
    }
  }));

test("the package exposes its public surface and hides internal modules", async () => {
  const surface = await import("@granit/aws-iot-emulator");
  assert.deepEqual(Object.keys(surface).sort(), ["AWS_DEFAULT_QUOTAS", "startEmulator"]);
  const internal: string = "@granit/aws-iot-emulator/internal/emulator.ts";
  await assert.rejects(import(internal), { code: "ERR_PACKAGE_PATH_NOT_EXPORTED" });
});
