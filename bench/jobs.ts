/**
 * IoT Jobs bridge bench (issue #7), against the emulator enforcing AWS's default quotas
 * (`quotas: "aws-default"`: CreateJob and DescribeJobExecution 10 requests/s per account, jobs data
 * plane 200/s), with the real SDK clients and the real database:
 *
 * 1. dispatch: `--commands` device commands sent through `AwsIoTJobsCommandDispatcher` with
 *    `--concurrency` in flight → commands/s against CreateJob's 10/s quota, failures, throttled
 *    requests (retried by the call policy);
 * 2. completion delay: `--latency-commands` jobs answered SUCCEEDED by simulated devices (jobs data
 *    plane: StartNextPendingJobExecution / UpdateJobExecution) at staggered times → delay from the
 *    device's answer to the `DeviceCommandCompletedEvent` delivered on the bus. The poller runs a
 *    round every 250 ms with `StatusPollIntervalSeconds` = 1 (below the 15-second production
 *    minimum, set in code for the bench) — the delay is bounded by that interval plus one sweep of
 *    the open jobs at DescribeJobExecution's 10/s.
 *
 *   npm exec -- node bench/jobs.ts [--commands 200] [--concurrency 32] [--latency-commands 20]
 *
 * Runs on PGlite (in-memory) and, when DATABASE_URL is set, on PostgreSQL (fresh schema).
 * Goal: ≥ 90 % of CreateJob's quota with 0 failures.
 */
import { parseArgs } from "node:util";
import { CreateThingCommand, IoTClient } from "@aws-sdk/client-iot";
import { IoTJobsDataPlaneClient } from "@aws-sdk/client-iot-jobs-data-plane";
import { startEmulator } from "@granit/aws-iot-emulator";
import { type DomainEvent, uuidv7 } from "@granit/iot";
import { AwsCallPolicy, ThingName } from "@granit/iot-aws";
import { defaultAwsJobsOptions, registerAwsJobs } from "@granit/iot-aws-jobs";
import { SimulatedJobsDevice } from "@granit/iot-aws-jobs/testing";
import {
  IOTAWS_MIGRATIONS,
  PostgresAwsThingBindingStore,
  PostgresJobTrackingStore,
} from "@granit/iot-aws-postgres";
import { IOT_MIGRATIONS, PostgresMessageBus } from "@granit/iot-postgres";
import { databaseTargets } from "@granit/iot-postgres/testing";

const { values } = parseArgs({
  options: {
    commands: { type: "string", default: "200" },
    concurrency: { type: "string", default: "32" },
    "latency-commands": { type: "string", default: "20" },
  },
});
const COMMANDS = Number(values.commands);
const CONCURRENCY = Number(values.concurrency);
const LATENCY_COMMANDS = Number(values["latency-commands"]);
const CREATE_JOB_QUOTA = 10;
const TENANT = "0a7c2b6e-0000-4000-8000-00000000000a";

interface DispatchRow {
  database: string;
  commands: number;
  concurrency: number;
  seconds: number;
  perSecond: number;
  ofQuota: number;
  failures: number;
  throttled: number;
  awsJobs: number;
}
interface LatencyRow {
  database: string;
  jobs: number;
  p50: number;
  p95: number;
  max: number;
  events: number;
  describes: number;
  throttledDescribes: number;
}

const dispatchRows: DispatchRow[] = [];
const latencyRows: LatencyRow[] = [];
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const quantile = (sorted: number[], q: number) =>
  sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] ?? Number.NaN;

