/**
 * Throughput of @granit/aws-iot-emulator driven by the real AWS SDK v3 clients.
 *
 *   npm exec -- node bench/emulator.ts        (BENCH_QUICK=1: a tenth of the requests)
 *
 * The emulator runs on the main thread; the SDK clients run in worker threads (the SDK's own per-call
 * cost, ~0.45 ms of CPU, would otherwise cap a single thread near 2,000 calls/s whatever the server
 * does). Each worker warms up (JIT, keep-alive connections), then all start together; the table shows
 * requests/s over the wall time of the measured phase and p50/p99 latency seen by the SDK.
 * CreateKeysAndCertificate is measured with the RSA key pool filled beforehand (see key-pool.ts):
 * on demand, RSA-2048 generation alone limits a 2-core machine to ~40 keys/s.
 */
import { availableParallelism, cpus } from "node:os";
import { isMainThread, parentPort, Worker, workerData } from "node:worker_threads";
import {
  CreateKeysAndCertificateCommand,
  CreateThingCommand,
  DescribeThingCommand,
  IoTClient,
} from "@aws-sdk/client-iot";
import { IoTDataPlaneClient, UpdateThingShadowCommand } from "@aws-sdk/client-iot-data-plane";
import { startEmulator } from "@granit/aws-iot-emulator";

type Operation = "DescribeThing" | "UpdateThingShadow" | "CreateKeysAndCertificate";

interface Plan {
  readonly operation: Operation;
  readonly requests: number;
  /** In-flight calls per worker. */
  readonly concurrency: number;
}

const WORKERS = 2;
const THINGS = 100;
/** `BENCH_QUICK=1` (bench/run-all.ts --quick): a tenth of the requests, for a smoke run. */
const DIVISOR = process.env.BENCH_QUICK === "1" ? 10 : 1;
const PLANS: readonly Plan[] = [
  { operation: "DescribeThing", requests: 30_000 / DIVISOR, concurrency: 32 },
  { operation: "UpdateThingShadow", requests: 20_000 / DIVISOR, concurrency: 32 },
  { operation: "CreateKeysAndCertificate", requests: 1_200 / DIVISOR, concurrency: 16 },
];

interface WorkerInput {
  readonly config: {
    endpoint: string;
    region: string;
    credentials: { accessKeyId: string; secretAccessKey: string };
  };
  readonly plan: Plan;
  readonly share: number;
}

if (isMainThread) await main();
else await runWorker(workerData as WorkerInput);

async function main(): Promise<void> {
  const keyPool = PLANS.find((p) => p.operation === "CreateKeysAndCertificate")?.requests ?? 0;
  const emulator = await startEmulator({ port: 0, keyPool: { size: keyPool } });
  const config = emulator.clientConfig();
  const iot = new IoTClient(config);
  for (let i = 0; i < THINGS; i++) await iot.send(new CreateThingCommand({ thingName: `bench-${i}` }));
  iot.destroy();

  const poolStart = performance.now();
  await emulator.keyPoolReady();
  const poolSeconds = (performance.now() - poolStart) / 1000;

  const rows: string[][] = [];
  for (const plan of PLANS) {
    const result = await measure(config, plan);
    rows.push([
      plan.operation,
      String(plan.requests),
      String(plan.concurrency * WORKERS),
      result.rate.toFixed(0),
      result.p50.toFixed(2),
      result.p99.toFixed(2),
      String(result.errors),
    ]);
  }
  await emulator.stop();

  const header = ["operation", "requests", "in flight", "req/s", "p50 ms", "p99 ms", "errors"];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join("  ");
  console.log(
    `\n@granit/aws-iot-emulator bench — Node ${process.version}, ${availableParallelism()} CPUs (${cpus()[0]?.model ?? "?"})`,
  );
  console.log(
    `SDK clients in ${WORKERS} worker threads; RSA key pool of ${keyPool} filled in ${poolSeconds.toFixed(1)} s before measuring\n`,
  );
  console.log(line(header));
  console.log(line(widths.map((w) => "-".repeat(w))));
  for (const row of rows) console.log(line(row));
}

async function measure(config: WorkerInput["config"], plan: Plan) {
  const workers = Array.from({ length: WORKERS }, (_, i) => {
    const share = Math.floor(plan.requests / WORKERS) + (i < plan.requests % WORKERS ? 1 : 0);
    return new Worker(new URL(import.meta.url), {
      workerData: { config, plan, share } satisfies WorkerInput,
    });
  });
  const ready = workers.map((w) => new Promise<void>((resolve) => w.once("message", () => resolve())));
  await Promise.all(ready);
  const done = workers.map(
    (w) =>
      new Promise<{ latencies: number[]; errors: number }>((resolve, reject) => {
        w.once("message", resolve);
        w.once("error", reject);
      }),
  );
  const start = performance.now();
  for (const w of workers) w.postMessage("go");
  const results = await Promise.all(done);
  const seconds = (performance.now() - start) / 1000;
  await Promise.all(workers.map((w) => w.terminate()));
  const latencies = results.flatMap((r) => r.latencies).sort((a, b) => a - b);
  const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? 0;
  return {
    rate: latencies.length / seconds,
    p50: at(0.5),
    p99: at(0.99),
    errors: results.reduce((n, r) => n + r.errors, 0),
  };
}

async function runWorker({ config, plan, share }: WorkerInput): Promise<void> {
  const iot = new IoTClient({ ...config, maxAttempts: 1 });
  const data = new IoTDataPlaneClient({ ...config, maxAttempts: 1 });
  let counter = 0;
  const call = (): Promise<unknown> => {
    const thingName = `bench-${counter++ % THINGS}`;
    switch (plan.operation) {
      case "DescribeThing":
        return iot.send(new DescribeThingCommand({ thingName }));
      case "UpdateThingShadow":
        return data.send(
          new UpdateThingShadowCommand({
            thingName,
            payload: new TextEncoder().encode(
              JSON.stringify({ state: { reported: { seq: counter, temperature: 21.5 } } }),
            ),
          }),
        );
      case "CreateKeysAndCertificate":
        return iot.send(new CreateKeysAndCertificateCommand({ setAsActive: true }));
    }
  };
  // Warm-up: JIT and keep-alive connections, without spending pooled keys.
  await Promise.all(
    Array.from({ length: plan.concurrency }, async () => {
      for (let i = 0; i < 20; i++) await iot.send(new DescribeThingCommand({ thingName: "bench-0" }));
    }),
  );
  const port = parentPort;
  if (!port) return;
  port.postMessage("ready");
  await new Promise((resolve) => port.once("message", resolve));
  const latencies: number[] = [];
  let errors = 0;
  let issued = 0;
  await Promise.all(
    Array.from({ length: plan.concurrency }, async () => {
      while (issued < share) {
        issued++;
        const t = performance.now();
        try {
          await call();
          latencies.push(performance.now() - t);
        } catch {
          errors++;
        }
      }
    }),
  );
  port.postMessage({ latencies, errors });
  iot.destroy();
  data.destroy();
}
