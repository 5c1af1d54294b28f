/**
 * HTTP server metrics, named after the OpenTelemetry semantic conventions:
 * `http.server.request.duration` (histogram, seconds; its `_count` series is the request count)
 * tagged with method, route template and status code. The route template (`/api/iot/devices/:id`),
 * never the raw URL, keeps the label set bounded.
 */
import { metrics } from "@opentelemetry/api";
import type { FastifyInstance } from "fastify";

const BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10];

export function installHttpMetrics(app: FastifyInstance): void {
  const meter = metrics.getMeter("granit.iot.host");
  const duration = meter.createHistogram("http.server.request.duration", {
    unit: "s",
    description: "Duration of HTTP server requests",
    advice: { explicitBucketBoundaries: BUCKETS },
  });
  app.addHook("onResponse", async (request, reply) => {
    duration.record(reply.elapsedTime / 1000, {
      "http.request.method": request.method,
      "http.route": request.routeOptions.url ?? "unmatched",
      "http.response.status_code": reply.statusCode,
    });
  });
}
