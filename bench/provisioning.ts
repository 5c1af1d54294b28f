/**
 * Provisioning throughput of the saga (`@granit/iot-aws-provisioning`) against the emulator, which
 * runs in its own process (`granit-aws-emulator`), through the real AWS SDK clients.
 *
 *   npm exec -- node bench/provisioning.ts [--devices 300] [--concurrency 16] [--latency-devices 200]
 *
 * (a) Quotas on: the emulator enforces AWS's default quotas (`--quotas aws-default`) and the bridge
 *     runs with its default call policy (`AWS_DEFAULT_RATE_LIMITS`); devices are provisioned through
 *     the durable bus. The table shows devices/s next to the tightest per-device quota, computed from
 *     the calls each device made (emulator call counts) and the quotas. Goal: ≥ 90 % of it, 0 Failed.
 * (b) Quotas off: the same AWS calls a device needs, sent bare (SDK only, no database, no policy),
 *     then the saga for as many devices, in the same run, one device at a time (latency) and with
 *     `--concurrency` devices at once (throughput). Goal: the bridge adds at most 50 % per device.
 *     One at a time, the two sides alternate in rounds of `--latency-devices` ÷ 4 devices: 8 rounds
 *     with the emulator answering at once, 4 with 10 ms added per call.
 *
 * Runs on PostgreSQL when DATABASE_URL is set (a fresh schema), else on PGlite (in memory).
 */
import "reflect-metadata";
import { type ChildProcess, spawn } from "node:child_process";
import { webcrypto } from "node:crypto";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import {
  AttachPolicyCommand,
  AttachThingPrincipalCommand,
  CreateCertificateFromCsrCommand,
  CreateThingCommand,
  DescribeThingCommand,
  IoTClient,
  UpdateCertificateCommand,
} from "@aws-sdk/client-iot";
import {
  CreateSecretCommand,
  GetSecretValueCommand,
  PutSecretValueCommand,
  SecretsManagerClient,
} from "@aws-sdk/client-secrets-manager";
import { AWS_DEFAULT_QUOTAS } from "@granit/aws-iot-emulator";
import { Device } from "@granit/iot";
import { AWS_DEFAULT_RATE_LIMITS, AwsCallPolicy, parseAwsCallOptions } from "@granit/iot-aws";
import {
  IOTAWS_MIGRATIONS,
  PostgresAwsThingBindingStore,
  PostgresBindingLock,
} from "@granit/iot-aws-postgres";
import {
  AwsProvisioning,
  devicePolicyDocument,
  ensureDevicePolicy,
  parseAwsProvisioningOptions,
  registerAwsProvisioning,
} from "@granit/iot-aws-provisioning";
import { Database, IOT_MIGRATIONS, PostgresDeviceStore, PostgresMessageBus } from "@granit/iot-postgres";
import * as x509 from "@peculiar/x509";

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

const { values } = parseArgs({
  options: {
    devices: { type: "string", default: "300" },
    concurrency: { type: "string", default: "16" },
    "latency-devices": { type: "string", default: "200" },
  },
});
const DEVICES = Number(values.devices);
const CONCURRENCY = Number(values.concurrency);
const LATENCY_DEVICES = Number(values["latency-devices"]);
const WARM_UP = 100;
const TENANT = "0194a5e0-bbbb-7bbb-8bbb-000000000bea";
const POLICY = "granit-device-policy";

// ── the emulator, in its own process ─────────────────────────────────────────────────────────────

async function startEmulatorProcess(): Promise<{ child: ChildProcess; url: string }> {
  const cli = fileURLToPath(new URL("../packages/aws-iot-emulator/src/cli.ts", import.meta.url));
  const child = spawn(
    process.execPath,
    [cli, "--port", "0", "--quotas", "off", "--detach-propagation-ms", "50"],
    {
      stdio: ["ignore", "pipe", "inherit"],
    },
  );
  let out = "";
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout?.on("data", (chunk) => {
      out += chunk;
      const match = /listening on (http:\/\/[^\s]+)/.exec(out);
      if (match?.[1]) resolve(match[1]);
    });
    child.once("exit", (code) => reject(new Error(`emulator exited with ${code}`)));
  });
  return { child, url };
}

