/**
 * The credential provider and the call policy with the real AWS SDK client over HTTP against
 * `@granit/aws-iot-emulator`. Test-only use of the SDK: `src/` never imports it (architecture test).
 */
import assert from "node:assert/strict";
import { after, before, beforeEach, describe, it } from "node:test";
// biome-ignore lint/style/noRestrictedImports: integration test drives the real SDK client; src/ stays SDK-free.
import { CreateThingCommand, DescribeThingCommand, IoTClient } from "@aws-sdk/client-iot";
import { type Emulator, startEmulator } from "@granit/aws-iot-emulator";
import { TestMetrics } from "@granit/iot-aws/testing";
import {
  AwsCallPolicy,
  AwsCredentialsNotReadyError,
  type AwsIoTCredentialLoader,
  createAwsIoTCredentialProvider,
  type LoadedAwsIoTCredentials,
  ManualScheduler,
  ThingName,
} from "../src/index.ts";

const TENANT = "7c9e6679-7425-40de-944b-e07fc1f90ae7";
const FLEET_SECRET = "arn:aws:secretsmanager:us-east-1:000000000000:secret:fleet/keys-AbC123";

let emulator: Emulator;
before(async () => {
  emulator = await startEmulator({ port: 0 });
});
after(() => emulator.stop());
beforeEach(() => {
  emulator.reset();
  emulator.setFaults([]);
});

/** A client on the emulator that leaves retries to the policy. */
function iotClient(
  credentials?: ReturnType<ReturnType<typeof createAwsIoTCredentialProvider>["sdkCredentials"]>,
) {
  const config = emulator.clientConfig();
  return new IoTClient({ ...config, ...(credentials ? { credentials } : {}), maxAttempts: 1 });
}

class KeyRing implements AwsIoTCredentialLoader {
  current: LoadedAwsIoTCredentials | Error;
  constructor(initial: LoadedAwsIoTCredentials | Error) {
    this.current = initial;
  }
  async load(): Promise<LoadedAwsIoTCredentials> {
    if (this.current instanceof Error) throw this.current;
    return this.current;
  }
}

describe("rotating credentials with a real SDK client", () => {
  it("signs requests with the loaded keys, then with the rotated keys after the next check", async () => {
    const keys = new KeyRing({ accessKeyId: "AKIAFIRSTKEY00001", secretAccessKey: "first-secret" });
    const scheduler = new ManualScheduler(Date.now());
    const provider = createAwsIoTCredentialProvider(
      {
        fleetCredentialSecretArn: FLEET_SECRET,
        rotationCheckIntervalMinutes: 5,
        initialFetchTimeoutSeconds: 15,
      },
      { loader: keys, scheduler, meter: new TestMetrics().meter },
    );
    await provider.start();
    const iot = iotClient(provider.sdkCredentials());

    await iot.send(new CreateThingCommand({ thingName: ThingName.from(TENANT, "ROT-1").value }));
    keys.current = {
      accessKeyId: "AKIASECONDKEY0002",
      secretAccessKey: "second-secret",
      sessionToken: "tok",
    };
    await iot.send(new DescribeThingCommand({ thingName: ThingName.from(TENANT, "ROT-1").value }));
    await scheduler.advance(5 * 60_000); // the rotation check picks the new keys up
    await iot.send(new DescribeThingCommand({ thingName: ThingName.from(TENANT, "ROT-1").value }));
    keys.current = new Error("Secrets Manager unavailable");
    await scheduler.advance(5 * 60_000); // a failed refresh: stale-ok
    await iot.send(new DescribeThingCommand({ thingName: ThingName.from(TENANT, "ROT-1").value }));

    assert.deepEqual(
      emulator.calls().map((c) => `${c.operation}:${c.accessKeyId}`),
      [
        "CreateThing:AKIAFIRSTKEY00001",
        "DescribeThing:AKIAFIRSTKEY00001",
        "DescribeThing:AKIASECONDKEY0002",
        "DescribeThing:AKIASECONDKEY0002",
      ],
    );
    assert.equal(provider.status().consecutiveFailures, 1);
    await provider.stop();
  });

  it("sends nothing through the call policy while the gate is closed", async () => {
    const scheduler = new ManualScheduler(Date.now());
    const provider = createAwsIoTCredentialProvider(
      {
        fleetCredentialSecretArn: FLEET_SECRET,
        rotationCheckIntervalMinutes: 5,
        initialFetchTimeoutSeconds: 15,
      },
      { loader: new KeyRing(new Error("AccessDeniedException")), scheduler, meter: new TestMetrics().meter },
    );
    await provider.start();
    const policy = new AwsCallPolicy({}, { credentials: provider, meter: new TestMetrics().meter });
    const iot = policy.forClient(iotClient(provider.sdkCredentials()), "iot");
    await assert.rejects(
      iot.call(new CreateThingCommand({ thingName: "never-sent" })),
      AwsCredentialsNotReadyError,
    );
    assert.deepEqual(emulator.calls(), []);
    await provider.stop();
  });
});

