/**
 * The shadow delta poller at fleet size, against the emulator (quotas off) through the real AWS SDK.
 *
 *   DATABASE_URL=postgres://… npm exec -- node bench/shadow.ts [--sizes 1000,10000,100000]
 *     [--pollers 1,2] [--batch 500] [--concurrency 64] [--delay-samples 8]
 *
 * - The emulator runs in its own process (`granit-aws-emulator`), so the poller's memory is its own.
 * - For each size N: N Active bindings are inserted with one `INSERT … SELECT generate_series`, the
 *   things' shadows exist (reported-only, in sync: the steady state), and N sync rows are due. Then
 *   1 or 2 poller processes (hosts) run one pass each over everything due, concurrently; the table
 *   shows the wall time until all N were read, GetThingShadow calls (the emulator's call counts),
 *   and each poller process's peak RSS (`process.resourceUsage().maxRSS`).
 * - Delay: a poller loop with `PollIntervalSeconds` 5 runs over 1,000 bindings; desired states are set
 *   at random moments and the time until their `DeviceDesiredStateChangedEvent` is committed is
 *   measured (bounded by the interval plus one read).
 *
 * With PostgreSQL the pollers are child processes. Without DATABASE_URL the bench runs on PGlite,
 * which cannot be shared between processes: one poller, in this process (its RSS then includes the
 * embedded database). Goal (issue #6): memory flat in N; 100,000 bindings in under 30 s when the
 * quota allows it.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { IoTDataPlaneClient, UpdateThingShadowCommand } from "@aws-sdk/client-iot-data-plane";
import { type DomainEvent, type MessageBus, systemClock } from "@granit/iot";
import { AwsCallPolicy, systemScheduler, ThingName } from "@granit/iot-aws";
import { IOTAWS_MIGRATIONS, PostgresShadowSyncStateStore } from "@granit/iot-aws-postgres";
import {
  DesiredStateDeltaHandler,
  defaultAwsShadowOptions,
  ShadowDeltaPoller,
  ShadowMetrics,
  ThingShadowClient,
} from "@granit/iot-aws-shadow";
import { Database, IOT_MIGRATIONS } from "@granit/iot-postgres";

const TENANT = "0b7c2b6e-0000-4000-8000-0000000000b1";
const PREFIX = `${ThingName.tenantPrefix(TENANT)}-BENCH-`;
const thingName = (i: number) => `${PREFIX}${String(i).padStart(6, "0")}`;
const { values } = parseArgs({
  options: {
    role: { type: "string", default: "main" },
    sizes: { type: "string", default: "1000,10000,100000" },
    pollers: { type: "string", default: "1,2" },
    batch: { type: "string", default: "500" },
    concurrency: { type: "string", default: "64" },
    "delay-samples": { type: "string", default: "8" },
    endpoint: { type: "string" },
    schema: { type: "string" },
    expected: { type: "string" },
  },
});
const batch = Number(values.batch);
const concurrency = Number(values.concurrency);

/** A bus that only records what would be published (the bench measures the poller, not the bus). */
class CountingBus implements MessageBus {
  published = 0;
  async publish(events: readonly DomainEvent[]): Promise<void> {
    this.published += events.length;
  }
  subscribe(): void {}
}

/** One host's poller on `database`, reading shadows from the emulator at `endpoint`. */
function buildPoller(database: Database, endpoint: string, intervalSeconds = 30) {
  const data = new IoTDataPlaneClient({
    endpoint,
    region: "us-east-1",
    credentials: { accessKeyId: "bench", secretAccessKey: "bench" },
    maxAttempts: 1,
  });
  // IoT:Aws:Calls:RateLimits:iotdata:GetThingShadow raised: "when the quota allows it".
  const policy = new AwsCallPolicy({
    rateLimits: { "iotdata:GetThingShadow": { tokensPerSecond: 100_000, burst: 1_000 } },
  });
  const options = {
    ...defaultAwsShadowOptions(),
    pollBatchSize: batch,
    pollConcurrency: concurrency,
    pollIntervalSeconds: intervalSeconds,
  };
  const syncState = new PostgresShadowSyncStateStore(database);
  const metrics = new ShadowMetrics();
  const shadows = new ThingShadowClient(data, policy, {
    perThingRequestsPerSecond: options.perThingRequestsPerSecond,
    scheduler: systemScheduler,
  });
  const poller = new ShadowDeltaPoller({
    syncState,
    shadows,
    options,
    clock: systemClock,
    scheduler: systemScheduler,
    metrics,
  });
  const deltas = new DesiredStateDeltaHandler({
    bus: new CountingBus(),
    syncState,
    unitOfWork: database,
    clock: systemClock,
    metrics,
  });
  return { data, poller, deltas };
}

