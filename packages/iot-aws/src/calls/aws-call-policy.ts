/**
 * The AWS call discipline every bridge package goes through: per-operation rate limiting sized to
 * the account's quotas, retries with jittered exponential backoff on throttling and transient
 * failures, the credential gate, and per-operation metrics. Typed structurally against
 * `client.send`, so this package never imports the AWS SDK; any SDK v3 client and command fit.
 *
 * Build SDK clients with `maxAttempts: 1` so retries happen here, visible in metrics and paced by
 * the rate limiter (with the SDK's own retries on top, each of our attempts may be several requests).
 */
import { type Logger, type ReadinessGate, silentLogger, type TenantId, tenantTag } from "@granit/iot";
import type { Counter, Histogram, Meter } from "@opentelemetry/api";
import { AwsCallRetriesExhaustedError, AwsCredentialsNotReadyError } from "../errors.ts";
import { TokenBucket } from "../internal/calls/token-bucket.ts";
import { iotAwsMeter } from "../metrics.ts";
import { type Scheduler, systemScheduler, type TimerHandle } from "../scheduler.ts";
import { type AwsCallOptions, defaultAwsCallOptions } from "./aws-call-options.ts";
import { type AwsErrorKind, awsErrorName, classifyAwsError } from "./aws-error-classification.ts";
import { AWS_DEFAULT_RATE_LIMITS, type RateLimit } from "./aws-rate-limits.ts";

/** Any AWS SDK v3 client, structurally: something with `send(command, { abortSignal })`. */
export interface AwsClientLike {
  // biome-ignore lint/suspicious/noExplicitAny: SDK clients overload `send` per command type; any keeps every client assignable.
  send(command: any, options?: { abortSignal?: AbortSignal }): Promise<unknown>;
}

/**
 * The output type of an SDK v3 command, read from its `resolveMiddleware` handler type (what the
 * SDK's own `send` overload does), so `call` returns e.g. `DescribeThingCommandOutput`.
 */
export type AwsCommandOutput<C> = C extends {
  // biome-ignore lint/suspicious/noExplicitAny: matches the SDK's Command.resolveMiddleware whatever its parameters.
  resolveMiddleware(...args: any[]): (...args: any[]) => Promise<{ output: infer O }>;
}
  ? O
  : unknown;

/** Per-call context: who the call is for (metrics) and how to cancel it. */
export interface AwsCallContext {
  /** Tenant tag of the metrics; `null`/absent = host-wide work. */
  readonly tenantId?: TenantId | null | undefined;
  /** Aborts the token wait, the request in flight and any backoff sleep. */
  readonly signal?: AbortSignal | undefined;
}

/** What `AwsCallPolicy` needs besides its options. */
export interface AwsCallPolicyDependencies {
  /** The credential gate (`AwsIoTCredentialProvider`); while it is closed no request is sent. */
  readonly credentials?: ReadinessGate | undefined;
  /** @default systemScheduler */
  readonly scheduler?: Scheduler | undefined;
  /** Uniform in [0, 1) for the backoff jitter. @default Math.random */
  readonly random?: (() => number) | undefined;
  /** @default the global `granit.iot.aws` meter */
  readonly meter?: Meter | undefined;
  /** @default silentLogger */
  readonly logger?: Logger | undefined;
}

/** A client bound to its service label: `caller.call(new DescribeThingCommand({...}), { tenantId })`. */
export class AwsServiceCaller<Client extends AwsClientLike = AwsClientLike> {
  readonly client: Client;
  readonly service: string;
  readonly #policy: AwsCallPolicy;

  constructor(policy: AwsCallPolicy, client: Client, service: string) {
    this.#policy = policy;
    this.client = client;
    this.service = service;
  }

  call<C extends object>(command: C, context: AwsCallContext = {}): Promise<AwsCommandOutput<C>> {
    return this.#policy.call(this.client, command, { ...context, service: this.service });
  }
}

type CallOutcome = "success" | "error" | "exhausted" | "refused" | "aborted";

