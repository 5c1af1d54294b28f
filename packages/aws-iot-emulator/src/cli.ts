#!/usr/bin/env node
/**
 * `granit-aws-emulator`: runs the emulator until SIGINT/SIGTERM and prints the environment variables
 * that point the AWS SDKs (and CLIs) at it.
 *
 *   granit-aws-emulator [--port 4566] [--host 127.0.0.1] [--region us-east-1] [--account-id 000000000000]
 *                       [--quotas off|aws-default|<json>] [--state-file path] [--detach-propagation-ms 300]
 *                       [--key-pool 16] [--verbose]
 */
import { parseArgs } from "node:util";
import { type EmulatorOptions, startEmulator } from "./index.ts";

const USAGE = `Usage: granit-aws-emulator [--port 4566] [--host 127.0.0.1] [--region us-east-1]
  [--account-id 000000000000] [--quotas off|aws-default|'{"iot:CreateThing":15}']
  [--state-file path] [--detach-propagation-ms 300] [--key-pool 16] [--verbose]`;

function parseQuotas(value: string | undefined): EmulatorOptions["quotas"] {
  if (value === undefined || value === "off" || value === "aws-default") return value;
  return JSON.parse(value) as Record<string, number>;
}

function integer(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new Error(`--${name} must be a non-negative integer`);
  return n;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      port: { type: "string" },
      host: { type: "string" },
      region: { type: "string" },
      "account-id": { type: "string" },
      quotas: { type: "string" },
      "state-file": { type: "string" },
      "detach-propagation-ms": { type: "string" },
      "key-pool": { type: "string" },
      verbose: { type: "boolean", default: false },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const options: EmulatorOptions = {
    port: integer("port", values.port) ?? 4566,
    quotas: parseQuotas(values.quotas),
    logger: (line) => {
      if (values.verbose || line.startsWith("emulator:")) process.stderr.write(`${line}\n`);
    },
  };
  if (values.host !== undefined) options.host = values.host;
  if (values.region !== undefined) options.region = values.region;
  if (values["account-id"] !== undefined) options.accountId = values["account-id"];
  if (values["state-file"] !== undefined) options.stateFile = values["state-file"];
  const detach = integer("detach-propagation-ms", values["detach-propagation-ms"]);
  if (detach !== undefined) options.detachPropagationMs = detach;
  const pool = integer("key-pool", values["key-pool"]);
  if (pool !== undefined) options.keyPool = { size: pool };

  const emulator = await startEmulator(options);
  process.stdout.write(
    [
      `granit-aws-emulator listening on ${emulator.url} (region ${emulator.region}, account ${emulator.accountId})`,
      "Point the AWS SDKs at it:",
      `  export AWS_ENDPOINT_URL=${emulator.url}`,
      `  export AWS_REGION=${emulator.region}`,
      "  export AWS_ACCESS_KEY_ID=emulator AWS_SECRET_ACCESS_KEY=emulator",
      `Admin API: ${emulator.url}/_emulator/health`,
      "",
    ].join("\n"),
  );
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    process.stderr.write(`emulator: ${signal} received, stopping\n`);
    emulator.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        process.stderr.write(`emulator: stop failed: ${String(error)}\n`);
        process.exit(1);
      },
    );
  };
  process.on("SIGINT", () => stop("SIGINT"));
  process.on("SIGTERM", () => stop("SIGTERM"));
}

main().catch((error: unknown) => {
  process.stderr.write(
    `granit-aws-emulator: ${error instanceof Error ? error.message : String(error)}\n${USAGE}\n`,
  );
  process.exit(1);
});
