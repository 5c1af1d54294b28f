/**
 * `/health/live` answers 200 while the process serves HTTP (restart me if it does not);
 * `/health/ready` answers 200 only when the database answers a ping and every readiness gate is
 * open, else 503 listing which check is down (take me out of the load balancer). Neither needs a
 * token nor reveals secrets.
 */
import type { FastifyInstance } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { z } from "zod";
import type { ReadinessCheck, ReadinessRegistry } from "./readiness.ts";

const checkSchema = z.object({
  name: z.string(),
  status: z.enum(["up", "down"]),
  detail: z.string().optional(),
});
const readySchema = z.object({ status: z.enum(["ready", "not_ready"]), checks: z.array(checkSchema) });

export interface HealthRouteOptions {
  readonly readiness: ReadinessRegistry;
  /** Cheap database round trip; false when the database does not answer. */
  readonly pingDatabase: () => Promise<boolean>;
}

export function registerHealthRoutes(app: FastifyInstance, options: HealthRouteOptions): void {
  const routes = app.withTypeProvider<ZodTypeProvider>();
  routes.get(
    "/health/live",
    {
      logLevel: "warn",
      schema: {
        tags: ["health"],
        summary: "Liveness: 200 while the process serves HTTP",
        response: { 200: z.object({ status: z.literal("live") }) },
      },
    },
    async () => ({ status: "live" as const }),
  );
  routes.get(
    "/health/ready",
    {
      logLevel: "warn",
      schema: {
        tags: ["health"],
        summary: "Readiness: 200 when the database answers and every readiness gate is open",
        response: { 200: readySchema, 503: readySchema },
      },
    },
    async (_request, reply) => {
      const database: ReadinessCheck = (await options.pingDatabase())
        ? { name: "database", status: "up" }
        : { name: "database", status: "down", detail: "the database does not answer" };
      const checks = [database, ...options.readiness.check()];
      const ready = checks.every((c) => c.status === "up");
      return reply.code(ready ? 200 : 503).send({ status: ready ? "ready" : "not_ready", checks });
    },
  );
}
