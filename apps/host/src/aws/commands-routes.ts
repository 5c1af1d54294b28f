/**
 * Device commands over HTTP, under `/api/iot/devices/{id}/commands`, behind bearer auth: send a
 * command (202: the device runs it asynchronously as an AWS IoT job), list and read a device's
 * commands with their status, cancel one. Sending and cancelling need `IoT.Devices.Manage`, reading
 * `IoT.Devices.Read`; the tenant is always the token's (another tenant's device or command is 404).
 *
 * The routes depend on a structural `DeviceCommandsApi` (what `@granit/iot-aws-jobs`'s
 * `DeviceCommandService` provides), so the host does not import the AWS bridge: the bundle wires it.
 *
 * Errors beyond the host's usual ones: a reused idempotency key with another command → 409
 * `duplicate-key`; AWS refused the job → 400 `validation`; credentials not ready or AWS throttling
 * that outlasted the retries → 503 `unavailable` with `Retry-After`.
 */
import type { Page, TenantContext } from "@granit/iot";
import type { FastifyInstance } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { z } from "zod";
import { principalOf, useBearerAuth } from "../auth/bearer-auth.ts";
import { Scopes } from "../auth/scopes.ts";
import type { TokenRegistry } from "../auth/token-registry.ts";
import { HttpProblem, problemDetailsSchema } from "../http/problem-details.ts";

/** A command as the commands service returns it (structurally `TrackedJob` of `@granit/iot-aws`). */
export interface DeviceCommandRecord {
  readonly commandId: string;
  readonly correlationId: string;
  readonly jobId: string;
  readonly deviceId: string | null;
  readonly thingName: string | null;
  readonly operation: string;
  readonly parameters: Readonly<Record<string, unknown>>;
  readonly status: string;
  readonly executionStatus: string | null;
  readonly statusDetails: Readonly<Record<string, string>> | null;
  readonly reason: string | null;
  readonly requestedBy: string | null;
  readonly createdAt: Date;
  readonly updatedAt: Date;
  readonly dispatchedAt: Date | null;
  readonly cancelRequestedAt: Date | null;
  readonly expiresAt: Date;
  readonly terminalPublishedAt: Date | null;
}

/** What the routes call (`DeviceCommandService` of `@granit/iot-aws-jobs`). */
export interface DeviceCommandsApi {
  send(
    caller: TenantContext,
    deviceId: string,
    input: {
      readonly operation: string;
      readonly parameters?: Readonly<Record<string, unknown>> | undefined;
      readonly idempotencyKey?: string | null | undefined;
    },
  ): Promise<{ readonly command: DeviceCommandRecord; readonly reused: boolean }>;
  list(
    caller: TenantContext,
    deviceId: string,
    query: { readonly limit: number; readonly cursor?: string | null | undefined },
  ): Promise<Page<DeviceCommandRecord>>;
  get(caller: TenantContext, deviceId: string, commandId: string): Promise<DeviceCommandRecord>;
  cancel(caller: TenantContext, deviceId: string, commandId: string): Promise<DeviceCommandRecord>;
}

export interface CommandRoutesDependencies {
  /** The host's bearer tokens (`host.tokens`). */
  readonly tokens: TokenRegistry;
  readonly commands: DeviceCommandsApi;
  /** Seconds a client should wait after a 503. @default 30 */
  readonly retryAfterSeconds?: number;
}

const READ = { scopes: [Scopes.DevicesRead] };
const MANAGE = { scopes: [Scopes.DevicesManage] };
const security = [{ bearerAuth: [] }];
const tags = ["device commands"];
const errors = {
  400: problemDetailsSchema,
  401: problemDetailsSchema,
  403: problemDetailsSchema,
  404: problemDetailsSchema,
};
const writeErrors = {
  ...errors,
  409: problemDetailsSchema,
  413: problemDetailsSchema,
  415: problemDetailsSchema,
  503: problemDetailsSchema,
};

const deviceParams = z.object({ id: z.uuid().describe("Device id (UUID)") });
const commandParams = z.object({
  id: z.uuid().describe("Device id (UUID)"),
  commandId: z.uuid().describe("Command id (UUID)"),
});

export const sendCommandBody = z
  .strictObject({
    operation: z
      .string()
      .describe(
        "What the device should do: a letter, then up to 127 of [A-Za-z0-9._:-], e.g. firmware.update",
      ),
    parameters: z
      .record(z.string(), z.unknown())
      .optional()
      .describe("JSON object handed to the device in the job document (job document ≤ 32 KB)"),
    idempotencyKey: z
      .string()
      .optional()
      .describe(
        "1–128 printable characters. Retrying with the same key returns the first command; the same key with another command is 409",
      ),
  })
  .meta({ id: "SendDeviceCommandRequest" });

export const listCommandsQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(1000).default(50),
  cursor: z.string().max(512).optional().describe("nextCursor of the previous page"),
});

export const deviceCommandResponse = z
  .object({
    commandId: z.string(),
    correlationId: z.string(),
    jobId: z.string().describe("The AWS IoT job id"),
    deviceId: z.string().nullable(),
    thingName: z.string().nullable(),
    operation: z.string(),
    parameters: z.record(z.string(), z.unknown()),
    status: z
      .string()
      .describe("Dispatching, Dispatched (running), Succeeded, Failed, Canceled or Expired (final ones)"),
    executionStatus: z
      .string()
      .nullable()
      .describe("Last AWS job-execution status seen (QUEUED, IN_PROGRESS, ...)"),
    statusDetails: z.record(z.string(), z.string()).nullable().describe("What the device reported"),
    reason: z.string().nullable(),
    requestedBy: z.string().nullable(),
    createdAt: z.string(),
    updatedAt: z.string(),
    dispatchedAt: z.string().nullable(),
    cancelRequestedAt: z.string().nullable(),
    expiresAt: z.string().describe("Tracking ends here (IoT:Aws:Jobs:JobTrackingTtlHours)"),
    completedAt: z.string().nullable().describe("When the final status was recorded and published"),
  })
  .meta({ id: "DeviceCommand" });

