/**
 * The fleet endpoints as a Fastify plugin (the seed's `MapGranitIoTAwsFleetProvisioningEndpoints`),
 * independent of any host: `app.register(fleetProvisioningPlugin, { prefix:
 * "/api/iot/fleet-provisioning", service, auth, bodyLimit })`.
 *
 * | route | answers |
 * |---|---|
 * | `POST /verify` | 200 `{allowProvisioning: true, parameterOverrides}`; 403 problem `{allowProvisioning: false, reason}` |
 * | `POST /registered` | 200 `{deviceId, bindingId, thingName, alreadyProvisioned}` |
 *
 * Request path: `onRequest` checks the signature header, the key and the timestamp before the body
 * is read (401); the body is read raw up to `bodyLimit` (413) as `application/json` only (415);
 * `preValidation` checks the HMAC over the raw bytes (401); the service validates (400), decides
 * (403 / 409 / 422) and records the nonce with its writes (a replay is 401). Every error is an RFC
 * 9457 problem and writes nothing. The plugin is encapsulated: its JSON parser, hooks and error
 * handler apply to these two routes only.
 */
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { FleetAuthenticationError } from "./errors.ts";
import type { FleetProvisioningService } from "./fleet-provisioning-service.ts";
import type {
  AuthenticatedFleetRequest,
  FleetRequestAuthenticator,
  PendingFleetRequest,
} from "./fleet-request-authenticator.ts";
import { FLEET_SIGNATURE_ALGORITHM } from "./fleet-request-signature.ts";
import { sendFleetProblem } from "./internal/problem.ts";

export interface FleetProvisioningPluginOptions {
  readonly service: FleetProvisioningService;
  readonly auth: FleetRequestAuthenticator;
  /** Largest body read, in bytes (`IoT:Aws:FleetProvisioning:BodyLimitBytes`). @default 16384 */
  readonly bodyLimit?: number;
}

/** Where the host mounts the plugin. */
export const FLEET_PROVISIONING_PREFIX = "/api/iot/fleet-provisioning";

interface RequestState {
  pending?: PendingFleetRequest;
  raw?: Buffer;
  auth?: AuthenticatedFleetRequest;
}

const EMPTY = Buffer.alloc(0);
const WWW_AUTHENTICATE = `${FLEET_SIGNATURE_ALGORITHM} realm="granit-iot-fleet"`;

/** Registers `POST /verify` and `POST /registered` in an encapsulated scope. */
export async function fleetProvisioningPlugin(
  app: FastifyInstance,
  options: FleetProvisioningPluginOptions,
): Promise<void> {
  const { service, auth } = options;
  const bodyLimit = options.bodyLimit ?? 16_384;
  const states = new WeakMap<FastifyRequest, RequestState>();
  const stateOf = (request: FastifyRequest): RequestState => {
    let state = states.get(request);
    if (!state) {
      state = {};
      states.set(request, state);
    }
    return state;
  };

  const parseJson = app.getDefaultJsonParser("error", "error");
  app.removeAllContentTypeParsers();
  app.addContentTypeParser("application/json", { parseAs: "buffer", bodyLimit }, (request, body, done) => {
    const raw = body as Buffer;
    stateOf(request).raw = raw;
    if (raw.length === 0) {
      done(null, undefined);
      return;
    }
    parseJson(request, raw.toString("utf8"), done);
  });

  app.addHook("onRequest", async (request) => {
    stateOf(request).pending = await auth.identify(
      request.method,
      pathOf(request),
      request.headers.authorization,
    );
  });
  app.addHook("preValidation", async (request) => {
    const state = stateOf(request);
    if (!state.pending) throw new Error("unreachable: onRequest authenticates every fleet route");
    state.auth = auth.verify(state.pending, state.raw ?? EMPTY);
  });

  app.setErrorHandler((error: FastifyError, request, reply) => handleError(error, request, reply, auth));

  const authenticated = (request: FastifyRequest): AuthenticatedFleetRequest => {
    const state = stateOf(request).auth;
    if (!state) throw new Error("unreachable: preValidation authenticates every fleet route");
    return state;
  };

  app.post("/verify", { bodyLimit }, async (request, reply) => {
    const { caller, nonce } = authenticated(request);
    const verdict = await service.verify(caller, request.body, { nonce });
    if (verdict.allowProvisioning) return reply.code(200).send(verdict);
    return sendFleetProblem(reply, "denied", verdict.detail, pathOf(request), {
      allowProvisioning: false,
      reason: verdict.reason,
    });
  });

  app.post("/registered", { bodyLimit }, async (request, reply) => {
    const { caller, nonce } = authenticated(request);
    return reply.code(200).send(await service.register(caller, request.body, { nonce }));
  });
}