const emulator = await startEmulatorProcess();
const admin = async (method: string, path: string, body?: unknown) => {
  const response = await fetch(`${emulator.url}/_emulator/${path}`, {
    method,
    headers: body === undefined ? {} : { "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return response.json() as Promise<Record<string, unknown>>;
};
const awsConfig = {
  endpoint: emulator.url,
  region: "us-east-1",
  credentials: { accessKeyId: "bench", secretAccessKey: "bench" },
  maxAttempts: 1,
};
const iot = new IoTClient(awsConfig);
const secrets = new SecretsManagerClient(awsConfig);

// ── the database ─────────────────────────────────────────────────────────────────────────────────

const schema = `bench_prov_${Date.now().toString(36)}`;
const database = await Database.open(
  process.env.DATABASE_URL ? { url: process.env.DATABASE_URL, schema, poolSize: 40 } : {},
);
await database.migrate(IOT_MIGRATIONS);
await database.migrate(IOTAWS_MIGRATIONS);
const databaseName = database.kind === "postgres" ? "PostgreSQL" : "PGlite";

function stackFor(callPolicy: AwsCallPolicy, busConcurrency: number, register: boolean) {
  const bus = new PostgresMessageBus(database, { concurrency: busConcurrency, pollIntervalMs: 50 });
  const devices = new PostgresDeviceStore(database, bus);
  const deps = {
    bus,
    deviceStore: devices,
    bindingStore: new PostgresAwsThingBindingStore(database, bus),
    bindingLock: new PostgresBindingLock(database),
    unitOfWork: database,
    iot,
    secrets,
    callPolicy,
    options: parseAwsProvisioningOptions({ DevicePolicyName: POLICY }),
  };
  const provisioning = register ? registerAwsProvisioning(deps) : new AwsProvisioning(deps);
  return { bus, devices, provisioning };
}

let serial = 0;
async function addDevices(devices: PostgresDeviceStore, count: number): Promise<Device[]> {
  const out: Device[] = [];
  for (let i = 0; i < count; i++) {
    const device = Device.provision(
      { tenantId: TENANT, serialNumber: `BENCH-${++serial}`, model: "GW-100", firmware: "1.0.0" },
      { at: new Date(), by: "bench" },
    );
    await devices.add(device);
    out.push(device);
  }
  return out;
}

async function countStatuses(): Promise<{ active: number; failed: number }> {
  const [row] = await database.execute<{ active: number; failed: number }>(
    `SELECT count(*) FILTER (WHERE provisioning_status = 'Active')::int AS active,
            count(*) FILTER (WHERE provisioning_status = 'Failed')::int AS failed
     FROM iotaws_thing_bindings WHERE deleted_at IS NULL`,
  );
  return row ?? { active: 0, failed: 0 };
}

async function inParallel<T>(items: readonly T[], width: number, work: (item: T) => Promise<void>) {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(width, items.length) }, async () => {
      while (next < items.length) {
        const item = items[next++] as T;
        await work(item);
      }
    }),
  );
}

interface Row {
  scenario: string;
  devices: number;
  concurrency: number;
  seconds: number;
  perSecond: number;
  msPerDevice: number | null;
  notes: string;
}
const rows: Row[] = [];

// ── (a) quotas on ────────────────────────────────────────────────────────────────────────────────

