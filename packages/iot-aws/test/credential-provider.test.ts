import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { TestMetrics } from "@granit/iot-aws/testing";
import {
  AwsCredentialsNotReadyError,
  type AwsIoTCredentialLoader,
  type AwsIoTCredentialOptions,
  createAwsIoTCredentialProvider,
  type LoadedAwsIoTCredentials,
  ManualScheduler,
} from "../src/index.ts";

const ROTATING: AwsIoTCredentialOptions = {
  fleetCredentialSecretArn: "arn:aws:secretsmanager:eu-west-1:123456789012:secret:fleet/keys-AbC123",
  rotationCheckIntervalMinutes: 5,
  initialFetchTimeoutSeconds: 15,
};
const K1: LoadedAwsIoTCredentials = { accessKeyId: "AKIAFLEETKEY0001", secretAccessKey: "secret-1" };
const K2: LoadedAwsIoTCredentials = {
  accessKeyId: "AKIAFLEETKEY0002",
  secretAccessKey: "secret-2",
  sessionToken: "token-2",
};
const MINUTE = 60_000;

type Answer = (signal: AbortSignal) => Promise<LoadedAwsIoTCredentials | null>;
const ok =
  (credentials: LoadedAwsIoTCredentials | null): Answer =>
  async () =>
    credentials;
const fail =
  (message: string): Answer =>
  async () => {
    throw new Error(message);
  };
/** Never answers on its own; rejects when the provider aborts it. */
const hang: Answer = (signal) =>
  new Promise((_, reject) => signal.addEventListener("abort", () => reject(signal.reason), { once: true }));

/** A loader that plays a script of answers, one per fetch, and remembers the signals it got. */
class ScriptedLoader implements AwsIoTCredentialLoader {
  readonly signals: AbortSignal[] = [];
  readonly #script: Answer[];

  constructor(...script: Answer[]) {
    this.#script = script;
  }

  get calls(): number {
    return this.signals.length;
  }

  load(signal: AbortSignal): Promise<LoadedAwsIoTCredentials | null> {
    this.signals.push(signal);
    const answer = this.#script.shift();
    if (!answer) throw new Error("the test script ran out of answers");
    return answer(signal);
  }
}

function rotating(
  loader: AwsIoTCredentialLoader,
  extra: Partial<Parameters<typeof createAwsIoTCredentialProvider>[1]> = {},
) {
  const scheduler = new ManualScheduler("2026-02-01T00:00:00Z");
  const metrics = new TestMetrics();
  const provider = createAwsIoTCredentialProvider(ROTATING, {
    loader,
    scheduler,
    meter: metrics.meter,
    ...extra,
  });
  return { provider, scheduler, metrics };
}

async function keysOf(provider: ReturnType<typeof rotating>["provider"]) {
  const credentials = provider.sdkCredentials();
  assert.ok(credentials, "rotating mode hands the SDK a provider function");
  return credentials();
}

describe("IAM-role mode (FleetCredentialSecretArn unset)", () => {
  it("yields nothing so the SDK default chain authenticates, and is always ready", async () => {
    const provider = createAwsIoTCredentialProvider({ ...ROTATING, fleetCredentialSecretArn: null });
    await provider.start();
    assert.equal(provider.mode, "iam-role");
    assert.equal(provider.isReady(), true);
    assert.equal(provider.sdkCredentials(), undefined);
    assert.equal(provider.name, "aws-credentials");
    assert.match(provider.describe?.() ?? "", /default credential chain/);
    await provider.stop();
  });

  it("needs no loader", () => {
    assert.doesNotThrow(() =>
      createAwsIoTCredentialProvider({ ...ROTATING, fleetCredentialSecretArn: null }, {}),
    );
  });
});

