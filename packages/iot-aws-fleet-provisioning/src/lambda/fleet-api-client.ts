/**
 * The Lambda side of the fleet endpoints: signs each call (a fresh timestamp per attempt, so a retry
 * is never a replay) and posts JSON with `fetch`, bounded by the caller's `AbortSignal`.
 */
import { fleetAuthorizationHeader } from "../fleet-request-signature.ts";

/** What a call answered: the HTTP status and the parsed JSON body (`undefined` when not JSON). */
export interface FleetApiResponse {
  readonly status: number;
  readonly body: unknown;
}

export interface FleetApiClientOptions {
  /** Base URL of the endpoints, e.g. `https://iot.example.com/api/iot/fleet-provisioning`. */
  readonly url: string;
  readonly keyId: string;
  /** The secret, or how to get it (e.g. from Secrets Manager, once per container). */
  readonly secret: string | ((signal: AbortSignal) => Promise<string>);
  /** @default globalThis.fetch */
  readonly fetch?: typeof fetch;
  /** @default () => new Date() */
  readonly now?: () => Date;
}

export class FleetApiClient {
  readonly #url: string;
  readonly #keyId: string;
  readonly #secret: FleetApiClientOptions["secret"];
  readonly #fetch: typeof fetch;
  readonly #now: () => Date;
  #cachedSecret: Promise<string> | null = null;

  constructor(options: FleetApiClientOptions) {
    this.#url = options.url.replace(/\/+$/, "");
    this.#keyId = options.keyId;
    this.#secret = options.secret;
    this.#fetch = options.fetch ?? globalThis.fetch;
    this.#now = options.now ?? (() => new Date());
  }

  /** Signs and posts `body` to `path` (`/verify`, `/registered`). Network errors and aborts throw. */
  async post(path: string, body: unknown, signal: AbortSignal): Promise<FleetApiResponse> {
    const url = new URL(`${this.#url}${path}`);
    const json = JSON.stringify(body);
    const authorization = fleetAuthorizationHeader({
      keyId: this.#keyId,
      secret: await this.#resolveSecret(signal),
      method: "POST",
      path: url.pathname,
      body: json,
      timestamp: this.#now().toISOString(),
    });
    const response = await this.#fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json", authorization },
      body: json,
      signal,
    });
    const text = await response.text();
    let parsed: unknown;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      parsed = undefined;
    }
    return { status: response.status, body: parsed };
  }

  #resolveSecret(signal: AbortSignal): Promise<string> {
    const source = this.#secret;
    if (typeof source === "string") return Promise.resolve(source);
    if (!this.#cachedSecret) {
      const loading = source(signal);
      this.#cachedSecret = loading;
      // A failed load is retried by the next invocation, not cached.
      loading.catch(() => {
        if (this.#cachedSecret === loading) this.#cachedSecret = null;
      });
    }
    return this.#cachedSecret;
  }
}

/** Minimal view of an AWS SDK v3 client: `send(command, { abortSignal })`. */
export interface AwsClientLike {
  send(command: unknown, options?: { abortSignal?: AbortSignal }): Promise<unknown>;
}

/**
 * Reads the fleet key secret from Secrets Manager: the `SecretString` as is, or its `secret` field
 * when it is JSON. Uses the AWS SDK bundled with the Lambda Node.js runtime.
 */
export async function loadSecretFromSecretsManager(
  secretArn: string,
  options: { readonly client?: AwsClientLike; readonly signal?: AbortSignal } = {},
): Promise<string> {
  const sdk = await import("@aws-sdk/client-secrets-manager");
  const client = options.client ?? new sdk.SecretsManagerClient({});
  const output = (await client.send(new sdk.GetSecretValueCommand({ SecretId: secretArn }), {
    abortSignal: options.signal,
  })) as { SecretString?: string };
  const text = output.SecretString?.trim();
  if (!text) throw new Error(`Secret ${secretArn} holds no SecretString.`);
  if (text.startsWith("{")) {
    const secret = (JSON.parse(text) as { secret?: unknown }).secret;
    if (typeof secret !== "string" || !secret) throw new Error(`Secret ${secretArn} has no "secret" field.`);
    return secret;
  }
  return text;
}