const defaultPolicy = new AwsCallPolicy(parseAwsCallOptions({}));
await admin("PUT", "quotas", "aws-default");
{
  const { bus, devices } = stackFor(defaultPolicy, CONCURRENCY, true);
  await bus.start();
  await admin("POST", "reset"); // the call log of (a) starts here
  await ensureDevicePolicy(
    { iot, callPolicy: defaultPolicy },
    POLICY,
    devicePolicyDocument({ region: "us-east-1", accountId: "000000000000" }),
  );
  const policyCalls = 2; // GetPolicy + CreatePolicy above
  const started = performance.now();
  await addDevices(devices, DEVICES);
  let status = await countStatuses();
  while (status.active + status.failed < DEVICES) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    status = await countStatuses();
  }
  const seconds = (performance.now() - started) / 1000;
  const dead = await bus.deadLetters();
  await bus.stop();
  const calls = (await admin("GET", "calls")) as {
    calls: { service: string; operation: string; error?: string }[];
  };
  // What a device needs: every call but the throttled answers (a throttled call consumed no quota).
  const needed = new Map<string, number>();
  for (const call of calls.calls.slice(policyCalls)) {
    if (call.error === "ThrottlingException") continue;
    const key = `${call.service}:${call.operation}`;
    needed.set(key, (needed.get(key) ?? 0) + 1);
  }
  const perDevice = [...needed].map(([op, n]) => [op, n / DEVICES] as const);
  const limits = perDevice
    .filter(([op]) => AWS_DEFAULT_QUOTAS[op] !== undefined)
    .map(([op, n]) => ({
      op,
      n,
      quota: AWS_DEFAULT_QUOTAS[op] as number,
      devicesPerSecond: (AWS_DEFAULT_QUOTAS[op] as number) / n,
    }))
    .sort((a, b) => a.devicesPerSecond - b.devicesPerSecond);
  const tightest = limits[0];
  const disagreements = perDevice.filter(([op]) => AWS_DEFAULT_QUOTAS[op] !== AWS_DEFAULT_RATE_LIMITS[op]);
  const throttled = calls.calls.filter((c) => c.error === "ThrottlingException").length;
  const perSecond = DEVICES / seconds;
  rows.push({
    scenario: "(a) saga via bus, emulator enforcing AWS default quotas, default call policy",
    devices: DEVICES,
    concurrency: CONCURRENCY,
    seconds,
    perSecond,
    msPerDevice: null,
    notes:
      `${status.failed} Failed, ${dead.length} dead letters, ${throttled} throttled answers; ` +
      `tightest per-device quota: ${tightest?.op} ${tightest?.quota}/s × ${tightest?.n.toFixed(2)} call(s)/device = ` +
      `${tightest?.devicesPerSecond.toFixed(2)} devices/s → ${((perSecond / (tightest?.devicesPerSecond ?? 1)) * 100).toFixed(1)} % of it (goal ≥ 90 %)`,
  });
  console.log(
    "\nPer-device AWS calls under quotas (emulator call log ÷ devices, throttled answers left out) and the device rate each quota allows:\n",
  );
  console.log(
    "| operation | calls/device | AWS default quota (emulator) | call policy default | devices/s allowed |",
  );
  console.log("|---|---:|---:|---:|---:|");
  for (const l of limits) {
    console.log(
      `| ${l.op} | ${l.n.toFixed(2)} | ${l.quota} | ${AWS_DEFAULT_RATE_LIMITS[l.op] ?? "—"} | ${l.devicesPerSecond.toFixed(1)} |`,
    );
  }
  if (disagreements.length > 0) {
    console.log(
      `\n⚠ call policy defaults disagree with the emulator's quotas for: ${disagreements.map(([op]) => op).join(", ")}`,
    );
  } else {
    console.log(
      "\nThe call policy's default rates equal the emulator's AWS default quotas for every operation used.",
    );
  }
}

// ── (b) quotas off: bare AWS calls vs the saga ───────────────────────────────────────────────────

await admin("PUT", "quotas", "off");
const fastPolicy = new AwsCallPolicy(
  parseAwsCallOptions({
    DefaultTokensPerSecond: 100_000,
    RateLimits: Object.fromEntries(
      ["iot", "secretsmanager"].map((service) => [
        service,
        Object.fromEntries(
          Object.keys(AWS_DEFAULT_RATE_LIMITS)
            .filter((key) => key.startsWith(`${service}:`))
            .map((key) => [key.slice(service.length + 1), 100_000]),
        ),
      ]),
    ),
  }),
);

