/**
 * Rotating mode: the fleet's AWS keys live in a secret; a background loop re-reads them through
 * the loader every `RotationCheckIntervalMinutes`.
 *
 * - Reads never block or lock: the current keys are one immutable object behind one field, swapped
 *   whole by the refresh loop.
 * - Stale-ok: a failed or timed-out refresh keeps serving the last good keys and is counted.
 * - Every fetch is bounded by `InitialFetchTimeoutSeconds` (the first one gates readiness; a later
 *   one that hangs must not stop rotation). Until the first success the loop retries every
 *   `min(interval, 30 s)` rather than every interval, so a host recovers quickly from a cold start.
 */
import { type Logger, silentLogger, tenantTag } from "@granit/iot";
import type { Attributes, Counter, Meter, ObservableGauge, ObservableResult } from "@opentelemetry/api";
import type { AwsIoTCredentialOptions } from "../../credentials/aws-iot-credential-options.ts";
import type {
  AwsCredentialIdentity,
  AwsCredentialIdentityProvider,
  AwsIoTCredentialLoader,
  AwsIoTCredentialProvider,
  AwsIoTCredentialStatus,
  LoadedAwsIoTCredentials,
} from "../../credentials/aws-iot-credential-provider.ts";
import { AwsCredentialsNotReadyError } from "../../errors.ts";
import { iotAwsMeter } from "../../metrics.ts";
import { type Scheduler, systemScheduler, type TimerHandle } from "../../scheduler.ts";
import { AWS_CREDENTIALS_GATE } from "./gate.ts";

/** Until the first success, retry at least this often. */
export const NOT_READY_RETRY_MS = 30_000;
/**
 * The expiration we hand the SDK: under its 5-minute refresh window, so its memoizer asks us again
 * on every request (an in-memory read) and picks a rotation up on the very next call.
 */
const SDK_REASK_MS = 60_000;
const HOST = tenantTag(null);

type Current =
  | { readonly kind: "none" }
  | { readonly kind: "loaded-keys"; readonly credentials: LoadedAwsIoTCredentials }
  | { readonly kind: "default-chain" };

interface Dependencies {
  readonly loader: AwsIoTCredentialLoader;
  readonly defaultChain?: AwsCredentialIdentityProvider | undefined;
  readonly scheduler?: Scheduler | undefined;
  readonly logger?: Logger | undefined;
  readonly meter?: Meter | undefined;
}

class FetchTimeoutError extends Error {
  override readonly name = "TimeoutError";
}

export class RotatingAwsIoTCredentialProvider implements AwsIoTCredentialProvider {
  readonly name = AWS_CREDENTIALS_GATE;
  readonly mode = "rotating" as const;
  readonly #loader: AwsIoTCredentialLoader;
  readonly #defaultChain: AwsCredentialIdentityProvider | undefined;
  readonly #scheduler: Scheduler;
  readonly #logger: Logger;
  readonly #intervalMs: number;
  readonly #timeoutMs: number;
  readonly #refreshes: Counter;
  readonly #rotations: Counter;
  readonly #readyGauge: ObservableGauge;
  readonly #observeReady = (result: ObservableResult<Attributes>) =>
    result.observe(this.isReady() ? 1 : 0, { mode: this.mode, tenant_id: HOST });
  readonly #sdkProvider: AwsCredentialIdentityProvider = () => this.#identity();

  #current: Current = { kind: "none" };
  #running = false;
  #timer: TimerHandle | null = null;
  #inFlight: Promise<boolean> | null = null;
  #abort: AbortController | null = null;
  #lastSuccessAt: number | null = null;
  #lastFailureAt: number | null = null;
  #lastError: string | null = null;
  #consecutiveFailures = 0;
  #totalFailures = 0;

