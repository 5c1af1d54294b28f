/**
 * The one place where errors become HTTP responses (RFC 9457 problem details):
 *
 * | error | status |
 * |---|---|
 * | request schema (zod) violation, `DomainValidationError`, malformed JSON | 400 + `errors[]` |
 * | `HttpProblem` (auth: 401 / 403, ...) | its own |
 * | `EntityNotFoundError` (unknown or other tenant's id), unknown route | 404 |
 * | `InvalidStatusTransitionError`, `ConcurrencyConflictError`, `DuplicateKeyError` | 409 |
 * | body over `Host:BodyLimitBytes` | 413 |
 * | body that is not `application/json` | 415 |
 * | anything else | 500, generic detail, logged with the stack |
 *
 * Domain errors are mapped on their stable `name`, so a second copy of `@granit/iot` in the
 * dependency tree cannot turn a 409 into a 500. Internal messages never reach the caller.
 */
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { hasZodFastifySchemaValidationErrors } from "fastify-type-provider-zod";
import {
  HttpProblem,
  PROBLEM_CONTENT_TYPE,
  type ProblemDetails,
  type ProblemFieldError,
  type ProblemKindName,
  problem,
} from "./problem-details.ts";

interface ZodValidationItem {
  readonly keyword: string;
  readonly instancePath: string;
  readonly message: string;
  readonly params?: Record<string, unknown>;
}

const RULES: Readonly<Record<string, string>> = {
  too_big: "max",
  too_small: "min",
  invalid_format: "format",
  invalid_value: "enum",
  invalid_union: "type",
  custom: "invalid",
};

function fieldErrors(context: string | undefined, items: readonly ZodValidationItem[]): ProblemFieldError[] {
  return items.flatMap((item) => {
    const path = item.instancePath.split("/").filter(Boolean);
    const base = path.length > 0 ? path.join(".") : (context ?? "body");
    if (item.keyword === "unrecognized_keys") {
      const keys = (item.params?.keys as string[] | undefined) ?? [];
      return keys.map((key) => ({
        field: path.length > 0 ? `${base}.${key}` : key,
        rule: "unknown",
        message: "is not a known field",
      }));
    }
    const missing = item.keyword === "invalid_type" && /received undefined/.test(item.message);
    return [
      {
        field: base,
        rule: missing
          ? "required"
          : item.keyword === "invalid_type"
            ? "type"
            : (RULES[item.keyword] ?? item.keyword),
        message: missing ? "is required" : item.message,
      },
    ];
  });
}

interface Mapped {
  readonly kind: ProblemKindName;
  readonly detail: string;
  readonly errors?: readonly ProblemFieldError[];
  readonly headers?: Readonly<Record<string, string>>;
}

function map(error: unknown): Mapped | null {
  if (error instanceof HttpProblem) {
    return error.errors
      ? { kind: error.kind, detail: error.message, errors: error.errors, headers: error.headers }
      : { kind: error.kind, detail: error.message, headers: error.headers };
  }
  if (hasZodFastifySchemaValidationErrors(error)) {
    const context = (error as { validationContext?: string }).validationContext;
    return {
      kind: "validation",
      detail: `The request ${context ?? "input"} has invalid fields.`,
      errors: fieldErrors(context, error.validation as unknown as ZodValidationItem[]),
    };
  }
  const named = error as { name?: unknown; message?: unknown; violations?: unknown; code?: unknown };
  const message = typeof named.message === "string" ? named.message : "";
  switch (named.name) {
    case "DomainValidationError":
      return {
        kind: "validation",
        detail: "The request has invalid fields.",
        errors: (named.violations as ProblemFieldError[]).map(({ field, rule, message }) => ({
          field,
          rule,
          message,
        })),
      };
    case "EntityNotFoundError":
      return { kind: "notFound", detail: message };
    case "InvalidStatusTransitionError":
      return { kind: "invalidStatusTransition", detail: message };
    case "ConcurrencyConflictError":
      return { kind: "concurrencyConflict", detail: message };
    case "DuplicateKeyError":
      return { kind: "duplicateKey", detail: message };
  }
  switch (named.code) {
    case "FST_ERR_CTP_BODY_TOO_LARGE":
      return {
        kind: "payloadTooLarge",
        detail: "The request body is larger than the host accepts (Host:BodyLimitBytes).",
      };
    case "FST_ERR_CTP_INVALID_MEDIA_TYPE":
      return { kind: "unsupportedMediaType", detail: "Send the body as application/json." };
    case "FST_ERR_CTP_INVALID_JSON_BODY":
    case "FST_ERR_CTP_EMPTY_JSON_BODY":
      return {
        kind: "validation",
        detail: "The body is not valid JSON.",
        errors: [{ field: "body", rule: "json", message }],
      };
    case "FST_ERR_CTP_INVALID_CONTENT_LENGTH":
      return {
        kind: "validation",
        detail: "Content-Length does not match the body.",
        errors: [{ field: "Content-Length", rule: "length", message }],
      };
  }
  return null;
}

export function sendProblem(
  reply: FastifyReply,
  details: ProblemDetails,
  headers: Readonly<Record<string, string>> = {},
) {
  return reply
    .code(details.status)
    .headers(headers)
    .header("content-type", PROBLEM_CONTENT_TYPE)
    .send(JSON.stringify(details));
}

function instanceOf(request: FastifyRequest): string {
  return request.url.split("?")[0] ?? request.url;
}

/** Installs the error and not-found handlers on the root instance (children inherit them). */
export function installErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError, request, reply) => {
    const mapped = map(error);
    if (mapped) {
      return sendProblem(
        reply,
        problem(mapped.kind, mapped.detail, instanceOf(request), mapped.errors),
        mapped.headers,
      );
    }
    const status = typeof error.statusCode === "number" ? error.statusCode : 500;
    if (status >= 400 && status < 500) {
      // Fastify's own client errors (bad URL, ...): their messages carry no internals.
      return sendProblem(reply, {
        type: "about:blank",
        title: "The request could not be processed.",
        status,
        detail: error.message,
        instance: instanceOf(request),
      });
    }
    request.log.error({ err: error }, "unhandled error");
    return sendProblem(
      reply,
      problem(
        "internal",
        `The host could not complete the request; quote request id ${request.id}.`,
        instanceOf(request),
      ),
    );
  });

  app.setNotFoundHandler((request, reply) =>
    sendProblem(
      reply,
      problem("notFound", `No route matches ${request.method} ${instanceOf(request)}.`, instanceOf(request)),
    ),
  );
}