async function csrFor(commonName: string): Promise<string> {
  const keys = await webcrypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, [
    "sign",
    "verify",
  ]);
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({
    name: `CN=${commonName}`,
    keys,
    signingAlgorithm: { name: "ECDSA", hash: "SHA-256" },
  });
  return csr.toString("pem");
}

/** The AWS calls one device needs, sent bare: no database, no call policy, no key generation. */
async function bareDevice(name: string, csr: string): Promise<void> {
  await iot.send(new DescribeThingCommand({ thingName: name })).catch(() => undefined);
  await iot.send(new CreateThingCommand({ thingName: name }));
  const secretName = `iot/devices/${name}/key`;
  await secrets.send(new GetSecretValueCommand({ SecretId: secretName })).catch(() => undefined);
  const created = await secrets.send(
    new CreateSecretCommand({
      Name: secretName,
      SecretString: `{"k":"${name}"}`,
      ClientRequestToken: crypto.randomUUID(),
    }),
  );
  const certificate = await iot.send(
    new CreateCertificateFromCsrCommand({ certificateSigningRequest: csr, setAsActive: false }),
  );
  await iot.send(new AttachThingPrincipalCommand({ thingName: name, principal: certificate.certificateArn }));
  await secrets.send(
    new PutSecretValueCommand({
      SecretId: created.ARN,
      SecretString: `{"k":"${name}","c":"${certificate.certificateArn}"}`,
      ClientRequestToken: certificate.certificateId,
    }),
  );
  await iot.send(new AttachPolicyCommand({ policyName: POLICY, target: certificate.certificateArn }));
  await iot.send(
    new UpdateCertificateCommand({ certificateId: certificate.certificateId, newStatus: "ACTIVE" }),
  );
}

async function timeBare(count: number, width: number, label: string): Promise<Row> {
  const names = Array.from({ length: count }, () => `t${"0".repeat(31)}b-BARE-${++serial}`);
  const csrs = new Map<string, string>();
  for (const name of names) csrs.set(name, await csrFor(name)); // CSRs made before the clock starts
  const latencies: number[] = [];
  const started = performance.now();
  await inParallel(names, width, async (name) => {
    const t0 = performance.now();
    await bareDevice(name, csrs.get(name) as string);
    latencies.push(performance.now() - t0);
  });
  const seconds = (performance.now() - started) / 1000;
  return {
    scenario: label,
    devices: count,
    concurrency: width,
    seconds,
    perSecond: count / seconds,
    msPerDevice: latencies.reduce((a, b) => a + b, 0) / latencies.length,
    notes: "9 SDK calls per device, maxAttempts 1",
  };
}

async function timeSaga(count: number, width: number, label: string): Promise<Row> {
  const { devices, provisioning } = stackFor(fastPolicy, width, false);
  const batch = await addDevices(devices, count); // devices exist before the clock starts
  const latencies: number[] = [];
  const started = performance.now();
  await inParallel(batch, width, async (device) => {
    const t0 = performance.now();
    const outcome = await provisioning.provision(device.id);
    if (outcome !== "activated") throw new Error(`device ${device.id}: ${outcome}`);
    latencies.push(performance.now() - t0);
  });
  const seconds = (performance.now() - started) / 1000;
  return {
    scenario: label,
    devices: count,
    concurrency: width,
    seconds,
    perSecond: count / seconds,
    msPerDevice: latencies.reduce((a, b) => a + b, 0) / latencies.length,
    notes: `key + CSR, lock, 1 read + 6 writes (reservation, 5 checkpoints), call policy, ${databaseName}`,
  };
}

// Warm up both paths (JIT, connections, prepared statements) so neither pays for it inside the
// measurement. The saga runs far more JavaScript per device than the bare calls: after 10 devices it
// was still ~20 % slower than after 150 (measured round by round), so each side warms on 100.
await timeBare(WARM_UP, 1, "warm-up");
await timeSaga(WARM_UP, 1, "warm-up");

/** Sums of the gaps between consecutive AWS calls in the emulator's call log, keyed "previous → next". */
type Gaps = Map<string, { ms: number; n: number }>;