  constructor(options: AwsIoTCredentialOptions, dependencies: Dependencies) {
    this.#loader = dependencies.loader;
    this.#defaultChain = dependencies.defaultChain;
    this.#scheduler = dependencies.scheduler ?? systemScheduler;
    this.#logger = (dependencies.logger ?? silentLogger).child({ component: "aws-iot-credentials" });
    this.#intervalMs = options.rotationCheckIntervalMinutes * 60_000;
    this.#timeoutMs = options.initialFetchTimeoutSeconds * 1000;
    const meter = dependencies.meter ?? iotAwsMeter();
    this.#refreshes = meter.createCounter("granit.iot.aws.credentials.refreshes", {
      description: "Credential fetches in rotating mode, by outcome (success, failure, timeout).",
    });
    this.#rotations = meter.createCounter("granit.iot.aws.credentials.rotations", {
      description: "Fetches that returned a different access key id than the one in use.",
    });
    this.#readyGauge = meter.createObservableGauge("granit.iot.aws.credentials.ready", {
      description: "1 when the AWS credential gate is open, 0 while it is closed.",
    });
  }

  isReady(): boolean {
    return this.#current.kind !== "none";
  }

  describe(): string {
    const current = this.#current;
    if (current.kind === "none") {
      return `rotating mode: no successful credential fetch yet${this.#lastError ? ` (last error: ${this.#lastError})` : ""}`;
    }
    const stale =
      this.#consecutiveFailures > 0
        ? `; serving the last good keys after ${this.#consecutiveFailures} failed refresh(es)`
        : "";
    return current.kind === "default-chain"
      ? `rotating mode: the loader selected the SDK default chain${stale}`
      : `rotating mode: keys …${suffix(current.credentials.accessKeyId)} loaded ${new Date(this.#lastSuccessAt ?? 0).toISOString()}${stale}`;
  }

  sdkCredentials(): AwsCredentialIdentityProvider {
    return this.#sdkProvider;
  }

  status(): AwsIoTCredentialStatus {
    const current = this.#current;
    return {
      mode: this.mode,
      ready: this.isReady(),
      source: current.kind,
      accessKeyIdSuffix: current.kind === "loaded-keys" ? suffix(current.credentials.accessKeyId) : null,
      lastSuccessAt: this.#lastSuccessAt === null ? null : new Date(this.#lastSuccessAt),
      lastFailureAt: this.#lastFailureAt === null ? null : new Date(this.#lastFailureAt),
      lastError: this.#lastError,
      consecutiveFailures: this.#consecutiveFailures,
      totalFailures: this.#totalFailures,
    };
  }

  async start(): Promise<void> {
    if (this.#running) return;
    this.#running = true;
    this.#readyGauge.addCallback(this.#observeReady);
    await this.#tick();
  }

  async stop(): Promise<void> {
    if (!this.#running) return;
    this.#running = false;
    this.#readyGauge.removeCallback(this.#observeReady);
    if (this.#timer) this.#scheduler.clearTimeout(this.#timer);
    this.#timer = null;
    this.#abort?.abort(new Error("The credential provider stopped."));
    await this.#inFlight;
  }

  refresh(): Promise<boolean> {
    this.#inFlight ??= this.#fetch().finally(() => {
      this.#inFlight = null;
    });
    return this.#inFlight;
  }

  async #tick(): Promise<void> {
    await this.refresh();
    if (!this.#running) return;
    const delay = this.isReady() ? this.#intervalMs : Math.min(this.#intervalMs, NOT_READY_RETRY_MS);
    this.#timer = this.#scheduler.setTimeout(() => {
      this.#timer = null;
      void this.#tick();
    }, delay);
  }

  async #fetch(): Promise<boolean> {
    const controller = new AbortController();
    this.#abort = controller;
    let timer: TimerHandle | undefined;
    const timedOut = new Promise<"timeout">((resolve) => {
      timer = this.#scheduler.setTimeout(() => resolve("timeout"), this.#timeoutMs);
    });
    try {
      const loading = this.#loader.load(controller.signal).then((value) => ({ value }));
      const result = await Promise.race([loading, timedOut]);
      if (result === "timeout") {
        controller.abort(new FetchTimeoutError(`no answer within ${this.#timeoutMs / 1000} s`));
        this.#failed("timeout", `the credential loader did not answer within ${this.#timeoutMs / 1000} s`);
        return false;
      }
      this.#succeeded(checkLoaded(result.value, this.#scheduler.now()));
      return true;
    } catch (error) {
      if (controller.signal.aborted && !this.#running) return false;
      this.#failed("failure", errorText(error));
      return false;
    } finally {
      if (timer) this.#scheduler.clearTimeout(timer);
      if (this.#abort === controller) this.#abort = null;
    }
  }

  #succeeded(next: Current): void {
    const previous = this.#current;
    this.#current = next;
    this.#lastSuccessAt = this.#scheduler.now();
    this.#consecutiveFailures = 0;
    this.#lastError = null;
    this.#refreshes.add(1, { outcome: "success", tenant_id: HOST });
    if (previous.kind === "none") {
      this.#logger.info({ source: next.kind }, "AWS credentials loaded; the credential gate is open");
      return;
    }
    const before = previous.kind === "loaded-keys" ? previous.credentials.accessKeyId : null;
    const after = next.kind === "loaded-keys" ? next.credentials.accessKeyId : null;
    if (before !== after) {
      this.#rotations.add(1, { tenant_id: HOST });
      this.#logger.info(
        { from: before && `…${suffix(before)}`, to: after ? `…${suffix(after)}` : "default-chain" },
        "AWS credentials rotated",
      );
    }
  }

  #failed(outcome: "failure" | "timeout", message: string): void {
    this.#lastFailureAt = this.#scheduler.now();
    this.#lastError = message;
    this.#consecutiveFailures += 1;
    this.#totalFailures += 1;
    this.#refreshes.add(1, { outcome, tenant_id: HOST });
    if (this.isReady()) {
      this.#logger.warn(
        { outcome, error: message, consecutiveFailures: this.#consecutiveFailures },
        "AWS credential refresh failed; still serving the last good credentials",
      );
    } else {
      this.#logger.error(
        { outcome, error: message },
        "AWS credential fetch failed; the credential gate stays closed",
      );
    }
  }

  async #identity(): Promise<AwsCredentialIdentity> {
    const current = this.#current;
    if (current.kind === "loaded-keys") {
      const { accessKeyId, secretAccessKey, sessionToken, expiration } = current.credentials;
      const reask = Date.now() + SDK_REASK_MS;
      return {
        accessKeyId,
        secretAccessKey,
        ...(sessionToken ? { sessionToken } : {}),
        expiration: expiration && expiration.getTime() < reask ? expiration : new Date(reask),
      };
    }
    if (current.kind === "default-chain") {
      if (this.#defaultChain) return this.#defaultChain();
      throw new AwsCredentialsNotReadyError(
        this.name,
        "the loader selected the SDK default chain but no defaultChain provider was given",
      );
    }
    throw new AwsCredentialsNotReadyError(this.name, this.describe());
  }
}

