/**
 * RFC 9457 problem details (`application/problem+json`), the one shape of every error response:
 * `{ type, title, status, detail, instance, errors? }`. `type` is a stable URN per problem kind
 * (clients branch on it, never on `detail`); `errors` lists the offending fields of a 400.
 *
 * @see https://www.rfc-editor.org/rfc/rfc9457
 */
import { z } from "zod";

export const PROBLEM_CONTENT_TYPE = "application/problem+json; charset=utf-8";

/** One offending input: `{ field: "serialNumber", rule: "pattern", message: "..." }`. */
export interface ProblemFieldError {
  readonly field: string;
  readonly rule: string;
  readonly message: string;
}

export interface ProblemDetails {
  readonly type: string;
  readonly title: string;
  readonly status: number;
  readonly detail: string;
  readonly instance: string;
  readonly errors?: readonly ProblemFieldError[];
}

/** The problem kinds of this API, with their `type` URN and `title`. */
export const ProblemKind = {
  validation: { status: 400, type: "urn:granit:iot:problem:validation", title: "The request is not valid." },
  unauthorized: {
    status: 401,
    type: "urn:granit:iot:problem:unauthorized",
    title: "Authentication is required.",
  },
  forbidden: { status: 403, type: "urn:granit:iot:problem:forbidden", title: "The token may not do this." },
  notFound: { status: 404, type: "urn:granit:iot:problem:not-found", title: "The resource was not found." },
  invalidStatusTransition: {
    status: 409,
    type: "urn:granit:iot:problem:invalid-status-transition",
    title: "The device's status does not allow this operation.",
  },
  concurrencyConflict: {
    status: 409,
    type: "urn:granit:iot:problem:concurrency-conflict",
    title: "The resource was changed by someone else.",
  },
  duplicateKey: {
    status: 409,
    type: "urn:granit:iot:problem:duplicate-key",
    title: "The resource already exists.",
  },
  payloadTooLarge: {
    status: 413,
    type: "urn:granit:iot:problem:payload-too-large",
    title: "The body is too large.",
  },
  unsupportedMediaType: {
    status: 415,
    type: "urn:granit:iot:problem:unsupported-media-type",
    title: "The body must be application/json.",
  },
  internal: { status: 500, type: "urn:granit:iot:problem:internal", title: "An unexpected error occurred." },
  unavailable: {
    status: 503,
    type: "urn:granit:iot:problem:unavailable",
    title: "The service is not available.",
  },
} as const satisfies Record<string, { status: number; type: string; title: string }>;

export type ProblemKindName = keyof typeof ProblemKind;

/**
 * An error that is already an HTTP problem. Throw it from hooks and handlers; the error handler
 * sends it as is (with `headers`, e.g. `WWW-Authenticate`).
 */
export class HttpProblem extends Error {
  override readonly name = "HttpProblem";
  readonly kind: ProblemKindName;
  readonly errors: readonly ProblemFieldError[] | undefined;
  readonly headers: Readonly<Record<string, string>>;

  constructor(
    kind: ProblemKindName,
    detail: string,
    extra: { errors?: readonly ProblemFieldError[]; headers?: Readonly<Record<string, string>> } = {},
  ) {
    super(detail);
    this.kind = kind;
    this.errors = extra.errors;
    this.headers = extra.headers ?? {};
  }

  get status(): number {
    return ProblemKind[this.kind].status;
  }
}

export function problem(
  kind: ProblemKindName,
  detail: string,
  instance: string,
  errors?: readonly ProblemFieldError[],
): ProblemDetails {
  const { status, type, title } = ProblemKind[kind];
  return errors && errors.length > 0
    ? { type, title, status, detail, instance, errors }
    : { type, title, status, detail, instance };
}

/** The problem-details body, for the OpenAPI document. */
export const problemDetailsSchema = z
  .object({
    type: z.string().describe("Stable URN of the problem kind, e.g. urn:granit:iot:problem:validation"),
    title: z.string(),
    status: z.number().int(),
    detail: z.string(),
    instance: z.string().describe("The request path"),
    errors: z
      .array(z.object({ field: z.string(), rule: z.string(), message: z.string() }))
      .optional()
      .describe("The offending fields (400 only)"),
  })
  .meta({ id: "ProblemDetails" });
