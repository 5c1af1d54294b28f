/**
 * Child process for the SIGKILL crash test: dispatches one command and kills itself with SIGKILL
 * right after `CreateJob` succeeded, before the tracking record is marked Dispatched — a real
 * process death, not a simulated one. Configured through the environment by the test.
 */
import { IoTClient } from "@aws-sdk/client-iot";
import { AwsCallPolicy } from "@granit/iot-aws";
import { PostgresAwsThingBindingStore, PostgresJobTrackingStore } from "@granit/iot-aws-postgres";
import { Database, PostgresMessageBus } from "@granit/iot-postgres";
import { defaultAwsJobsOptions, registerAwsJobs } from "../../src/index.ts";

const env = (name: string): string => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is required`);
  return value;
};

const database = await Database.open({ url: env("DATABASE_URL"), schema: env("CRASH_SCHEMA"), poolSize: 2 });
const bus = new PostgresMessageBus(database);
const jobs = registerAwsJobs({
  bus,
  bindingStore: new PostgresAwsThingBindingStore(database, bus),
  trackingStore: new PostgresJobTrackingStore(database, bus),
  iot: new IoTClient({
    endpoint: env("CRASH_EMULATOR_URL"),
    region: env("CRASH_REGION"),
    credentials: { accessKeyId: "emulator", secretAccessKey: "emulator" },
    maxAttempts: 1,
  }),
  callPolicy: new AwsCallPolicy(),
  options: defaultAwsJobsOptions(),
  hooks: {
    afterCreateJob: () => {
      process.kill(process.pid, "SIGKILL");
      return new Promise<void>(() => {});
    },
  },
});
await jobs.dispatcher.dispatch(
  {
    correlationId: env("CRASH_CORRELATION_ID"),
    operation: "firmware.update",
    parameters: { version: "9.9.9" },
    tenantId: env("CRASH_TENANT"),
  },
  { kind: "device", address: env("CRASH_THING_ARN") },
);
process.exit(3); // unreachable: the process died after CreateJob
