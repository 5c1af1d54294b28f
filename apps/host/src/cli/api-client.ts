/**
 * The CLI's small HTTP client for the host API: JSON in and out, the operator token as
 * `Authorization: Bearer`, a timeout on every request, and every failure turned into a `CliError`
 * with its exit code — a problem document (4xx / 5xx) into `ApiProblemError`, a missing connection
 * (refused, unknown host, reset, timeout) into `HostUnreachableError` naming the URL.
 *
 * Where the URL and the token come from (first found wins): `--url`, `GRANIT_URL`,
 * `http://127.0.0.1:8080`; `--token`, `GRANIT_TOKEN`, the file `.data/operator-token` in the
 * current directory (what the embedded host generates on its first start).
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import {
  ApiProblemError,
  HostUnreachableError,
  MissingTokenError,
  type Problem,
  UsageError,
} from "./cli-errors.ts";

export const DEFAULT_URL = "http://127.0.0.1:8080";
export const TOKEN_FILE = join(".data", "operator-token");
/** @default 30 seconds per request */
export const DEFAULT_TIMEOUT_SECONDS = 30;

export interface ConnectionSettings {
  readonly url: string;
  readonly token: string;
  readonly timeoutMs: number;
}

/** Resolves the URL and the token from the flags, the environment and the token file. */
export function resolveConnection(input: {
  readonly url: string | undefined;
  readonly token: string | undefined;
  readonly timeoutSeconds: number;
  readonly env: NodeJS.ProcessEnv;
  readonly cwd: string;
}): ConnectionSettings {
  const raw = input.url ?? nonEmpty(input.env.GRANIT_URL) ?? DEFAULT_URL;
  let parsed: URL;
  try {
    parsed = new URL(raw);
  } catch {
    throw new UsageError(`--url must be an http:// or https:// URL (got '${raw}')`);
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") {
    throw new UsageError(`--url must be an http:// or https:// URL (got '${raw}')`);
  }
  const url = parsed.href.replace(/\/+$/, "");
  return { url, token: resolveToken(input), timeoutMs: input.timeoutSeconds * 1000 };
}

function resolveToken(input: { token: string | undefined; env: NodeJS.ProcessEnv; cwd: string }): string {
  const given = input.token ?? nonEmpty(input.env.GRANIT_TOKEN);
  if (given !== undefined) return given.trim();
  const file = join(input.cwd, TOKEN_FILE);
  let text: string;
  try {
    text = readFileSync(file, "utf8").trim();
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ENOTDIR") {
      throw new MissingTokenError(
        `no operator token: pass --token, set GRANIT_TOKEN, or run from the directory holding ${TOKEN_FILE}`,
      );
    }
    throw new MissingTokenError(`cannot read the operator token file ${file}: ${(error as Error).message}`);
  }
  if (text === "") throw new MissingTokenError(`the operator token file ${file} is empty`);
  return text;
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === "" ? undefined : value;
}

export interface RequestOptions {
  readonly body?: unknown;
  readonly query?: Readonly<Record<string, string | number | boolean | undefined>>;
  readonly headers?: Readonly<Record<string, string>>;
}

/** A JSON client of the host API (see the module comment). */
export class ApiClient {
  readonly url: string;
  readonly #token: string;
  readonly #timeoutMs: number;
  readonly #userAgent: string;

  constructor(settings: ConnectionSettings, userAgent: string) {
    this.url = settings.url;
    this.#token = settings.token;
    this.#timeoutMs = settings.timeoutMs;
    this.#userAgent = userAgent;
  }

  get<T>(path: string, options: RequestOptions = {}): Promise<T> {
    return this.request<T>("GET", path, options);
  }

  post<T>(path: string, options: RequestOptions = {}): Promise<T> {
    return this.request<T>("POST", path, options);
  }

  put<T>(path: string, options: RequestOptions = {}): Promise<T> {
    return this.request<T>("PUT", path, options);
  }

  /** Sends one request; resolves with the parsed JSON body (`undefined` for an empty one). */
  async request<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
    const target = new URL(`${this.url}${path}`);
    for (const [key, value] of Object.entries(options.query ?? {})) {
      if (value !== undefined) target.searchParams.set(key, String(value));
    }
    const headers: Record<string, string> = {
      accept: "application/json, application/problem+json",
      authorization: `Bearer ${this.#token}`,
      "user-agent": this.#userAgent,
      ...options.headers,
    };
    let body: string | undefined;
    if (options.body !== undefined) {
      headers["content-type"] = "application/json";
      body = JSON.stringify(options.body);
    }
    let response: Response;
    let text: string;
    try {
      response = await fetch(target, {
        method,
        headers,
        body,
        signal: AbortSignal.timeout(this.#timeoutMs),
      });
      text = await response.text();
    } catch (error) {
      throw new HostUnreachableError(this.url, reasonOf(error, this.#timeoutMs), { cause: error });
    }
    const parsed = parseJson(text, response.headers.get("content-type"));
    if (!response.ok) {
      throw new ApiProblemError(toProblem(response, parsed, text), `${method} ${target.pathname}`);
    }
    return parsed as T;
  }
}

function parseJson(text: string, contentType: string | null): unknown {
  if (text === "") return undefined;
  if (contentType !== null && !/json/i.test(contentType)) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** The answer's problem document, or one made from the status when the body is not one (a proxy's HTML). */
function toProblem(response: Response, parsed: unknown, text: string): Problem {
  if (isProblem(parsed)) return parsed;
  const snippet = text.replace(/\s+/g, " ").trim().slice(0, 200);
  return {
    type: "about:blank",
    title: response.statusText || `HTTP ${response.status}`,
    status: response.status,
    detail: snippet === "" ? `The host answered ${response.status} without a problem document.` : snippet,
  };
}

function isProblem(value: unknown): value is Problem {
  const candidate = value as Partial<Problem> | null | undefined;
  return (
    typeof candidate === "object" &&
    candidate !== null &&
    typeof candidate.title === "string" &&
    typeof candidate.status === "number"
  );
}

/** Why a request got no answer, in the operator's words. */
function reasonOf(error: unknown, timeoutMs: number): string {
  const named = error as { name?: string; message?: string; cause?: { code?: string; message?: string } };
  if (named.name === "TimeoutError" || named.name === "AbortError") {
    return `no answer within ${timeoutMs / 1000} s (--timeout)`;
  }
  const cause = named.cause;
  switch (cause?.code) {
    case "ECONNREFUSED":
      return "connection refused (is the host running? check --url or GRANIT_URL)";
    case "ENOTFOUND":
    case "EAI_AGAIN":
      return "unknown host name (check --url or GRANIT_URL)";
    case "ECONNRESET":
    case "UND_ERR_SOCKET":
      return "the connection was closed before an answer";
    case "ETIMEDOUT":
    case "UND_ERR_CONNECT_TIMEOUT":
      return "connection timed out";
    case "EHOSTUNREACH":
    case "ENETUNREACH":
      return "no route to the host";
  }
  if (typeof cause?.code === "string" && /CERT|SSL|TLS/i.test(cause.code)) {
    return `TLS failure (${cause.code})`;
  }
  return cause?.message ?? named.message ?? "unknown network error";
}
