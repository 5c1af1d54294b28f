/**
 * The HTTP front door: one `node:http` server for all four services and the admin API. A request is
 * routed by the service name of its SigV4 credential scope, then by the service's protocol (restJson1
 * method + path, or awsJson1_1 `X-Amz-Target`). Before the handler runs, fault rules and quotas may
 * answer instead; every call lands in the call log.
 */
import { randomUUID } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { setTimeout as sleep } from "node:timers/promises";
import type { CallLog } from "./call-log.ts";
import type { EmulatorContext } from "./context.ts";
import { AwsError } from "./errors.ts";
import type { Faults } from "./faults.ts";
import type { OperationRequest, OperationResult, ServiceDefinition } from "./operation.ts";
import { parseQuery } from "./protocol/rest-json.ts";
import { parseCredentialScope } from "./protocol/sigv4.ts";
import type { Quotas } from "./quotas.ts";

export interface ServerDeps {
  readonly services: ReadonlyMap<string, ServiceDefinition>;
  readonly ctx: EmulatorContext;
  readonly faults: Faults;
  readonly quotas: Quotas;
  readonly callLog: CallLog;
  readonly logger: ((line: string) => void) | undefined;
  /** Called after a successful operation that may have changed state. */
  readonly onChange: () => void;
  readonly admin: (method: string, path: string, body: Buffer, res: ServerResponse) => void;
}

const JSON_CONTENT = "application/json";
const AWS_JSON_CONTENT = "application/x-amz-json-1.1";
const EMPTY_QUERY: ReadonlyMap<string, string> = new Map();

export function createRequestListener(deps: ServerDeps) {
  return (req: IncomingMessage, res: ServerResponse): void => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const body = chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks);
      dispatch(deps, req, res, body).catch((error: unknown) => {
        deps.logger?.(`emulator: unexpected failure: ${String(error)}`);
        if (!res.headersSent) writeJson(res, 500, JSON_CONTENT, { message: "Internal emulator error" });
      });
    });
  };
}