describe("rotating mode", () => {
  it("refuses to start without a loader", () => {
    assert.throws(() => createAwsIoTCredentialProvider(ROTATING, {}), /no credential loader/);
  });

  it("is closed before the first fetch and refuses to hand out keys", async () => {
    const { provider } = rotating(new ScriptedLoader());
    assert.equal(provider.isReady(), false);
    await assert.rejects(keysOf(provider), AwsCredentialsNotReadyError);
  });

  it("opens the gate on a successful initial fetch and serves the loaded keys", async () => {
    const { provider, metrics } = rotating(new ScriptedLoader(ok(K1)));
    await provider.start();
    assert.equal(provider.isReady(), true);
    const keys = await keysOf(provider);
    assert.equal(keys.accessKeyId, K1.accessKeyId);
    assert.equal(keys.secretAccessKey, K1.secretAccessKey);
    assert.ok(keys.expiration, "an expiration makes the SDK ask again instead of caching the keys forever");
    assert.equal(provider.status().accessKeyIdSuffix, "0001");
    assert.equal(
      await metrics.sum("granit.iot.aws.credentials.refreshes", { outcome: "success", tenant_id: "host" }),
      1,
    );
    assert.equal(await metrics.sum("granit.iot.aws.credentials.ready"), 1);
    await provider.stop();
  });

  it("bounds the initial fetch by InitialFetchTimeoutSeconds, aborts the loader and stays closed", async () => {
    const loader = new ScriptedLoader(hang, ok(K1));
    const { provider, scheduler, metrics } = rotating(loader);
    const started = provider.start();
    await scheduler.advance(14_999);
    assert.equal(loader.signals[0]?.aborted, false, "still waiting just before the timeout");
    await scheduler.advance(1);
    await started;
    assert.equal(loader.signals[0]?.aborted, true);
    assert.equal(provider.isReady(), false);
    assert.match(provider.describe?.() ?? "", /did not answer within 15 s/);
    assert.equal(await metrics.sum("granit.iot.aws.credentials.refreshes", { outcome: "timeout" }), 1);
    assert.equal(await metrics.sum("granit.iot.aws.credentials.ready"), 0);

    await scheduler.advance(30_000); // not ready yet: retried after min(interval, 30 s)
    assert.equal(provider.isReady(), true);
    await provider.stop();
  });

  it("stays closed when the initial fetch fails, counts it, and opens on the next success", async () => {
    const { provider, scheduler, metrics } = rotating(
      new ScriptedLoader(fail("AccessDeniedException: no"), ok(K1)),
    );
    await provider.start();
    assert.equal(provider.isReady(), false);
    assert.equal(provider.status().consecutiveFailures, 1);
    assert.match(provider.status().lastError ?? "", /AccessDeniedException/);
    assert.equal(await metrics.sum("granit.iot.aws.credentials.refreshes", { outcome: "failure" }), 1);
    await scheduler.advance(29_999);
    assert.equal(provider.isReady(), false);
    await scheduler.advance(1);
    assert.equal(provider.isReady(), true);
    assert.equal(provider.status().consecutiveFailures, 0);
    await provider.stop();
  });

  it("picks up rotated keys at the next RotationCheckIntervalMinutes tick", async () => {
    const loader = new ScriptedLoader(ok(K1), ok(K2));
    const { provider, scheduler, metrics } = rotating(loader);
    await provider.start();
    await scheduler.advance(5 * MINUTE - 1);
    assert.equal((await keysOf(provider)).accessKeyId, K1.accessKeyId);
    await scheduler.advance(1);
    const keys = await keysOf(provider);
    assert.equal(keys.accessKeyId, K2.accessKeyId);
    assert.equal(keys.sessionToken, "token-2");
    assert.equal(loader.calls, 2);
    assert.equal(await metrics.sum("granit.iot.aws.credentials.rotations"), 1);
    await provider.stop();
  });

  it("keeps serving the last good keys when a refresh fails (stale-ok) and counts the failure", async () => {
    const loader = new ScriptedLoader(ok(K1), fail("InternalServiceError"), hang, ok(K2));
    const { provider, scheduler, metrics } = rotating(loader);
    await provider.start();
    await scheduler.advance(5 * MINUTE);
    assert.equal(provider.isReady(), true);
    assert.equal((await keysOf(provider)).accessKeyId, K1.accessKeyId);
    assert.match(provider.describe?.() ?? "", /last good keys after 1 failed refresh/);
    await scheduler.advance(5 * MINUTE + 15_000); // a hanging refresh times out too
    assert.equal(provider.isReady(), true);
    assert.equal((await keysOf(provider)).accessKeyId, K1.accessKeyId);
    assert.equal(provider.status().consecutiveFailures, 2);
    assert.equal(await metrics.sum("granit.iot.aws.credentials.refreshes", { outcome: "failure" }), 1);
    assert.equal(await metrics.sum("granit.iot.aws.credentials.refreshes", { outcome: "timeout" }), 1);
    await scheduler.advance(5 * MINUTE);
    assert.equal((await keysOf(provider)).accessKeyId, K2.accessKeyId);
    assert.equal(provider.status().consecutiveFailures, 0);
    assert.equal(provider.status().totalFailures, 2);
    await provider.stop();
  });

  it("never blocks a read while a refresh is in flight", async () => {
    const { provider, scheduler } = rotating(new ScriptedLoader(ok(K1), hang));
    await provider.start();
    await scheduler.advance(5 * MINUTE); // the refresh now hangs
    const keys = await keysOf(provider); // resolves without moving time
    assert.equal(keys.accessKeyId, K1.accessKeyId);
    await provider.stop();
  });

  it("treats malformed or already expired keys as a failed fetch", async () => {
    const expired = { ...K2, expiration: new Date("2026-01-31T00:00:00Z") };
    const malformed = { accessKeyId: "", secretAccessKey: "x" };
    const { provider, scheduler } = rotating(new ScriptedLoader(ok(malformed), ok(expired), ok(K1)));
    await provider.start();
    assert.match(provider.status().lastError ?? "", /no accessKeyId/);
    await scheduler.advance(30_000);
    assert.match(provider.status().lastError ?? "", /already expired/);
    assert.equal(provider.isReady(), false);
    await scheduler.advance(30_000);
    assert.equal(provider.isReady(), true);
    await provider.stop();
  });

  it("hands the SDK the keys' own expiration when it comes sooner than the re-ask hint", async () => {
    const expiration = new Date(Date.now() + 30_000);
    const { provider } = rotating(new ScriptedLoader(ok({ ...K2, expiration })), {
      scheduler: new ManualScheduler(Date.now()),
    });
    await provider.start();
    assert.equal((await keysOf(provider)).expiration?.getTime(), expiration.getTime());
    await provider.stop();
  });

  it("is ready with the SDK default chain when the loader answers null", async () => {
    const fromChain = { accessKeyId: "AKIADEFAULTCHAIN", secretAccessKey: "chain" };
    const { provider } = rotating(new ScriptedLoader(ok(null)), { defaultChain: async () => fromChain });
    await provider.start();
    assert.equal(provider.isReady(), true);
    assert.equal(provider.status().source, "default-chain");
    assert.deepEqual(await keysOf(provider), fromChain);
    await provider.stop();
  });

  it("says what is missing when the loader answers null and no default chain was given", async () => {
    const { provider } = rotating(new ScriptedLoader(ok(null)));
    await provider.start();
    await assert.rejects(keysOf(provider), /no defaultChain provider was given/);
    await provider.stop();
  });

  it("stops its loop and aborts a fetch in flight", async () => {
    const loader = new ScriptedLoader(ok(K1), hang);
    const { provider, scheduler } = rotating(loader);
    await provider.start();
    await scheduler.advance(5 * MINUTE);
    await provider.stop();
    assert.equal(loader.signals[1]?.aborted, true);
    assert.equal(scheduler.pendingTimers, 0);
    assert.equal(provider.status().totalFailures, 0, "a stop is not a failed refresh");
    await scheduler.advance(60 * MINUTE);
    assert.equal(loader.calls, 2);
  });

  it("coalesces a manual refresh with one already in flight", async () => {
    const loader = new ScriptedLoader(ok(K1), ok(K2));
    const { provider } = rotating(loader);
    await provider.start();
    const [a, b] = await Promise.all([provider.refresh(), provider.refresh()]);
    assert.deepEqual([a, b], [true, true]);
    assert.equal(loader.calls, 2);
    await provider.stop();
  });
});