/** Adds the gaps of the last `calls` calls (ms resolution) to `into`. */
async function addCallGaps(calls: number, into: Gaps): Promise<void> {
  const log = (await admin("GET", "calls")) as { calls: { operation: string; at: string }[] };
  const entries = log.calls.slice(-calls);
  for (let i = 1; i < entries.length; i++) {
    const [previous, next] = [entries[i - 1], entries[i]];
    if (!previous || !next) continue;
    const key = `${previous.operation} → ${next.operation}`;
    const sum = into.get(key) ?? { ms: 0, n: 0 };
    sum.ms += Date.parse(next.at) - Date.parse(previous.at);
    sum.n += 1;
    into.set(key, sum);
  }
}

/** Rows of one kind measured in several rounds, as one row (per-device time averaged over all devices). */
function merged(parts: readonly Row[], scenario: string): Row {
  const devices = parts.reduce((a, r) => a + r.devices, 0);
  const seconds = parts.reduce((a, r) => a + r.seconds, 0);
  const msTotal = parts.reduce((a, r) => a + (r.msPerDevice ?? 0) * r.devices, 0);
  return {
    ...(parts[0] as Row),
    scenario,
    devices,
    seconds,
    perSecond: devices / seconds,
    msPerDevice: msTotal / devices,
  };
}

const CALLS_PER_DEVICE = 9;
/** Rounds with the emulator answering at once (each ~0.5 s per side: the noisier figure) and at +10 ms. */
const ROUNDS = { instant: 8, slow: 4 };

/**
 * Bare calls and the saga, one device at a time, in alternating rounds (bare/saga, then saga/bare,
 * …): this machine is shared, and a burst of load during one long run would land on one side only.
 */
async function interleaved(rounds: number, per: number, suffix: string, gaps?: { bare: Gaps; saga: Gaps }) {
  const bare: Row[] = [];
  const saga: Row[] = [];
  for (let round = 0; round < rounds; round++) {
    for (const side of round % 2 === 0 ? ["bare", "saga"] : ["saga", "bare"]) {
      if (side === "bare") bare.push(await timeBare(per, 1, ""));
      else saga.push(await timeSaga(per, 1, ""));
      if (gaps) await addCallGaps(per * CALLS_PER_DEVICE, side === "bare" ? gaps.bare : gaps.saga);
    }
  }
  const ratios = bare.map((b, i) => ((saga[i]?.msPerDevice ?? 0) / (b.msPerDevice ?? 1) - 1) * 100);
  return {
    bare: merged(
      bare,
      `(b${suffix}) bare AWS calls, one device at a time${suffix ? `, +${LATENCY_MS} ms per call` : ""}`,
    ),
    saga: merged(
      saga,
      `(b${suffix}) saga, one device at a time${suffix ? `, +${LATENCY_MS} ms per call` : ""}`,
    ),
    perRound: ratios,
  };
}

const LATENCY_MS = 10;
const gaps = { bare: new Map(), saga: new Map() } as { bare: Gaps; saga: Gaps };
const PER_ROUND = Math.ceil(LATENCY_DEVICES / ROUNDS.slow);
const oneAtATime = await interleaved(ROUNDS.instant, PER_ROUND, "", gaps);
const bareSerial = oneAtATime.bare;
const sagaSerial = oneAtATime.saga;
const bareWide = await timeBare(DEVICES, CONCURRENCY, "(b) bare AWS calls, devices in parallel");
const sagaWide = await timeSaga(DEVICES, CONCURRENCY, "(b) saga, devices in parallel");
rows.push(bareSerial, sagaSerial, bareWide, sagaWide);
// The same comparison with AWS-like latency: every emulator answer delayed by LATENCY_MS.
await admin("PUT", "faults", [{ kind: "latency", latencyMs: LATENCY_MS }]);
const slow = await interleaved(ROUNDS.slow, PER_ROUND, "'");
const bareSlow = slow.bare;
const sagaSlow = slow.saga;
await admin("PUT", "faults", []);
rows.push(bareSlow, sagaSlow);

