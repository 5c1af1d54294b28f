/** The moto starter and the conformance targets of `@granit/aws-iot-emulator/testing`. */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { chmod, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import {
  CreateThingCommand,
  DescribeThingCommand,
  IoTClient,
  ResourceNotFoundException,
} from "@aws-sdk/client-iot";
import {
  awsTargets,
  findMotoServer,
  MOTO_NOT_FOUND,
  MotoServerError,
  startMotoServer,
} from "../src/testing.ts";
import { rejectsWith } from "./support/harness.ts";

const MOTO_SKIP = findMotoServer() ? false : MOTO_NOT_FOUND;
const TESTING = fileURLToPath(new URL("../src/testing.ts", import.meta.url));

test("the testing entry point exposes the moto starter and the conformance targets", async () => {
  const surface = await import("@granit/aws-iot-emulator/testing");
  assert.deepEqual(Object.keys(surface).sort(), [
    "MOTO_NOT_FOUND",
    "MotoServerError",
    "awsTargets",
    "findMotoServer",
    "startMotoServer",
  ]);
});

test("without moto_server on PATH the moto target is skipped with the printed notice", async () => {
  // Act
  const script = `import { awsTargets, findMotoServer } from ${JSON.stringify(TESTING)};
    console.log(JSON.stringify({ found: findMotoServer() ?? null, skips: awsTargets().map((t) => [t.name, t.skip]) }));`;
  const { stdout } = await promisify(execFile)(process.execPath, ["--input-type=module", "-e", script], {
    env: { PATH: "/nonexistent" },
  });
  // Assess
  assert.deepEqual(JSON.parse(stdout), {
    found: null,
    skips: [
      ["emulator", false],
      ["moto", "moto_server not found on PATH: conformance against moto skipped"],
    ],
  });
});

test("startMotoServer reports an executable that cannot run, or exits before answering, with its output", async () => {
  // Prepare
  const dir = await mkdtemp(join(tmpdir(), "granit-moto-"));
  const failing = join(dir, "moto_server");
  await writeFile(failing, "#!/bin/sh\necho 'moto: no such module' >&2\nexit 3\n");
  await chmod(failing, 0o755);
  try {
    // Act
    const missing = startMotoServer({ executable: join(dir, "absent") });
    const exiting = startMotoServer({ executable: failing });
    // Assess
    await assert.rejects(
      missing,
      (error: Error) => error instanceof MotoServerError && /could not run/.test(error.message),
    );
    await assert.rejects(
      exiting,
      (error: Error) =>
        error instanceof MotoServerError &&
        /exit code 3/.test(error.message) &&
        /no such module/.test(error.message),
    );
    assert.equal(findMotoServer(dir), failing);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test("startMotoServer answers on a loopback port, reset forgets every resource, stop ends it", {
  skip: MOTO_SKIP,
}, async () => {
  // Prepare
  const moto = await startMotoServer();
  const iot = new IoTClient({ ...moto.clientConfig(), maxAttempts: 1 });
  try {
    await iot.send(new CreateThingCommand({ thingName: "t" }));
    // Act
    await moto.reset();
    // Assess
    assert.match(moto.url, /^http:\/\/127\.0\.0\.1:\d+$/);
    await rejectsWith(iot.send(new DescribeThingCommand({ thingName: "t" })), ResourceNotFoundException, 404);
  } finally {
    iot.destroy();
    await moto.stop();
  }
  await assert.rejects(fetch(`${moto.url}/moto-api/`), "nothing listens once stopped");
});

test("a forgotten stop() neither keeps the process alive nor leaves moto running", {
  skip: MOTO_SKIP,
}, async () => {
  // Act
  const script = `import { startMotoServer } from ${JSON.stringify(TESTING)};
    console.log((await startMotoServer()).url);`;
  const { stdout } = await promisify(execFile)(process.execPath, ["--input-type=module", "-e", script], {
    timeout: 30_000,
  });
  // Assess
  const url = stdout.trim();
  assert.match(url, /^http:\/\/127\.0\.0\.1:\d+$/);
  let answering = true;
  for (let i = 0; i < 50 && answering; i++) {
    answering = await fetch(`${url}/moto-api/`).then(
      async (response) => {
        await response.arrayBuffer();
        return true;
      },
      () => false,
    );
    if (answering) await new Promise((resolve) => setTimeout(resolve, 100));
  }
  assert.equal(answering, false, "moto was killed with the process that started it");
});

test("awsTargets starts each available backend with the same client config shape", async (t) => {
  for (const target of awsTargets()) {
    await t.test(target.name, { skip: target.skip }, async () => {
      // Prepare
      const backend = await target.start();
      const iot = new IoTClient({ ...backend.clientConfig(), maxAttempts: 1 });
      try {
        await iot.send(new CreateThingCommand({ thingName: "t" }));
        // Act
        await backend.reset();
        // Assess
        await rejectsWith(iot.send(new DescribeThingCommand({ thingName: "t" })), ResourceNotFoundException);
        assert.equal(backend.emulator === undefined, target.name === "moto");
      } finally {
        iot.destroy();
        await backend.stop();
      }
    });
  }
});