/** RSS and heap at the start of a sweep and their peaks during it (sampled every 20 ms). */
interface MemoryReport {
  readonly rssStartMb: number;
  readonly rssPeakMb: number;
  readonly heapStartMb: number;
  readonly heapPeakMb: number;
  /** Heap still used after the sweep and a full GC (`--expose-gc`): what the poller keeps. */
  readonly heapRetainedMb: number;
  /** `process.resourceUsage().maxRSS`: the process's high-water mark, module loading included. */
  readonly maxRssMb: number;
}

function sampleMemory(): { stop(): MemoryReport } {
  const mb = (bytes: number) => Math.round(bytes / 1024 / 1024);
  const start = process.memoryUsage();
  let rssPeak = start.rss;
  let heapPeak = start.heapUsed;
  const timer = setInterval(() => {
    const now = process.memoryUsage();
    rssPeak = Math.max(rssPeak, now.rss);
    heapPeak = Math.max(heapPeak, now.heapUsed);
  }, 20);
  return {
    stop() {
      clearInterval(timer);
      const now = process.memoryUsage();
      (globalThis as { gc?: () => void }).gc?.();
      const retained = process.memoryUsage().heapUsed;
      return {
        rssStartMb: mb(start.rss),
        rssPeakMb: mb(Math.max(rssPeak, now.rss)),
        heapStartMb: mb(start.heapUsed),
        heapPeakMb: mb(Math.max(heapPeak, now.heapUsed)),
        heapRetainedMb: mb(retained),
        maxRssMb: Math.round(process.resourceUsage().maxRSS / 1024),
      };
    },
  };
}

/** Child role: one host's poller; one pass over everything due, then report and exit. */
async function runPollerProcess(): Promise<void> {
  const database = await Database.open({ url: process.env.DATABASE_URL, schema: values.schema, poolSize: 4 });
  const { data, poller, deltas } = buildPoller(database, String(values.endpoint));
  process.send?.({ ready: true });
  await once(process, "message");
  const memory = sampleMemory();
  const started = performance.now();
  const result = await poller.sweepOnce(deltas.observe);
  const ms = performance.now() - started;
  process.send?.({ polled: result.polled, failed: result.failed, ms, memory: memory.stop() });
  await database.close();
  data.destroy();
}

async function startEmulatorProcess(): Promise<{ url: string; child: ChildProcess }> {
  const cli = fileURLToPath(new URL("../packages/aws-iot-emulator/src/cli.ts", import.meta.url));
  const child = spawn(process.execPath, [cli, "--port", "0", "--quotas", "off"], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  let out = "";
  child.stdout?.setEncoding("utf8");
  for await (const chunk of child.stdout as AsyncIterable<string>) {
    out += chunk;
    const match = /listening on (http:\/\/[^\s]+)/.exec(out);
    if (match?.[1]) return { url: match[1], child };
  }
  throw new Error(`emulator did not start: ${out}`);
}

async function emulatorCalls(url: string): Promise<number> {
  const response = await fetch(`${url}/_emulator/calls`);
  const body = (await response.json()) as { counts: Record<string, number> };
  return body.counts["iotdata:GetThingShadow"] ?? 0;
}

async function createShadows(url: string, count: number): Promise<number> {
  const data = new IoTDataPlaneClient({
    endpoint: url,
    region: "us-east-1",
    credentials: { accessKeyId: "bench", secretAccessKey: "bench" },
    maxAttempts: 3,
  });
  const payload = new TextEncoder().encode(JSON.stringify({ state: { reported: { status: "Active" } } }));
  const started = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: 128 }, async () => {
      while (next < count) {
        const i = next++;
        await data.send(new UpdateThingShadowCommand({ thingName: thingName(i), payload }));
      }
    }),
  );
  data.destroy();
  return performance.now() - started;
}