async function dispatch(
  deps: ServerDeps,
  req: IncomingMessage,
  res: ServerResponse,
  body: Buffer,
): Promise<void> {
  const url = req.url ?? "/";
  const q = url.indexOf("?");
  const path = q < 0 ? url : url.slice(0, q);
  const method = req.method ?? "GET";
  if (path.startsWith("/_emulator/")) {
    deps.admin(method, path, body, res);
    return;
  }
  const scope = parseCredentialScope(req.headers.authorization);
  const service = scope ? deps.services.get(scope.service) : undefined;
  if (!service) {
    const message = scope
      ? `The emulator does not serve service '${scope.service}'`
      : "Missing SigV4 Authorization header";
    writeJson(res, 403, JSON_CONTENT, { message }, { "x-amzn-errortype": "UnrecognizedClientException" });
    return;
  }
  const target = headerValue(req.headers["x-amz-target"]);
  const resolved = service.resolve(method, path, target);
  if (!resolved) {
    const operation = target ?? `${method} ${path}`;
    sendError(res, service, new AwsError("UnknownOperationException", 404, `Unknown operation ${operation}`));
    deps.callLog.record({
      service: service.name,
      operation,
      status: 404,
      at: iso(deps.ctx),
      error: "UnknownOperationException",
    });
    return;
  }
  const { operation, params } = resolved;
  const thingName = params.thingName;
  const log = (status: number, error?: string) => {
    const entry: Parameters<CallLog["record"]>[0] = {
      service: service.name,
      operation: operation.name,
      status,
      at: iso(deps.ctx),
    };
    if (thingName !== undefined) entry.thingName = thingName;
    if (scope?.accessKeyId) entry.accessKeyId = scope.accessKeyId;
    if (error !== undefined) entry.error = error;
    deps.callLog.record(entry);
    deps.logger?.(
      `${service.name} ${operation.name} ${status}${error ? ` ${error}` : ""}${thingName ? ` thing=${thingName}` : ""}`,
    );
  };

  const fault = deps.faults.decide(service.name, operation.name);
  if (fault.latencyMs > 0) await sleep(fault.latencyMs);
  if (fault.kind === "drop") {
    log(0, "ConnectionDropped");
    req.socket.destroy();
    return;
  }
  if (fault.kind === "throttle" || !deps.quotas.tryAcquire(service.name, operation.name, thingName)) {
    const { code, status } = service.throttling;
    sendError(res, service, new AwsError(code, status, "Rate exceeded"));
    log(status, code);
    return;
  }
  if (fault.kind === "error500") {
    const { code, status } = service.internalError;
    sendError(res, service, new AwsError(code, status, "Internal failure (injected by the emulator)"));
    log(status, code);
    return;
  }

  const request = makeRequest(
    deps.ctx,
    params,
    q < 0 ? EMPTY_QUERY : parseQuery(url.slice(q + 1)),
    req,
    body,
  );
  let result: OperationResult;
  try {
    const out = operation.handler(request);
    result = out instanceof Promise ? await out : out;
  } catch (error) {
    const awsError =
      error instanceof AwsError
        ? error
        : new AwsError(
            service.internalError.code,
            service.internalError.status,
            `Internal failure: ${String(error)}`,
          );
    if (!(error instanceof AwsError))
      deps.logger?.(`emulator: ${operation.name} failed: ${(error as Error)?.stack ?? String(error)}`);
    sendError(res, service, awsError);
    log(awsError.status, awsError.code);
    return;
  }
  const status = result.status ?? 200;
  if (result.raw) {
    res.writeHead(status, {
      "content-type": JSON_CONTENT,
      "content-length": result.raw.length,
      "x-amzn-requestid": randomUUID(),
    });
    res.end(result.raw);
  } else {
    writeJson(
      res,
      status,
      service.protocol === "aws-json" ? AWS_JSON_CONTENT : JSON_CONTENT,
      result.body ?? {},
    );
  }
  log(status);
  if (!operation.readOnly) deps.onChange();
}

function makeRequest(
  ctx: EmulatorContext,
  params: Readonly<Record<string, string>>,
  query: ReadonlyMap<string, string>,
  req: IncomingMessage,
  body: Buffer,
): OperationRequest {
  let parsed: Record<string, unknown> | undefined;
  return {
    params,
    query,
    headers: req.headers,
    body,
    ctx,
    get input(): Record<string, unknown> {
      if (parsed) return parsed;
      if (body.length === 0) {
        parsed = {};
        return parsed;
      }
      let value: unknown;
      try {
        value = JSON.parse(body.toString("utf8"));
      } catch {
        throw new AwsError("SerializationException", 400, "The request body is not valid JSON");
      }
      if (typeof value !== "object" || value === null || Array.isArray(value)) {
        throw new AwsError("SerializationException", 400, "The request body must be a JSON object");
      }
      parsed = value as Record<string, unknown>;
      return parsed;
    },
  };
}

function sendError(res: ServerResponse, service: ServiceDefinition, error: AwsError): void {
  if (service.protocol === "aws-json") {
    writeJson(res, error.status, AWS_JSON_CONTENT, {
      __type: error.code,
      Message: error.message,
      ...error.fields,
    });
  } else {
    writeJson(
      res,
      error.status,
      JSON_CONTENT,
      { message: error.message, ...error.fields },
      { "x-amzn-errortype": error.code },
    );
  }
}

export function writeJson(
  res: ServerResponse,
  status: number,
  contentType: string,
  body: unknown,
  headers?: Record<string, string>,
): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    "content-type": contentType,
    "content-length": Buffer.byteLength(text),
    "x-amzn-requestid": randomUUID(),
    ...headers,
  });
  res.end(text);
}

function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

function iso(ctx: EmulatorContext): string {
  return new Date(ctx.now()).toISOString();
}