describe("the call policy against the emulator's injected faults", () => {
  const fast = { baseDelayMilliseconds: 10, maxDelayMilliseconds: 50 };

  it("absorbs throttling: the caller succeeds and the emulator's call log shows the retries", async () => {
    const metrics = new TestMetrics();
    const policy = new AwsCallPolicy(fast, { meter: metrics.meter });
    const iot = policy.forClient(iotClient(), "iot");
    const thingName = ThingName.from(TENANT, "THROTTLED-1").value;
    emulator.setFaults([{ service: "iot", operation: "CreateThing", kind: "throttle", count: 3 }]);

    const created = await iot.call(new CreateThingCommand({ thingName }), { tenantId: TENANT });
    const arn: string | undefined = created.thingArn; // typed as CreateThingCommandOutput

    assert.equal(arn, `arn:aws:iot:us-east-1:000000000000:thing/${thingName}`);
    assert.deepEqual(
      emulator.calls().map((c) => `${c.operation} ${c.status} ${c.error ?? "ok"}`),
      [
        "CreateThing 400 ThrottlingException",
        "CreateThing 400 ThrottlingException",
        "CreateThing 400 ThrottlingException",
        "CreateThing 200 ok",
      ],
    );
    assert.equal(
      await metrics.sum("granit.iot.aws.throttles", { operation: "CreateThing", tenant_id: TENANT }),
      3,
    );
    assert.equal(
      await metrics.sum("granit.iot.aws.calls", { operation: "CreateThing", outcome: "success" }),
      1,
    );
    assert.deepEqual(
      emulator.inventory().things.map((t) => t.name),
      [thingName],
    );
  });

  it("retries internal errors and dropped connections too", async () => {
    const policy = new AwsCallPolicy(fast, { meter: new TestMetrics().meter });
    const iot = policy.forClient(iotClient(), "iot");
    const thingName = ThingName.from(TENANT, "FLAKY-1").value;
    emulator.setFaults([
      { service: "iot", operation: "CreateThing", kind: "error500", count: 1 },
      { service: "iot", operation: "CreateThing", kind: "drop", count: 1 },
    ]);
    await iot.call(new CreateThingCommand({ thingName }));
    assert.deepEqual(
      emulator.calls().map((c) => c.status),
      [500, 0, 200],
    );
  });

  it("throws a not-found at once, unchanged, so the caller can branch on its name", async () => {
    const policy = new AwsCallPolicy(fast, { meter: new TestMetrics().meter });
    const iot = policy.forClient(iotClient(), "iot");
    await assert.rejects(iot.call(new DescribeThingCommand({ thingName: "ghost" })), {
      name: "ResourceNotFoundException",
    });
    assert.equal(emulator.calls().length, 1);
  });
});