/**
 * Runs AWS SDK calls under the discipline above. One instance per host (quotas are per account),
 * shared by the provisioning, shadow and jobs packages:
 *
 * ```ts
 * const policy = new AwsCallPolicy(parseAwsCallOptions(config.IoT?.Aws?.Calls), { credentials });
 * const iot = policy.forClient(new IoTClient({ maxAttempts: 1 }), "iot");
 * const thing = await iot.call(new DescribeThingCommand({ thingName }), { tenantId, signal });
 * ```
 *
 * - The operation is the command's class name minus `Command`; `service` is the SigV4 name
 *   (`iot`, `iotdata`, `secretsmanager`). Buckets are per `service:Operation`.
 * - Waiting for a token is asynchronous and FIFO-fair and honours the signal.
 * - Throttling and transient errors are retried (equal-jitter exponential backoff) until
 *   `maxAttempts` or `maxElapsedSeconds` is spent, then `AwsCallRetriesExhaustedError` (cause = the
 *   last error). Throttling never surfaces before that.
 * - Any other error is thrown at once, unchanged (branch on `err.name`).
 * - While the credential gate is closed the call throws `AwsCredentialsNotReadyError` and nothing
 *   is sent.
 * - Metrics (meter `granit.iot.aws`, tags `service`, `operation`, `tenant_id`):
 *   `granit.iot.aws.calls` (+`outcome`), `granit.iot.aws.throttles`, `granit.iot.aws.retries`
 *   (+`reason`), `granit.iot.aws.request.duration` ms per attempt (+`outcome`),
 *   `granit.iot.aws.rate_limit.wait` ms.
 */
export class AwsCallPolicy {
  readonly options: AwsCallOptions;
  readonly #credentials: ReadinessGate | undefined;
  readonly #scheduler: Scheduler;
  readonly #random: () => number;
  readonly #logger: Logger;
  readonly #buckets = new Map<string, TokenBucket>();
  readonly #services = new WeakMap<object, string>();
  readonly #calls: Counter;
  readonly #throttles: Counter;
  readonly #retries: Counter;
  readonly #requestDuration: Histogram;
  readonly #rateLimitWait: Histogram;