const sentCommandResponse = deviceCommandResponse
  .extend({
    reused: z.boolean().describe("True when the idempotency key had already been used for this command"),
  })
  .meta({ id: "SentDeviceCommand" });

const commandPageResponse = z
  .object({ items: z.array(deviceCommandResponse), nextCursor: z.string().nullable() })
  .meta({ id: "DeviceCommandPage" });

export function toDeviceCommandResponse(c: DeviceCommandRecord): z.infer<typeof deviceCommandResponse> {
  return {
    commandId: c.commandId,
    correlationId: c.correlationId,
    jobId: c.jobId,
    deviceId: c.deviceId,
    thingName: c.thingName,
    operation: c.operation,
    parameters: { ...c.parameters },
    status: c.status,
    executionStatus: c.executionStatus,
    statusDetails: c.statusDetails ? { ...c.statusDetails } : null,
    reason: c.reason,
    requestedBy: c.requestedBy,
    createdAt: c.createdAt.toISOString(),
    updatedAt: c.updatedAt.toISOString(),
    dispatchedAt: c.dispatchedAt?.toISOString() ?? null,
    cancelRequestedAt: c.cancelRequestedAt?.toISOString() ?? null,
    expiresAt: c.expiresAt.toISOString(),
    completedAt: c.terminalPublishedAt?.toISOString() ?? null,
  };
}

/** The AWS bridge's errors as problem details (the host's error handler maps the core's by name). */
function translate(error: unknown, retryAfterSeconds: number): unknown {
  const e = error as { name?: unknown; message?: unknown; awsErrorName?: unknown };
  const message = typeof e.message === "string" ? e.message : "";
  switch (e.name) {
    case "CommandCorrelationConflictError":
    case "JobIdConflictError":
    case "DynamicThingGroupConflictError":
      return new HttpProblem("duplicateKey", message);
    case "JobDispatchRejectedError":
      return new HttpProblem("validation", message, {
        errors: [{ field: "command", rule: String(e.awsErrorName ?? "rejected"), message }],
      });
    case "AwsCredentialsNotReadyError":
    case "AwsCallRetriesExhaustedError":
      return new HttpProblem(
        "unavailable",
        e.name === "AwsCredentialsNotReadyError"
          ? "AWS credentials are not ready yet; nothing was sent. Retry later."
          : "AWS is throttling or failing; the command may still be dispatched shortly. Retry with the same idempotency key.",
        { headers: { "Retry-After": String(retryAfterSeconds) } },
      );
    default:
      return error;
  }
}

/** Registers the device command routes (in their own authenticated scope under `/api/iot/devices`). */
export function registerCommandRoutes(app: FastifyInstance, dependencies: CommandRoutesDependencies): void {
  const { commands } = dependencies;
  const retryAfter = dependencies.retryAfterSeconds ?? 30;
  const guarded = async <T>(work: () => Promise<T>): Promise<T> => {
    try {
      return await work();
    } catch (error) {
      throw translate(error, retryAfter);
    }
  };

  app.register(
    async (scope) => {
      useBearerAuth(scope, { tokens: dependencies.tokens });
      const routes = scope.withTypeProvider<ZodTypeProvider>();

      routes.post(
        "/:id/commands",
        {
          config: MANAGE,
          schema: {
            tags,
            security,
            summary: "Send a command to a device (an AWS IoT job); 202, the outcome arrives asynchronously",
            params: deviceParams,
            body: sendCommandBody,
            response: { 202: sentCommandResponse, ...writeErrors },
          },
        },
        async (request, reply) => {
          const { command, reused } = await guarded(() =>
            commands.send(principalOf(request), request.params.id, request.body),
          );
          return reply
            .code(202)
            .header("location", `/api/iot/devices/${request.params.id}/commands/${command.commandId}`)
            .send({ ...toDeviceCommandResponse(command), reused });
        },
      );

      routes.get(
        "/:id/commands",
        {
          config: READ,
          schema: {
            tags,
            security,
            summary: "A device's commands, newest first (keyset paging)",
            params: deviceParams,
            querystring: listCommandsQuery,
            response: { 200: commandPageResponse, ...errors },
          },
        },
        async (request) => {
          const page = await guarded(() =>
            commands.list(principalOf(request), request.params.id, request.query),
          );
          return { items: page.items.map(toDeviceCommandResponse), nextCursor: page.nextCursor };
        },
      );

      routes.get(
        "/:id/commands/:commandId",
        {
          config: READ,
          schema: {
            tags,
            security,
            summary: "One command of a device, with its status",
            params: commandParams,
            response: { 200: deviceCommandResponse, ...errors },
          },
        },
        async (request) =>
          toDeviceCommandResponse(
            await guarded(() =>
              commands.get(principalOf(request), request.params.id, request.params.commandId),
            ),
          ),
      );

      routes.post(
        "/:id/commands/:commandId/cancel",
        {
          config: MANAGE,
          schema: {
            tags,
            security,
            summary: "Cancel a running command (CancelJob); the final status arrives asynchronously",
            params: commandParams,
            response: { 202: deviceCommandResponse, ...writeErrors },
          },
        },
        async (request, reply) => {
          const command = await guarded(() =>
            commands.cancel(principalOf(request), request.params.id, request.params.commandId),
          );
          return reply.code(202).send(toDeviceCommandResponse(command));
        },
      );
    },
    { prefix: "/api/iot/devices" },
  );
}
