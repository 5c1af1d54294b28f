/**
 * A device's AWS IoT Device Shadow over HTTP, under `/api/iot/devices/{id}/shadow`, behind bearer
 * auth: read the classic shadow (`IoT.Devices.Read`), set its desired state (`IoT.Devices.Manage`).
 * The tenant is always the token's: another tenant's device answers 404, like an unknown one.
 *
 * The routes depend on a structural `DeviceShadowApi` (what `@granit/iot-aws-shadow`'s
 * `DeviceShadowService` provides), so the host does not import the AWS bridge: the bundle wires it.
 *
 * Errors beyond the host's usual ones: a desired state that is not a JSON object, nests deeper than 6
 * levels or holds `null` in an array → 400 `validation`; more than 8 KB of JSON → 413
 * `payload-too-large`; the binding is not Active → 409 `invalid-status-transition`; no shadow yet →
 * 404; credentials not ready or AWS throttling that outlasted the retries → 503 `unavailable` with
 * `Retry-After`.
 *
 * @see https://docs.aws.amazon.com/iot/latest/developerguide/device-shadow-document.html
 */
import type { TenantFilter } from "@granit/iot";
import type { FastifyInstance } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { z } from "zod";
import { principalOf, useBearerAuth } from "../auth/bearer-auth.ts";
import { Scopes } from "../auth/scopes.ts";
import type { TokenRegistry } from "../auth/token-registry.ts";
import { HttpProblem, problemDetailsSchema } from "../http/problem-details.ts";

/** AWS: a shadow holds at most 8 KB of state. */
export const MAX_DESIRED_STATE_BYTES = 8 * 1024;

/** A device's classic shadow (structurally `DeviceShadowView` of `@granit/iot-aws-shadow`). */
export interface DeviceShadowRecord {
  readonly deviceId: string;
  readonly thingName: string;
  readonly reported: Readonly<Record<string, unknown>>;
  readonly desired: Readonly<Record<string, unknown>>;
  readonly delta: Readonly<Record<string, unknown>>;
  readonly version: number;
  readonly timestamp: number | null;
}

/** What the routes call (`DeviceShadowService` of `@granit/iot-aws-shadow`). */
export interface DeviceShadowApi {
  get(deviceId: string, tenant: TenantFilter, signal?: AbortSignal): Promise<DeviceShadowRecord>;
  setDesired(
    deviceId: string,
    tenant: TenantFilter,
    desired: unknown,
    signal?: AbortSignal,
  ): Promise<DeviceShadowRecord>;
}

export interface ShadowRoutesDependencies {
  /** The host's bearer tokens (`host.tokens`). */
  readonly tokens: TokenRegistry;
  readonly shadows: DeviceShadowApi;
  /** Seconds a client should wait after a 503. @default 30 */
  readonly retryAfterSeconds?: number;
}

const security = [{ bearerAuth: [] }];
const tags = ["device shadow"];
const errors = {
  400: problemDetailsSchema,
  401: problemDetailsSchema,
  403: problemDetailsSchema,
  404: problemDetailsSchema,
  503: problemDetailsSchema,
};

const deviceParams = z.object({ id: z.uuid().describe("Device id (UUID)") });
const jsonObject = z.record(z.string(), z.unknown());

export const desiredStateBody = jsonObject
  .describe(
    "The desired values to merge into the shadow (a JSON object; null deletes a key). At most 8 KB of JSON and 6 levels of nesting.",
  )
  .meta({ id: "DesiredDeviceState" });

export const deviceShadowResponse = z
  .object({
    deviceId: z.string(),
    thingName: z.string().describe("The AWS IoT thing"),
    reported: jsonObject.describe("What the device (and the bridge: status, updatedAt) reported"),
    desired: jsonObject.describe("What apps asked for"),
    delta: jsonObject.describe("Desired values the device has not reported yet"),
    version: z.number().int().describe("The shadow document's version (every update increments it)"),
    timestamp: z.number().nullable().describe("Epoch seconds of the read, from AWS"),
  })
  .meta({ id: "DeviceShadow" });

function toResponse(shadow: DeviceShadowRecord): z.infer<typeof deviceShadowResponse> {
  return {
    deviceId: shadow.deviceId,
    thingName: shadow.thingName,
    reported: { ...shadow.reported },
    desired: { ...shadow.desired },
    delta: { ...shadow.delta },
    version: shadow.version,
    timestamp: shadow.timestamp,
  };
}

/** The shadow bridge's errors as problem details (the host's error handler maps the core's by name). */
function translate(error: unknown, retryAfterSeconds: number): unknown {
  const e = error as { name?: unknown; message?: unknown };
  const message = typeof e.message === "string" ? e.message : "";
  switch (e.name) {
    case "DesiredStateTooLargeError":
      return new HttpProblem("payloadTooLarge", message);
    case "MalformedShadowDocumentError":
      return new HttpProblem("unavailable", message, {
        headers: { "Retry-After": String(retryAfterSeconds) },
      });
    case "AwsCredentialsNotReadyError":
    case "AwsCallRetriesExhaustedError":
      return new HttpProblem(
        "unavailable",
        e.name === "AwsCredentialsNotReadyError"
          ? "AWS credentials are not ready yet; nothing was sent. Retry later."
          : "AWS is throttling or failing; nothing is known to be written. Retry later.",
        { headers: { "Retry-After": String(retryAfterSeconds) } },
      );
    default:
      return error;
  }
}

/** Registers the shadow routes (in their own authenticated scope under `/api/iot/devices`). */
export function registerShadowRoutes(app: FastifyInstance, dependencies: ShadowRoutesDependencies): void {
  const { shadows } = dependencies;
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

      routes.get(
        "/:id/shadow",
        {
          config: { scopes: [Scopes.DevicesRead] },
          schema: {
            tags,
            security,
            summary: "The device's classic shadow: reported, desired, delta and version",
            params: deviceParams,
            response: { 200: deviceShadowResponse, ...errors },
          },
        },
        async (request) => {
          const principal = principalOf(request);
          const shadow = await guarded(() => shadows.get(request.params.id, principal.tenantId));
          return toResponse(shadow);
        },
      );

      routes.put(
        "/:id/shadow/desired",
        {
          config: { scopes: [Scopes.DevicesManage] },
          schema: {
            tags,
            security,
            summary: "Merge a desired state into the device's shadow; answers the shadow afterwards",
            params: deviceParams,
            body: desiredStateBody,
            response: {
              200: deviceShadowResponse,
              ...errors,
              409: problemDetailsSchema,
              413: problemDetailsSchema,
              415: problemDetailsSchema,
            },
          },
        },
        async (request) => {
          const bytes = Buffer.byteLength(JSON.stringify(request.body));
          if (bytes > MAX_DESIRED_STATE_BYTES) {
            throw new HttpProblem(
              "payloadTooLarge",
              `The desired state is ${bytes} bytes of JSON; a shadow holds at most ${MAX_DESIRED_STATE_BYTES}.`,
            );
          }
          const principal = principalOf(request);
          const shadow = await guarded(() =>
            shadows.setDesired(request.params.id, principal.tenantId, request.body),
          );
          return toResponse(shadow);
        },
      );
    },
    { prefix: "/api/iot/devices" },
  );
}