async function seed(database: Database, count: number): Promise<void> {
  await database.execute("TRUNCATE iotaws_shadow_sync, iotaws_thing_bindings");
  await database.execute(
    `INSERT INTO iotaws_thing_bindings (id, device_id, tenant_id, thing_name, thing_arn, provisioning_status, created_at, version)
     SELECT gen_random_uuid(), gen_random_uuid(), $2::uuid, $3 || lpad((i - 1)::text, 6, '0'),
            'arn:aws:iot:us-east-1:000000000000:thing/' || $3 || lpad((i - 1)::text, 6, '0'), 'Active', now(), 1
     FROM generate_series(1, $1::int) AS i`,
    [count, TENANT, PREFIX],
  );
  await new PostgresShadowSyncStateStore(database).trackActiveBindings(new Date());
  await database.execute("ANALYZE iotaws_shadow_sync");
}

interface Row {
  bindings: number;
  pollers: number;
  sweepMs: number;
  calls: number;
  memory: MemoryReport[];
}

async function sweepInChildren(url: string, schema: string, count: number, pollers: number) {
  const script = fileURLToPath(import.meta.url);
  const children = Array.from({ length: pollers }, () =>
    spawn(
      process.execPath,
      [
        "--expose-gc",
        ...(process.env.BENCH_PROFILE_DIR
          ? ["--cpu-prof", `--cpu-prof-dir=${process.env.BENCH_PROFILE_DIR}`]
          : []),
        script,
        "--role",
        "poller",
        "--endpoint",
        url,
        "--schema",
        schema,
        "--batch",
        String(batch),
        "--concurrency",
        String(concurrency),
      ],
      { stdio: ["ignore", "inherit", "inherit", "ipc"], env: process.env },
    ),
  );
  const exited = children.map((c) => once(c, "exit"));
  await Promise.all(children.map((c) => once(c, "message")));
  const before = await emulatorCalls(url);
  const started = performance.now();
  const results = children.map((c) =>
    once(c, "message").then(([m]) => m as { polled: number; ms: number; memory: MemoryReport }),
  );
  for (const c of children) c.send("go");
  const reports = await Promise.all(results);
  const wall = performance.now() - started;
  await Promise.all(exited);
  const polled = reports.reduce((n, r) => n + r.polled, 0);
  if (polled !== count) throw new Error(`polled ${polled} of ${count}`);
  return {
    bindings: count,
    pollers,
    sweepMs: Math.round(wall),
    calls: (await emulatorCalls(url)) - before,
    memory: reports.map((r) => r.memory),
  } satisfies Row;
}

async function sweepInProcess(database: Database, url: string, count: number): Promise<Row> {
  const { data, poller, deltas } = buildPoller(database, url);
  const before = await emulatorCalls(url);
  const memory = sampleMemory();
  const started = performance.now();
  const result = await poller.sweepOnce(deltas.observe);
  const ms = performance.now() - started;
  if (result.polled !== count) throw new Error(`polled ${result.polled} of ${count}`);
  data.destroy();
  return {
    bindings: count,
    pollers: 1,
    sweepMs: Math.round(ms),
    calls: (await emulatorCalls(url)) - before,
    memory: [memory.stop()],
  };
}

/** Desired update → committed event, with a real poller loop (interval 5 s) over 1,000 bindings. */
async function measureDelay(database: Database, url: string, samples: number): Promise<number[]> {
  await seed(database, 1000);
  const { data, poller, deltas } = buildPoller(database, url, 5);
  const waiting = new Map<string, { at: number; resolve: (ms: number) => void }>();
  await poller.start(async (observation) => {
    const outcome = await deltas.observe(observation);
    const wait = waiting.get(observation.thingName);
    if (outcome === "published" && wait) {
      waiting.delete(observation.thingName);
      wait.resolve(performance.now() - wait.at);
    }
    return outcome;
  });
  const delays: number[] = [];
  for (let s = 0; s < samples; s++) {
    await new Promise((resolve) => setTimeout(resolve, Math.random() * 5000));
    const thing = thingName(Math.floor(Math.random() * 1000));
    const delay = new Promise<number>((resolve) => waiting.set(thing, { at: performance.now(), resolve }));
    await data.send(
      new UpdateThingShadowCommand({
        thingName: thing,
        payload: new TextEncoder().encode(JSON.stringify({ state: { desired: { firmware: `9.${s}.0` } } })),
      }),
    );
    delays.push(await delay);
  }
  await poller.stop();
  data.destroy();
  return delays;
}

