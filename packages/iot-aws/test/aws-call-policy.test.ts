import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { ReadinessGate } from "@granit/iot";
import { TestMetrics } from "@granit/iot-aws/testing";
import {
  type AwsCallOptions,
  AwsCallPolicy,
  AwsCallRetriesExhaustedError,
  AwsCredentialsNotReadyError,
  classifyAwsError,
  ManualScheduler,
  operationName,
} from "../src/index.ts";

// Commands shaped like AWS SDK v3 commands: the class name is the operation + "Command".
class DescribeThingCommand {
  readonly input: { thingName: string };
  constructor(input: { thingName: string }) {
    this.input = input;
  }
}
class CreateThingCommand {
  readonly input: { thingName: string };
  constructor(input: { thingName: string }) {
    this.input = input;
  }
}
class ListWidgetsCommand {
  readonly input = {};
}

function awsError(name: string, status?: number, extra: Record<string, unknown> = {}): Error {
  return Object.assign(new Error(`${name}: simulated`), {
    name,
    ...(status === undefined ? {} : { $metadata: { httpStatusCode: status } }),
    ...extra,
  });
}

type Reply = () => unknown;

/** A client that answers `send` from a script (then succeeds), recording when each request went out. */
class FakeClient {
  readonly config = { serviceId: "IoT" };
  readonly sent: { operation: string; at: number; input: unknown }[] = [];
  readonly #scheduler: ManualScheduler;
  readonly #script: Reply[];

  constructor(scheduler: ManualScheduler, ...script: Reply[]) {
    this.#scheduler = scheduler;
    this.#script = script;
  }