function checkLoaded(value: LoadedAwsIoTCredentials | null, now: number): Current {
  if (value === null) return { kind: "default-chain" };
  if (typeof value !== "object")
    throw new TypeError("the loader returned something other than credentials or null");
  const { accessKeyId, secretAccessKey, sessionToken, expiration } = value;
  if (typeof accessKeyId !== "string" || accessKeyId.trim() === "") {
    throw new TypeError("the loaded credentials have no accessKeyId");
  }
  if (typeof secretAccessKey !== "string" || secretAccessKey.trim() === "") {
    throw new TypeError("the loaded credentials have no secretAccessKey");
  }
  if (sessionToken !== undefined && typeof sessionToken !== "string") {
    throw new TypeError("the loaded sessionToken is not a string");
  }
  if (expiration !== undefined && (!(expiration instanceof Date) || Number.isNaN(expiration.getTime()))) {
    throw new TypeError("the loaded expiration is not a valid date");
  }
  if (expiration && expiration.getTime() <= now) {
    throw new TypeError(`the loaded credentials already expired at ${expiration.toISOString()}`);
  }
  return {
    kind: "loaded-keys",
    credentials: Object.freeze({ accessKeyId, secretAccessKey, sessionToken, expiration }),
  };
}

function suffix(accessKeyId: string): string {
  return accessKeyId.slice(-4);
}

/** The error's name and first line only: loader errors must never carry key material into logs. */
function errorText(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message.split("\n")[0]?.slice(0, 300) ?? ""}`;
  return String(error).slice(0, 300);
}
