/**
 * How the call policy sorts AWS SDK errors, by the fields SDK v3 errors carry (`name`,
 * `$metadata.httpStatusCode`, `$retryable`) and Node network errors (`code`, "socket hang up").
 *
 * - `throttling`: the account's quota was hit — always retried within the budget.
 * - `transient`: 5xx, internal failures, timeouts, connection resets — retried within the budget.
 * - `permanent`: everything else (not found, invalid request, access denied, conflicts, aborts) —
 *   thrown at once, unchanged, so callers can branch on `err.name`.
 *
 * @see https://docs.aws.amazon.com/sdkref/latest/guide/feature-retry-behavior.html
 */
export type AwsErrorKind = "throttling" | "transient" | "permanent";

const THROTTLING_NAMES: ReadonlySet<string> = new Set([
  "ThrottlingException",
  "Throttling",
  "ThrottledException",
  "TooManyRequestsException",
  "RequestLimitExceeded",
  "RequestThrottled",
  "RequestThrottledException",
  "SlowDown",
  "PriorRequestNotComplete",
  "BandwidthLimitExceeded",
  "ProvisionedThroughputExceededException",
]);

const TRANSIENT_NAMES: ReadonlySet<string> = new Set([
  "InternalFailureException",
  "InternalFailure",
  "InternalServerException",
  "InternalServerError",
  "InternalServiceError",
  "InternalServiceErrorException",
  "ServiceUnavailableException",
  "ServiceUnavailable",
  "TimeoutError",
  "RequestTimeout",
  "RequestTimeoutException",
]);

const TRANSIENT_CODES: ReadonlySet<string> = new Set([
  "ECONNRESET",
  "ECONNREFUSED",
  "ECONNABORTED",
  "EPIPE",
  "ETIMEDOUT",
  "EAI_AGAIN",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "UND_ERR_SOCKET",
]);

interface SdkErrorShape {
  readonly name?: unknown;
  readonly code?: unknown;
  readonly message?: unknown;
  readonly $metadata?: { readonly httpStatusCode?: unknown };
  readonly $retryable?: { readonly throttling?: unknown };
}

/** The error's `name` (SDK v3 sets it to the AWS error code, e.g. `ResourceNotFoundException`). */
export function awsErrorName(error: unknown): string {
  const name = (error as SdkErrorShape | null)?.name;
  return typeof name === "string" ? name : typeof error;
}

/** Sorts an error thrown by `client.send` into throttling / transient / permanent. */
export function classifyAwsError(error: unknown): AwsErrorKind {
  if (!error || typeof error !== "object") return "permanent";
  const e = error as SdkErrorShape;
  const name = typeof e.name === "string" ? e.name : "";
  if (name === "AbortError") return "permanent";
  const status = typeof e.$metadata?.httpStatusCode === "number" ? e.$metadata.httpStatusCode : undefined;
  if (THROTTLING_NAMES.has(name) || status === 429 || e.$retryable?.throttling === true) return "throttling";
  if (TRANSIENT_NAMES.has(name) || e.$retryable !== undefined) return "transient";
  if (status !== undefined && status >= 500 && status <= 599) return "transient";
  if (typeof e.code === "string" && TRANSIENT_CODES.has(e.code)) return "transient";
  if (typeof e.message === "string" && /socket hang up/i.test(e.message)) return "transient";
  return "permanent";
}