  async send(command: { input: unknown }, options?: { abortSignal?: AbortSignal }): Promise<unknown> {
    options?.abortSignal?.throwIfAborted();
    this.sent.push({ operation: operationName(command), at: this.#scheduler.now(), input: command.input });
    const reply = this.#script.shift();
    if (reply) return reply();
    return { ok: true, input: command.input };
  }
}

const throwing =
  (error: unknown): Reply =>
  () => {
    throw error;
  };

function setup(options: Partial<AwsCallOptions> = {}, gate?: ReadinessGate) {
  const scheduler = new ManualScheduler("2026-04-01T00:00:00Z");
  const metrics = new TestMetrics();
  const policy = new AwsCallPolicy(options, {
    scheduler,
    meter: metrics.meter,
    random: () => 0.5,
    credentials: gate,
  });
  return { scheduler, metrics, policy };
}

/** Runs a call while moving fake time until it settles. */
async function settle<T>(scheduler: ManualScheduler, promise: Promise<T>): Promise<T> {
  let done = false;
  const tracked = promise.finally(() => {
    done = true;
  });
  tracked.catch(() => {});
  for (let i = 0; i < 10_000 && !done; i++) {
    if (!(await scheduler.runNext())) await scheduler.settle();
  }
  return tracked;
}

const TENANT = "7c9e6679-7425-40de-944b-e07fc1f90ae7";

describe("AwsCallPolicy: a call that succeeds", () => {
  it("returns the client's output and counts one successful call tagged with operation, service and tenant", async () => {
    const { scheduler, metrics, policy } = setup();
    const client = new FakeClient(scheduler);
    const iot = policy.forClient(client, "iot");
    const output = await iot.call(new DescribeThingCommand({ thingName: "t1-SN" }), { tenantId: TENANT });
    assert.deepEqual(output, { ok: true, input: { thingName: "t1-SN" } });
    assert.equal(
      await metrics.sum("granit.iot.aws.calls", {
        service: "iot",
        operation: "DescribeThing",
        tenant_id: TENANT,
        outcome: "success",
      }),
      1,
    );
    assert.equal(
      await metrics.sum("granit.iot.aws.request.duration", {
        operation: "DescribeThing",
        outcome: "success",
      }),
      1,
    );
    assert.equal(await metrics.sum("granit.iot.aws.rate_limit.wait", { operation: "DescribeThing" }), 1);
  });

  it("tags host-wide calls with tenant_id=host and derives the service from the client when not bound", async () => {
    const { scheduler, metrics, policy } = setup();
    await policy.call(new FakeClient(scheduler), new DescribeThingCommand({ thingName: "x" }));
    assert.equal(await metrics.sum("granit.iot.aws.calls", { service: "iot", tenant_id: "host" }), 1);
  });

  it("names the operation after the command class", () => {
    assert.equal(operationName(new CreateThingCommand({ thingName: "x" })), "CreateThing");
    assert.equal(operationName({}), "Object");
  });
});

describe("AwsCallPolicy: rate limiting", () => {
  it("holds CreateThing to AWS's 15 per second, releasing waiters in call order", async () => {
    const { scheduler, policy } = setup();
    const client = new FakeClient(scheduler);
    const iot = policy.forClient(client, "iot");
    const calls = Array.from({ length: 45 }, (_, i) =>
      iot.call(new CreateThingCommand({ thingName: `n${i}` })),
    );
    await scheduler.settle();
    assert.equal(client.sent.length, 15, "one second of burst goes out at once");
    await scheduler.advance(1000);
    assert.equal(client.sent.length, 30);
    await scheduler.advance(1000);
    await Promise.all(calls);
    assert.equal(client.sent.length, 45);
    assert.deepEqual(
      client.sent.map((s) => (s.input as { thingName: string }).thingName),
      Array.from({ length: 45 }, (_, i) => `n${i}`),
      "FIFO: nobody overtakes a waiter",
    );
    const start = client.sent[0]?.at ?? 0;
    for (const [n, sent] of client.sent.entries()) {
      const earliest = Math.max(0, ((n - 14) * 1000) / 15);
      assert.ok(
        sent.at - start >= Math.floor(earliest),
        `request ${n} went out at ${sent.at - start} ms, before its token`,
      );
    }
  });

  it("keeps buckets per operation: a DescribeThing does not wait behind CreateThing", async () => {
    const { scheduler, policy } = setup();
    const client = new FakeClient(scheduler);
    const iot = policy.forClient(client, "iot");
    const creates = Array.from({ length: 20 }, (_, i) =>
      iot.call(new CreateThingCommand({ thingName: `c${i}` })),
    );
    await iot.call(new DescribeThingCommand({ thingName: "d" }));
    assert.equal(client.sent.at(-1)?.operation, "DescribeThing");
    await settle(scheduler, Promise.all(creates));
  });

  it("uses IoT:Aws:Calls rate overrides and the default rate for unlisted operations", () => {
    const { policy } = setup({
      rateLimits: { "iot:CreateThing": { tokensPerSecond: 40, burst: 5 } },
      defaultTokensPerSecond: 3,
    });
    assert.deepEqual(policy.rateLimitOf("iot", "CreateThing"), { tokensPerSecond: 40, burst: 5 });
    assert.deepEqual(policy.rateLimitOf("iot", "DescribeThing"), { tokensPerSecond: 350, burst: 350 });
    assert.deepEqual(policy.rateLimitOf("iot", "ListWidgets"), { tokensPerSecond: 3, burst: 3 });
  });

  it("lets a waiter abort without sending and without disturbing the queue", async () => {
    const { scheduler, policy, metrics } = setup({ defaultTokensPerSecond: 1 });
    const client = new FakeClient(scheduler);
    const iot = policy.forClient(client, "iot");
    const first = iot.call(new ListWidgetsCommand());
    const controller = new AbortController();
    const aborted = iot.call(new ListWidgetsCommand(), { signal: controller.signal });
    const third = iot.call(new ListWidgetsCommand());
    await scheduler.settle();
    controller.abort(new Error("caller gave up"));
    await assert.rejects(aborted, /caller gave up/);
    await first;
    await scheduler.advance(1000);
    await third;
    assert.equal(client.sent.length, 2);
    assert.equal(await metrics.sum("granit.iot.aws.calls", { outcome: "aborted" }), 1);
  });
});

describe("AwsCallPolicy: retries", () => {
  it("absorbs throttling: the caller gets the answer, metrics show the throttles and retries", async () => {
    const { scheduler, metrics, policy } = setup();
    const throttled = awsError("ThrottlingException", 400);
    const client = new FakeClient(scheduler, throwing(throttled), throwing(throttled), () => ({
      thingArn: "arn",
    }));
    const output = await settle(
      scheduler,
      policy.forClient(client, "iot").call(new CreateThingCommand({ thingName: "x" })),
    );
    assert.deepEqual(output, { thingArn: "arn" });
    assert.equal(client.sent.length, 3);
    const [first, second, third] = client.sent.map((s) => s.at);
    assert.ok(first !== undefined && second !== undefined && third !== undefined);
    assert.equal(second - first, 150, "equal jitter: 200 ms / 2 + 0.5 × 100");
    assert.equal(third - second, 300, "doubling: 400 ms / 2 + 0.5 × 200");
    assert.equal(await metrics.sum("granit.iot.aws.throttles", { operation: "CreateThing" }), 2);
    assert.equal(await metrics.sum("granit.iot.aws.retries", { reason: "throttling" }), 2);
    assert.equal(await metrics.sum("granit.iot.aws.request.duration", { outcome: "throttled" }), 2);
    assert.equal(await metrics.sum("granit.iot.aws.calls", { outcome: "success" }), 1);
  });

  const retryable: [string, unknown][] = [
    ["ThrottlingException", awsError("ThrottlingException", 400)],
    ["TooManyRequestsException", awsError("TooManyRequestsException", 429)],
    ["RequestLimitExceeded", awsError("RequestLimitExceeded", 503)],
    ["any HTTP 429", awsError("SomethingNew", 429)],
    ["any HTTP 5xx", awsError("SomethingBroke", 502)],
    ["InternalFailureException", awsError("InternalFailureException", 500)],
    ["ServiceUnavailableException", awsError("ServiceUnavailableException", 503)],
    ["an SDK $retryable error", awsError("Whatever", undefined, { $retryable: {} })],
    ["ECONNRESET", Object.assign(new Error("read ECONNRESET"), { code: "ECONNRESET" })],
    ["socket hang up", new Error("socket hang up")],
    ["TimeoutError", awsError("TimeoutError")],
  ];
  for (const [label, error] of retryable) {
    it(`retries ${label}`, async () => {
      const { scheduler, policy } = setup();
      const client = new FakeClient(scheduler, throwing(error));
      await settle(scheduler, policy.call(client, new DescribeThingCommand({ thingName: "x" })));
      assert.equal(client.sent.length, 2);
    });
  }

  const permanent: [string, unknown][] = [
    ["ResourceNotFoundException", awsError("ResourceNotFoundException", 404)],
    ["InvalidRequestException", awsError("InvalidRequestException", 400)],
    ["AccessDeniedException", awsError("AccessDeniedException", 403)],
    ["UnauthorizedException", awsError("UnauthorizedException", 401)],
    ["ResourceAlreadyExistsException", awsError("ResourceAlreadyExistsException", 409)],
    ["ConflictException", awsError("ConflictException", 409)],
    ["LimitExceededException (too many policies, 410)", awsError("LimitExceededException", 410)],
    ["a plain TypeError", new TypeError("bad input")],
  ];
  for (const [label, error] of permanent) {
    it(`throws ${label} at once, unchanged`, async () => {
      const { scheduler, policy, metrics } = setup();
      const client = new FakeClient(scheduler, throwing(error));
      await assert.rejects(
        policy.call(client, new DescribeThingCommand({ thingName: "x" })),
        (thrown: unknown) => {
          assert.equal(thrown, error, "the very same error object");
          return true;
        },
      );
      assert.equal(client.sent.length, 1);
      assert.equal(await metrics.sum("granit.iot.aws.retries"), 0);
      assert.equal(await metrics.sum("granit.iot.aws.calls", { outcome: "error" }), 1);
    });
  }

  it("keeps retrying throttling until the budget is spent, never failing earlier", async () => {
    const { scheduler, policy } = setup({ maxAttempts: 8 });
    const throttled = awsError("ThrottlingException", 400);
    const client = new FakeClient(scheduler, ...Array.from({ length: 7 }, () => throwing(throttled)));
    const output = await settle(scheduler, policy.call(client, new CreateThingCommand({ thingName: "x" })));
    assert.ok(output);
    assert.equal(client.sent.length, 8);
  });

  it("gives up after MaxAttempts with AwsCallRetriesExhaustedError carrying the last AWS error", async () => {
    const { scheduler, policy, metrics } = setup({ maxAttempts: 4 });
    const last = awsError("ServiceUnavailableException", 503);
    const client = new FakeClient(
      scheduler,
      throwing(awsError("ThrottlingException", 400)),
      throwing(awsError("InternalFailureException", 500)),
      throwing(awsError("ThrottlingException", 400)),
      throwing(last),
    );
    const call = settle(
      scheduler,
      policy.forClient(client, "iot").call(new CreateThingCommand({ thingName: "x" }), { tenantId: TENANT }),
    );
    await assert.rejects(call, (error: unknown) => {
      assert.ok(error instanceof AwsCallRetriesExhaustedError);
      assert.equal(error.name, "AwsCallRetriesExhaustedError");
      assert.equal(error.attempts, 4);
      assert.equal(error.cause, last);
      assert.equal(error.lastErrorName, "ServiceUnavailableException");
      assert.equal(error.operation, "CreateThing");
      return true;
    });
    assert.equal(client.sent.length, 4);
    assert.equal(await metrics.sum("granit.iot.aws.calls", { outcome: "exhausted", tenant_id: TENANT }), 1);
    assert.equal(await metrics.sum("granit.iot.aws.retries", { reason: "transient" }), 1);
  });

  it("gives up when the next backoff would pass MaxElapsedSeconds", async () => {
    const { scheduler, policy } = setup({
      maxAttempts: 20,
      maxElapsedSeconds: 1,
      baseDelayMilliseconds: 200,
    });
    const throttled = awsError("ThrottlingException", 400);
    const client = new FakeClient(scheduler, ...Array.from({ length: 20 }, () => throwing(throttled)));
    await assert.rejects(
      settle(scheduler, policy.call(client, new DescribeThingCommand({ thingName: "x" }))),
      AwsCallRetriesExhaustedError,
    );
    // sent at 0, 150 (+150), 450 (+300); the next backoff (+600) would end at 1050 ms > 1 s
    assert.equal(client.sent.length, 3);
    assert.ok((client.sent.at(-1)?.at ?? 0) - (client.sent[0]?.at ?? 0) <= 1000);
  });

  it("stops a backoff sleep when the caller aborts", async () => {
    const { scheduler, policy } = setup();
    const controller = new AbortController();
    const client = new FakeClient(scheduler, throwing(awsError("ThrottlingException", 400)));
    const call = policy.call(client, new DescribeThingCommand({ thingName: "x" }), {
      signal: controller.signal,
    });
    await scheduler.settle();
    controller.abort(new Error("shutting down"));
    await assert.rejects(call, /shutting down/);
    await scheduler.advance(60_000);
    assert.equal(client.sent.length, 1);
  });
});

describe("AwsCallPolicy: the credential gate", () => {
  function gate(initially: boolean) {
    let open = initially;
    return {
      name: "aws-credentials",
      isReady: () => open,
      describe: () => "rotating mode: no successful credential fetch yet",
      set: (value: boolean) => {
        open = value;
      },
    };
  }

  it("refuses while the gate is closed: AwsCredentialsNotReadyError and no request sent", async () => {
    const credentials = gate(false);
    const { scheduler, policy, metrics } = setup({}, credentials);
    const client = new FakeClient(scheduler);
    await assert.rejects(
      policy.call(client, new CreateThingCommand({ thingName: "x" })),
      (error: unknown) => {
        assert.ok(error instanceof AwsCredentialsNotReadyError);
        assert.match(error.message, /no successful credential fetch yet/);
        return true;
      },
    );
    assert.equal(client.sent.length, 0);
    assert.equal(await metrics.sum("granit.iot.aws.calls", { outcome: "refused" }), 1);
    credentials.set(true);
    await policy.call(client, new CreateThingCommand({ thingName: "x" }));
    assert.equal(client.sent.length, 1);
  });

  it("refuses the retry when the gate closes between attempts", async () => {
    const credentials = gate(true);
    const { scheduler, policy } = setup({}, credentials);
    const client = new FakeClient(scheduler, () => {
      credentials.set(false);
      throw awsError("ThrottlingException", 400);
    });
    await assert.rejects(
      settle(scheduler, policy.call(client, new CreateThingCommand({ thingName: "x" }))),
      AwsCredentialsNotReadyError,
    );
    assert.equal(client.sent.length, 1);
  });
});

describe("classifyAwsError", () => {
  it("sorts AWS errors into throttling, transient and permanent", () => {
    assert.equal(classifyAwsError(awsError("ThrottlingException", 400)), "throttling");
    assert.equal(classifyAwsError(awsError("X", 400, { $retryable: { throttling: true } })), "throttling");
    assert.equal(classifyAwsError(awsError("InternalServiceError", 500)), "transient");
    assert.equal(classifyAwsError(awsError("ResourceNotFoundException", 404)), "permanent");
    assert.equal(classifyAwsError(awsError("AbortError")), "permanent");
    assert.equal(classifyAwsError("boom"), "permanent");
  });
});
