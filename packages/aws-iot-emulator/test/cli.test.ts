import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { test } from "node:test";
import { fileURLToPath } from "node:url";

const CLI = fileURLToPath(new URL("../src/cli.ts", import.meta.url));

test("the CLI prints its URL and SDK environment, serves, and stops cleanly on SIGTERM", async () => {
  // Prepare
  const child = spawn(
    process.execPath,
    [CLI, "--port", "0", "--region", "eu-west-1", "--quotas", "aws-default"],
    {
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  let output = "";
  child.stdout.setEncoding("utf8");
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout.on("data", (chunk: string) => {
      output += chunk;
      const match = /export AWS_ENDPOINT_URL=(\S+)/.exec(output);
      if (match?.[1]) resolve(match[1]);
    });
    child.once("exit", (code) => reject(new Error(`CLI exited early with ${code}: ${output}`)));
  });
  // Act
  const health = (await (await fetch(`${url}/_emulator/health`)).json()) as {
    status: string;
    region: string;
  };
  const quotas = (await (await fetch(`${url}/_emulator/quotas`)).json()) as {
    quotas: Record<string, number>;
  };
  const exited = once(child, "exit");
  child.kill("SIGTERM");
  const [code] = await exited;
  // Assess
  assert.equal(health.status, "ok");
  assert.equal(health.region, "eu-west-1");
  assert.equal(quotas.quotas["iot:CreateThing"], 15);
  assert.match(output, /export AWS_REGION=eu-west-1/);
  assert.equal(code, 0);
});
