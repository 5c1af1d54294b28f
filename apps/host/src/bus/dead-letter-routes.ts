/**
 * Operator routes for the durable bus's dead letters, under `/api/iot/bus`, host operator only
 * (a dead letter may carry any tenant's event, and the bus is shared by the whole host):
 *
 * | route | scope | answers |
 * |---|---|---|
 * | `GET /api/iot/bus/dead-letters?handler=&limit=` | `IoT.Devices.Read` | deliveries that exhausted their attempts, newest first, with the last error |
 * | `POST /api/iot/bus/dead-letters/{id}/retry` | `IoT.Devices.Manage` | puts one back in the queue with a fresh attempt budget; 404 when it is not a dead letter |
 *
 * Retry once the cause is fixed (a missing policy, a bug deployed since): handlers are idempotent,
 * so a retried delivery that had half-succeeded finishes its work.
 */
import type { PostgresMessageBus } from "@granit/iot-postgres";
import type { FastifyInstance } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { z } from "zod";
import { principalOf, useBearerAuth } from "../auth/bearer-auth.ts";
import { Scopes } from "../auth/scopes.ts";
import type { TokenRegistry } from "../auth/token-registry.ts";
import { HttpProblem, problemDetailsSchema } from "../http/problem-details.ts";

/** What the routes need of `PostgresMessageBus`. */
export interface DeadLetterRoutesDependencies {
  readonly tokens: TokenRegistry;
  readonly bus: Pick<PostgresMessageBus, "deadLetters" | "retryDeadLetter">;
}

const deadLetter = z
  .object({
    id: z.number().int(),
    handler: z.string(),
    eventType: z.string(),
    eventId: z.string(),
    tenantId: z.string().nullable(),
    attempts: z.number().int(),
    lastError: z.string().nullable().describe("Error name and message of the last attempt (never a stack)"),
    deadAt: z.string().nullable(),
  })
  .meta({ id: "DeadLetter" });

const errors = { 400: problemDetailsSchema, 401: problemDetailsSchema, 403: problemDetailsSchema };
const security = [{ bearerAuth: [] }];
const tags = ["bus"];

function requireHostOperator(tenantId: string | null): void {
  if (tenantId !== null) {
    throw new HttpProblem(
      "forbidden",
      "Only the host operator (a token without a tenant) may see or retry dead letters.",
    );
  }
}

/** Registers the routes in their own bearer-authenticated scope under `/api/iot/bus`. */
export async function registerDeadLetterRoutes(
  app: FastifyInstance,
  deps: DeadLetterRoutesDependencies,
): Promise<void> {
  await app.register(
    async (api) => {
      useBearerAuth(api, { tokens: deps.tokens });
      const routes = api.withTypeProvider<ZodTypeProvider>();

      routes.get(
        "/dead-letters",
        {
          config: { scopes: [Scopes.DevicesRead] },
          schema: {
            tags,
            security,
            summary: "List the bus deliveries that exhausted their attempts",
            querystring: z.object({
              handler: z.string().min(1).max(200).optional().describe("Only this handler's dead letters"),
              limit: z.coerce.number().int().min(1).max(1000).default(100),
            }),
            response: { 200: z.object({ items: z.array(deadLetter) }), ...errors },
          },
        },
        async (request) => {
          requireHostOperator(principalOf(request).tenantId);
          const letters = await deps.bus.deadLetters(request.query.handler, request.query.limit);
          return {
            items: letters.map((l) => ({
              id: l.id,
              handler: l.handler,
              eventType: l.eventType,
              eventId: l.eventId,
              tenantId: l.payload.tenantId ?? null,
              attempts: l.attempts,
              lastError: l.lastError,
              deadAt: l.deadAt?.toISOString() ?? null,
            })),
          };
        },
      );

      routes.post(
        "/dead-letters/:id/retry",
        {
          config: { scopes: [Scopes.DevicesManage] },
          schema: {
            tags,
            security,
            summary: "Put a dead letter back in the queue with a fresh attempt budget",
            params: z.object({ id: z.coerce.number().int().min(1) }),
            response: {
              202: z.object({ id: z.number().int(), requeued: z.literal(true) }),
              ...errors,
              404: problemDetailsSchema,
            },
          },
        },
        async (request, reply) => {
          requireHostOperator(principalOf(request).tenantId);
          if (!(await deps.bus.retryDeadLetter(request.params.id))) {
            throw new HttpProblem(
              "notFound",
              `Dead letter ${request.params.id} does not exist (or was already retried).`,
            );
          }
          return reply.code(202).send({ id: request.params.id, requeued: true as const });
        },
      );
    },
    { prefix: "/api/iot/bus" },
  );
}