{
  const { bus, devices } = stackFor(fastPolicy, CONCURRENCY, true);
  await bus.start();
  const { active } = await countStatuses();
  const started = performance.now();
  await addDevices(devices, DEVICES);
  let status = await countStatuses();
  while (status.active + status.failed < active + DEVICES) {
    await new Promise((resolve) => setTimeout(resolve, 20));
    status = await countStatuses();
  }
  const seconds = (performance.now() - started) / 1000;
  await bus.stop();
  rows.push({
    scenario: "(b) saga via bus (device created → Active), quotas off",
    devices: DEVICES,
    concurrency: CONCURRENCY,
    seconds,
    perSecond: DEVICES / seconds,
    msPerDevice: null,
    notes: `${status.failed} Failed`,
  });
}

const overheadOf = (saga: Row, bare: Row) => ({
  ms: (saga.msPerDevice ?? 0) - (bare.msPerDevice ?? 0),
  percent: (((saga.msPerDevice ?? 0) - (bare.msPerDevice ?? 0)) / (bare.msPerDevice ?? 1)) * 100,
});
const overhead = overheadOf(sagaSerial, bareSerial);
const overheadSlow = overheadOf(sagaSlow, bareSlow);

console.log(`\n## bench/provisioning.ts — ${databaseName}, emulator in its own process\n`);
console.log("| scenario | devices | concurrency | seconds | devices/s | ms/device | notes |");
console.log("|---|---:|---:|---:|---:|---:|---|");
for (const r of rows) {
  console.log(
    `| ${r.scenario} | ${r.devices} | ${r.concurrency} | ${r.seconds.toFixed(2)} | ${r.perSecond.toFixed(2)} | ${r.msPerDevice === null ? "—" : r.msPerDevice.toFixed(2)} | ${r.notes} |`,
  );
}
console.log(
  `\nBridge overhead per device (one at a time): ${overhead.ms.toFixed(2)} ms over ${bareSerial.msPerDevice?.toFixed(2)} ms ` +
    `of bare AWS calls = +${overhead.percent.toFixed(1)} % with the emulator answering at once; ` +
    `${overheadSlow.ms.toFixed(2)} ms over ${bareSlow.msPerDevice?.toFixed(2)} ms = +${overheadSlow.percent.toFixed(1)} % ` +
    `with ${LATENCY_MS} ms per call (goal ≤ 50 %). In parallel: ${sagaWide.perSecond.toFixed(1)} vs ` +
    `${bareWide.perSecond.toFixed(1)} devices/s bare.\n` +
    `Measured in alternating rounds of ${PER_ROUND} devices per side (${ROUNDS.instant} instant, ${ROUNDS.slow} at +${LATENCY_MS} ms); overhead per round: ` +
    `${oneAtATime.perRound.map((p) => `+${p.toFixed(1)} %`).join(", ")} (instant), ` +
    `${slow.perRound.map((p) => `+${p.toFixed(1)} %`).join(", ")} (+${LATENCY_MS} ms).`,
);

console.log(
  "\nWhere the overhead goes (one device at a time, emulator answering at once): mean time between two consecutive AWS calls, from the emulator's call log\n",
);
console.log("| previous call → next call | bare (ms) | saga (ms) | saga − bare (ms) |");
console.log("|---|---:|---:|---:|");
for (const [key, sum] of gaps.saga) {
  const saga = sum.ms / sum.n;
  const bareSum = gaps.bare.get(key);
  if (bareSum === undefined) continue;
  const bare = bareSum.ms / bareSum.n;
  console.log(`| ${key} | ${bare.toFixed(2)} | ${saga.toFixed(2)} | ${(saga - bare).toFixed(2)} |`);
}
console.log(
  "\nThe saga's gaps hold its database work: a checkpoint commit after ThingCreated, KeyEscrowed, CertIssued, SecretStored and Active " +
    "(with its outbox row; the unlock travels with it), and between two devices the lock (the device read travels with it) and the Pending reservation.",
);

iot.destroy();
secrets.destroy();
if (database.kind === "postgres") await database.execute(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
await database.close();
emulator.child.kill("SIGTERM");
process.exit(0);
