/**
 * `GET /metrics`: the OpenTelemetry metrics of the process in the Prometheus text format, served
 * by the host's own Fastify app (no second port). Each scrape collects the pull reader and
 * serialises the result with the Prometheus exporter's serializer.
 */
import { PrometheusSerializer } from "@opentelemetry/exporter-prometheus";
import type { FastifyInstance } from "fastify";
import { metricReader } from "./meter-provider.ts";

const serializer = new PrometheusSerializer(
  "",
  false,
  undefined,
  /* withoutTargetInfo */ true,
  /* withoutScopeInfo */ false,
);

export function registerMetricsRoute(app: FastifyInstance): void {
  app.get("/metrics", { schema: { hide: true }, logLevel: "warn" }, async (request, reply) => {
    const { resourceMetrics, errors } = await metricReader.collect();
    for (const error of errors) request.log.warn({ err: error }, "metric collection error");
    return reply.type("text/plain; version=0.0.4; charset=utf-8").send(serializer.serialize(resourceMetrics));
  });
}