function pathOf(request: FastifyRequest): string {
  const url = request.url;
  const query = url.indexOf("?");
  return query < 0 ? url : url.slice(0, query);
}

function handleError(
  error: FastifyError,
  request: FastifyRequest,
  reply: FastifyReply,
  auth: FleetRequestAuthenticator,
) {
  const instance = pathOf(request);
  const named = error as FastifyError & Record<string, unknown>;
  switch (named.name) {
    case "FleetAuthenticationError": {
      const failure = error as unknown as FleetAuthenticationError;
      auth.recordFailure(failure, { path: instance, requestId: request.id });
      return sendFleetProblem(
        reply,
        "unauthorized",
        failure.message,
        instance,
        {},
        {
          "WWW-Authenticate": WWW_AUTHENTICATE,
        },
      );
    }
    case "DomainValidationError":
      return sendFleetProblem(reply, "validation", "The request body has invalid fields.", instance, {
        errors: named.violations,
      });
    case "FleetTenantMismatchError":
      return sendFleetProblem(reply, "forbidden", error.message, instance, {
        reason: "tenant_mismatch",
        ...(instance.endsWith("/verify") ? { allowProvisioning: false } : {}),
      });
    case "FleetRegistrationDeniedError":
      return sendFleetProblem(reply, "denied", error.message, instance, {
        allowProvisioning: false,
        reason: named.reason,
      });
    case "FleetRegistrationConflictError":
      return sendFleetProblem(reply, "conflict", error.message, instance, { reason: named.reason });
    case "ConcurrencyConflictError":
      return sendFleetProblem(reply, "concurrencyConflict", error.message, instance);
    case "ThingNameMismatchError":
      return sendFleetProblem(reply, "thingNameMismatch", error.message, instance, {
        errors: [{ field: named.field, rule: named.rule, message: error.message }],
      });
  }
  switch (error.code) {
    case "FST_ERR_CTP_BODY_TOO_LARGE":
      return sendFleetProblem(
        reply,
        "payloadTooLarge",
        "The body is larger than the fleet endpoints accept (IoT:Aws:FleetProvisioning:BodyLimitBytes).",
        instance,
      );
    case "FST_ERR_CTP_INVALID_MEDIA_TYPE":
      return sendFleetProblem(reply, "unsupportedMediaType", "Send the body as application/json.", instance);
    case "FST_ERR_CTP_INVALID_JSON_BODY":
    case "FST_ERR_CTP_EMPTY_JSON_BODY":
      return sendFleetProblem(reply, "validation", "The body is not valid JSON.", instance, {
        errors: [{ field: "body", rule: "json", message: "is not valid JSON" }],
      });
    case "FST_ERR_CTP_INVALID_CONTENT_LENGTH":
      return sendFleetProblem(reply, "validation", "Content-Length does not match the body.", instance, {
        errors: [{ field: "Content-Length", rule: "length", message: "does not match the body" }],
      });
  }
  const status = typeof error.statusCode === "number" ? error.statusCode : 500;
  if (status >= 400 && status < 500) {
    // Fastify's own client errors (bad URL encoding, aborted body, ...): their messages hold no internals.
    return reply
      .code(status)
      .header("content-type", "application/problem+json; charset=utf-8")
      .send(
        JSON.stringify({
          type: "about:blank",
          title: "The request could not be processed.",
          status,
          detail: error.message,
          instance,
        }),
      );
  }
  request.log.error({ err: error }, "fleet endpoint failed");
  return sendFleetProblem(
    reply,
    "internal",
    `The host could not complete the request; quote request id ${request.id}.`,
    instance,
  );
}
