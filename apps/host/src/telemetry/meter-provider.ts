/**
 * The process-wide OpenTelemetry `MeterProvider`, registered as the global one the moment this
 * module is evaluated, and the pull reader `/metrics` collects from.
 *
 * Import this module before any `@granit/*` package: `@opentelemetry/api` has no proxy meter
 * provider, so a meter obtained with `metrics.getMeter()` before the global provider is set stays
 * a no-op forever (`@granit/iot-postgres` creates its bus meters at import time). `main.ts`,
 * `host.ts` and `index.ts` import it first, as a side-effect import that import sorting keeps on top.
 */
import { metrics } from "@opentelemetry/api";
import { MeterProvider, MetricReader } from "@opentelemetry/sdk-metrics";

/** A reader with no schedule and no exporter: `/metrics` calls `collect()` on each scrape. */
class PullMetricReader extends MetricReader {
  protected override async onForceFlush(): Promise<void> {}
  protected override async onShutdown(): Promise<void> {}
}

export const metricReader: MetricReader = new PullMetricReader();

export const meterProvider = new MeterProvider({ readers: [metricReader] });

/**
 * False when something else registered a global meter provider first (an APM agent): then
 * `/metrics` shows only meters created from `meterProvider` directly, and the host logs a warning.
 */
export const isGlobalMeterProvider: boolean =
  metrics.setGlobalMeterProvider(meterProvider) || metrics.getMeterProvider() === meterProvider;