async function main(): Promise<void> {
  const sizes = String(values.sizes).split(",").map(Number);
  const pollerCounts = String(values.pollers).split(",").map(Number);
  const onPostgres = Boolean(process.env.DATABASE_URL);
  const schema = `bench_shadow_${process.pid}`;
  const database = await Database.open({ url: process.env.DATABASE_URL, schema, poolSize: 4 });
  await database.migrate(IOT_MIGRATIONS);
  await database.migrate(IOTAWS_MIGRATIONS);
  const emulator = await startEmulatorProcess();
  const rows: Row[] = [];
  let delays: number[] = [];
  try {
    const creation = await createShadows(emulator.url, Math.max(...sizes));
    console.log(
      `# ${Math.max(...sizes)} shadows created through the SDK in ${(creation / 1000).toFixed(1)} s; database: ${onPostgres ? "PostgreSQL" : "PGlite (in-process)"}`,
    );
    for (const size of sizes) {
      for (const pollers of onPostgres ? pollerCounts : [1]) {
        await seed(database, size);
        const row = onPostgres
          ? await sweepInChildren(emulator.url, schema, size, pollers)
          : await sweepInProcess(database, emulator.url, size);
        rows.push(row);
        console.log(`# ${JSON.stringify(row)}`);
      }
    }
    delays = await measureDelay(database, emulator.url, Number(values["delay-samples"]));
  } finally {
    emulator.child.kill("SIGTERM");
    if (onPostgres) await database.execute(`DROP SCHEMA IF EXISTS ${schema} CASCADE`).catch(() => {});
    await database.close();
  }

  console.log(
    "\n## bench/shadow.ts — delta poller, one pass over every due binding (emulator, quotas off)\n",
  );
  console.log(
    `Database: ${onPostgres ? "PostgreSQL" : "PGlite"}; PollBatchSize ${batch}; PollConcurrency ${concurrency}; ` +
      "GetThingShadow rate limit 100,000/s (the quota allows it); shadows reported-only (in sync).\n",
  );
  console.log(
    "| bindings | poller processes | sweep time (s) | GetThingShadow calls | reads/s | RSS at start → peak during the sweep, per poller (MB) | heap used: peak / retained after GC (MB) | process maxRSS (MB) |",
  );
  console.log("|---:|---:|---:|---:|---:|---|---|---|");
  for (const r of rows) {
    const each = (f: (m: MemoryReport) => string) => r.memory.map(f).join(" / ");
    console.log(
      `| ${r.bindings.toLocaleString("en")} | ${r.pollers} | ${(r.sweepMs / 1000).toFixed(1)} | ${r.calls.toLocaleString("en")} | ` +
        `${Math.round(r.bindings / (r.sweepMs / 1000)).toLocaleString("en")} | ${each((m) => `${m.rssStartMb} → ${m.rssPeakMb}`)} | ` +
        `${each((m) => `${m.heapPeakMb} / ${m.heapRetainedMb}`)} | ${each((m) => String(m.maxRssMb))} |`,
    );
  }
  if (!onPostgres)
    console.log("\n(PGlite: the poller runs in the bench process; its RSS includes the embedded database.)");
  const sorted = [...delays].sort((a, b) => a - b);
  const at = (q: number) =>
    ((sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0) / 1000).toFixed(2);
  console.log(
    `\nDesired update → DeviceDesiredStateChangedEvent committed (PollIntervalSeconds 5, 1,000 bindings, ${delays.length} samples): ` +
      `p50 ${at(0.5)} s, max ${at(1)} s (bound: one interval plus one read; with the default 30 s, up to ~30 s).`,
  );
  console.log(
    "Goal: peak RSS flat in the number of bindings; 100,000 bindings in under 30 s when the quota allows it.",
  );
}

if (values.role === "poller") await runPollerProcess();
else await main();
process.exit(0);