  constructor(options: Partial<AwsCallOptions> = {}, dependencies: AwsCallPolicyDependencies = {}) {
    this.options = { ...defaultAwsCallOptions(), ...options };
    this.#credentials = dependencies.credentials;
    this.#scheduler = dependencies.scheduler ?? systemScheduler;
    this.#random = dependencies.random ?? Math.random;
    this.#logger = (dependencies.logger ?? silentLogger).child({ component: "aws-call-policy" });
    const meter = dependencies.meter ?? iotAwsMeter();
    this.#calls = meter.createCounter("granit.iot.aws.calls", {
      description: "AWS calls by final outcome (success, error, exhausted, refused, aborted).",
    });
    this.#throttles = meter.createCounter("granit.iot.aws.throttles", {
      description: "AWS requests answered with throttling.",
    });
    this.#retries = meter.createCounter("granit.iot.aws.retries", {
      description: "AWS requests retried, by reason (throttling, transient).",
    });
    this.#requestDuration = meter.createHistogram("granit.iot.aws.request.duration", {
      description: "Duration of one AWS request attempt.",
      unit: "ms",
    });
    this.#rateLimitWait = meter.createHistogram("granit.iot.aws.rate_limit.wait", {
      description: "Time spent waiting for a rate-limiter token before a request.",
      unit: "ms",
    });
  }

  /** Binds a client to its service label (and remembers it for `call(client, ...)`). */
  forClient<Client extends AwsClientLike>(client: Client, service: string): AwsServiceCaller<Client> {
    this.#services.set(client, service);
    return new AwsServiceCaller(this, client, service);
  }

  /** The rate limit in force for `service:Operation` (override, AWS default, or the unlisted default). */
  rateLimitOf(service: string, operation: string): Required<RateLimit> {
    const key = `${service}:${operation}`;
    const override = this.options.rateLimits[key];
    const tokensPerSecond =
      override?.tokensPerSecond ?? AWS_DEFAULT_RATE_LIMITS[key] ?? this.options.defaultTokensPerSecond;
    return { tokensPerSecond, burst: Math.max(1, override?.burst ?? tokensPerSecond) };
  }

  /**
   * Sends `command` through `client` under the policy. The service label comes from
   * `context.service`, else from `forClient`, else the client's `config.serviceId`.
   */
  async call<C extends object>(
    client: AwsClientLike,
    command: C,
    context: AwsCallContext & { readonly service?: string } = {},
  ): Promise<AwsCommandOutput<C>> {
    const service = context.service ?? this.#services.get(client) ?? serviceFromClient(client);
    const operation = operationName(command);
    const tags = { service, operation, tenant_id: tenantTag(context.tenantId) };
    const signal = context.signal;
    const bucket = this.#bucket(service, operation);
    const started = this.#scheduler.now();
    let attempt = 0;
    const finish = (outcome: CallOutcome, error?: unknown) =>
      this.#calls.add(
        1,
        error === undefined ? { ...tags, outcome } : { ...tags, outcome, error_type: awsErrorName(error) },
      );

    for (;;) {
      attempt += 1;
      try {
        this.#ensureReady();
        const waitStart = this.#scheduler.now();
        await bucket.acquire(signal);
        this.#rateLimitWait.record(this.#scheduler.now() - waitStart, tags);
        this.#ensureReady();
      } catch (error) {
        finish(error instanceof AwsCredentialsNotReadyError ? "refused" : "aborted", error);
        throw error;
      }

      const sendStart = this.#scheduler.now();
      let failure: unknown;
      try {
        const output = (await client.send(
          command,
          signal ? { abortSignal: signal } : undefined,
        )) as AwsCommandOutput<C>;
        this.#requestDuration.record(this.#scheduler.now() - sendStart, { ...tags, outcome: "success" });
        finish("success");
        return output;
      } catch (error) {
        failure = error;
      }

      const kind: AwsErrorKind = signal?.aborted ? "permanent" : classifyAwsError(failure);
      this.#requestDuration.record(this.#scheduler.now() - sendStart, {
        ...tags,
        outcome: kind === "throttling" ? "throttled" : "error",
      });
      if (kind === "throttling") this.#throttles.add(1, tags);
      if (kind === "permanent") {
        finish(signal?.aborted ? "aborted" : "error", failure);
        throw failure;
      }

      const delay = this.#backoff(attempt);
      const elapsed = this.#scheduler.now() - started;
      if (attempt >= this.options.maxAttempts || elapsed + delay > this.options.maxElapsedSeconds * 1000) {
        finish("exhausted", failure);
        this.#logger.warn(
          { ...tags, attempts: attempt, elapsedMs: elapsed, error: awsErrorName(failure) },
          "AWS call failed after the retry budget was spent",
        );
        throw new AwsCallRetriesExhaustedError(
          { service, operation, attempts: attempt, elapsedMs: elapsed },
          failure,
        );
      }
      this.#retries.add(1, { ...tags, reason: kind });
      this.#logger.debug(
        { ...tags, attempt, delayMs: delay, error: awsErrorName(failure) },
        "retrying AWS call",
      );
      try {
        await this.#sleep(delay, signal);
      } catch (error) {
        finish("aborted", error);
        throw error;
      }
    }
  }

  /** Equal jitter: half the exponential delay fixed, half random, capped. */
  #backoff(attempt: number): number {
    const exponential = Math.min(
      this.options.maxDelayMilliseconds,
      this.options.baseDelayMilliseconds * 2 ** (attempt - 1),
    );
    return Math.round(exponential / 2 + this.#random() * (exponential / 2));
  }

  #ensureReady(): void {
    const gate = this.#credentials;
    if (gate && !gate.isReady()) throw new AwsCredentialsNotReadyError(gate.name, gate.describe?.());
  }

  #bucket(service: string, operation: string): TokenBucket {
    const key = `${service}:${operation}`;
    let bucket = this.#buckets.get(key);
    if (!bucket) {
      const limit = this.rateLimitOf(service, operation);
      bucket = new TokenBucket(limit.tokensPerSecond, limit.burst, this.#scheduler);
      this.#buckets.set(key, bucket);
    }
    return bucket;
  }

  #sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    return new Promise((resolve, reject) => {
      let timer: TimerHandle | undefined;
      const onAbort = () => {
        if (timer) this.#scheduler.clearTimeout(timer);
        reject(signal?.reason);
      };
      timer = this.#scheduler.setTimeout(() => {
        signal?.removeEventListener("abort", onAbort);
        resolve();
      }, ms);
      signal?.addEventListener("abort", onAbort, { once: true });
    });
  }
}

/** `DescribeThingCommand` → `DescribeThing`. */
export function operationName(command: object): string {
  const name = command.constructor?.name ?? "Unknown";
  return name.endsWith("Command") && name.length > "Command".length ? name.slice(0, -"Command".length) : name;
}

const SERVICE_IDS: Readonly<Record<string, string>> = {
  iot: "iot",
  "iot data plane": "iotdata",
  "iot jobs data plane": "iot-jobs-data",
  "secrets manager": "secretsmanager",
};

function serviceFromClient(client: AwsClientLike): string {
  const serviceId = (client as { config?: { serviceId?: unknown } }).config?.serviceId;
  if (typeof serviceId !== "string") return "aws";
  return SERVICE_IDS[serviceId.toLowerCase()] ?? serviceId.toLowerCase().replaceAll(" ", "-");
}
