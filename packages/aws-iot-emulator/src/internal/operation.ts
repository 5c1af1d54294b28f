/**
 * What every emulated operation sees and returns, whichever protocol carried it. Handlers are plain
 * functions over the shared {@link EmulatorContext}; they throw {@link AwsError} for AWS errors.
 */
import type { IncomingHttpHeaders } from "node:http";
import type { EmulatorContext } from "./context.ts";

export interface OperationRequest {
  /** Path labels of restJson1 routes, already percent-decoded. */
  readonly params: Readonly<Record<string, string>>;
  /** Query string of restJson1 routes, percent-decoded (last value wins). */
  readonly query: ReadonlyMap<string, string>;
  readonly headers: IncomingHttpHeaders;
  /** The raw request body. */
  readonly body: Buffer;
  /** The body parsed as a JSON object (`{}` when empty). */
  readonly input: Record<string, unknown>;
  readonly ctx: EmulatorContext;
}

export interface OperationResult {
  readonly status?: number;
  /** Serialized as JSON. */
  readonly body?: unknown;
  /** Sent as-is (shadow documents are raw JSON bytes in the SDK). */
  readonly raw?: Buffer;
}

export type Handler = (request: OperationRequest) => OperationResult | Promise<OperationResult>;

export interface Operation {
  readonly name: string;
  readonly handler: Handler;
  /** Read-only operations never mark the state dirty (no state-file write). */
  readonly readOnly: boolean;
}

/** One emulated AWS service: how it names itself in SigV4 and how it reports throttling and failures. */
export interface ServiceDefinition {
  /** The SigV4 signing name, e.g. `iot`, `iotdata`, `iot-jobs-data`, `secretsmanager`. */
  readonly name: string;
  readonly protocol: "rest-json" | "aws-json";
  readonly throttling: { readonly code: string; readonly status: number };
  readonly internalError: { readonly code: string; readonly status: number };
  /** Finds the operation for a request, or undefined. */
  resolve(method: string, path: string, target: string | undefined): ResolvedOperation | undefined;
}

export interface ResolvedOperation {
  readonly operation: Operation;
  readonly params: Readonly<Record<string, string>>;
}

export const ok = (body?: unknown): OperationResult => ({ body: body ?? {} });