for (const target of databaseTargets()) {
  if (target.skip) {
    console.log(`# ${target.name}: ${target.skip}`);
    continue;
  }
  const tdb = await target.open({ migrations: [IOT_MIGRATIONS, IOTAWS_MIGRATIONS] });
  const emulator = await startEmulator({ port: 0, quotas: "off" });
  const iot = new IoTClient({ ...emulator.clientConfig(), maxAttempts: 1 });
  const jobsData = new IoTJobsDataPlaneClient({ ...emulator.clientConfig(), maxAttempts: 5 });
  const bus = new PostgresMessageBus(tdb.database, { pollIntervalMs: 50 });
  const completedAt = new Map<string, number>();
  bus.subscribe("DeviceCommandCompletedEvent", "bench.recorder", async (event: DomainEvent) => {
    completedAt.set((event as DomainEvent & { jobId: string }).jobId, Date.now());
  });
  const trackingStore = new PostgresJobTrackingStore(tdb.database, bus);
  const jobs = registerAwsJobs({
    bus,
    bindingStore: new PostgresAwsThingBindingStore(tdb.database, bus),
    trackingStore,
    iot,
    callPolicy: new AwsCallPolicy(),
    options: { ...defaultAwsJobsOptions(), statusPollIntervalSeconds: 1 },
  });
  await bus.start();

  // Things first, without quotas (CreateThing has its own 15/s quota; not what is measured here).
  const things: string[] = [];
  for (let i = 0; i < COMMANDS + LATENCY_COMMANDS; i++) {
    const name = ThingName.from(TENANT, `BENCH-${i}`).value;
    things.push((await iot.send(new CreateThingCommand({ thingName: name }))).thingArn ?? "");
  }
  emulator.setQuotas("aws-default");
  await sleep(1100); // let the emulator's buckets fill, as on an idle account

  // 1. Dispatch throughput.
  const callsBefore = emulator.calls().length;
  let next = 0;
  let failures = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < COMMANDS) {
        const i = next++;
        try {
          await jobs.dispatcher.dispatch(
            {
              correlationId: uuidv7(),
              operation: "firmware.update",
              parameters: { version: "2.0.0", i },
              tenantId: TENANT,
            },
            { kind: "device", address: things[i] ?? "" },
          );
        } catch (error) {
          failures++;
          console.error(`dispatch ${i} failed: ${(error as Error).message}`);
        }
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  const createJobCalls = emulator
    .calls()
    .slice(callsBefore)
    .filter((c) => c.operation === "CreateJob");
  dispatchRows.push({
    database: target.name,
    commands: COMMANDS,
    concurrency: CONCURRENCY,
    seconds,
    perSecond: COMMANDS / seconds,
    ofQuota: COMMANDS / seconds / CREATE_JOB_QUOTA,
    failures,
    throttled: createJobCalls.filter((c) => c.status === 400 || c.status === 429).length,
    awsJobs: emulator.inventory().jobs.length,
  });

  // The dispatched jobs stay QUEUED and are not part of the delay measurement: close them out.
  await tdb.database.execute(
    `UPDATE iotaws_tracked_jobs SET status = 'Expired', terminal_published_at = now(), reason = 'bench'`,
  );

  // 2. Device SUCCEEDED → DeviceCommandCompletedEvent delay.
  const latencyThings = things.slice(COMMANDS);
  const latencyJobs: { jobId: string; thingName: string }[] = [];
  for (const [i, thingArn] of latencyThings.entries()) {
    const { jobId } = await jobs.dispatcher.dispatch(
      { correlationId: uuidv7(), operation: "config.apply", parameters: { i }, tenantId: TENANT },
      { kind: "device", address: thingArn },
    );
    latencyJobs.push({ jobId, thingName: thingArn.split("/").at(-1) ?? "" });
  }
  const latencyCallsBefore = emulator.calls().length;
  let polling = true;
  const pollerLoop = (async () => {
    while (polling) {
      await jobs.poller.pollOnce();
      await sleep(250);
    }
  })();
  const answeredAt = new Map<string, number>();
  await Promise.all(
    latencyJobs.map(async ({ thingName }, i) => {
      await sleep(Math.round((i * 5000) / latencyJobs.length)); // answers spread over 5 s
      const run = await new SimulatedJobsDevice({ client: jobsData, thingName }).runNext();
      if (run?.answeredAt) answeredAt.set(run.job.jobId, run.answeredAt);
    }),
  );
  const deadline = Date.now() + 60_000;
  while (completedAt.size < latencyJobs.length && Date.now() < deadline) await sleep(50);
  polling = false;
  await pollerLoop;
  const delays = latencyJobs
    .map(({ jobId }) => (completedAt.get(jobId) ?? Number.NaN) - (answeredAt.get(jobId) ?? Number.NaN))
    .filter(Number.isFinite)
    .sort((a, b) => a - b);
  const describeCalls = emulator
    .calls()
    .slice(latencyCallsBefore)
    .filter((c) => c.operation === "DescribeJobExecution");
  latencyRows.push({
    database: target.name,
    jobs: latencyJobs.length,
    p50: quantile(delays, 0.5),
    p95: quantile(delays, 0.95),
    max: delays.at(-1) ?? Number.NaN,
    events: completedAt.size,
    describes: describeCalls.length,
    throttledDescribes: describeCalls.filter((c) => c.status === 400 || c.status === 429).length,
  });

  await bus.stop();
  iot.destroy();
  jobsData.destroy();
  await emulator.stop();
  await tdb.dispose();
}

console.log(`
Dispatch throughput (emulator quotas "aws-default": CreateJob ${CREATE_JOB_QUOTA}/s, burst 1 s)

| database | commands | in flight | seconds | commands/s | % of CreateJob quota | after the 1-s burst | failures | throttled CreateJob requests (retried) | jobs in AWS |
|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|
${dispatchRows
  .map(
    (r) =>
      `| ${r.database} | ${r.commands} | ${r.concurrency} | ${r.seconds.toFixed(1)} | ${r.perSecond.toFixed(2)} | ${(r.ofQuota * 100).toFixed(0)} % | ${(((r.commands - CREATE_JOB_QUOTA) / r.seconds / CREATE_JOB_QUOTA) * 100).toFixed(0)} % | ${r.failures} | ${r.throttled} | ${r.awsJobs} |`,
  )
  .join("\n")}

Device SUCCEEDED → DeviceCommandCompletedEvent delivered (StatusPollIntervalSeconds = 1 for the bench, a round every 250 ms, DescribeJobExecution ≤ 10/s)

| database | jobs | p50 ms | p95 ms | max ms | completed events | DescribeJobExecution calls | throttled (retried) |
|---|---:|---:|---:|---:|---:|---:|---:|
${latencyRows
  .map(
    (r) =>
      `| ${r.database} | ${r.jobs} | ${r.p50.toFixed(0)} | ${r.p95.toFixed(0)} | ${r.max.toFixed(0)} | ${r.events} | ${r.describes} | ${r.throttledDescribes} |`,
  )
  .join("\n")}
`);
