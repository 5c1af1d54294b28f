/**
 * A real OpenTelemetry SDK meter whose data the test reads back on demand:
 * `await metrics.sum("granit.iot.aws.fleet_provisioning.verify.denied", { reason: "serial_denied" })`.
 */
import { MeterProvider, MetricReader } from "@opentelemetry/sdk-metrics";

class ManualReader extends MetricReader {
  protected override async onShutdown(): Promise<void> {}
  protected override async onForceFlush(): Promise<void> {}
}

export class TestMetrics {
  readonly #reader = new ManualReader();
  readonly #provider = new MeterProvider({ readers: [this.#reader] });
  readonly meter = this.#provider.getMeter("granit.iot.aws.fleet_provisioning");

  /** Sum of the counter points whose attributes include `match`. */
  async sum(name: string, match: Record<string, string> = {}): Promise<number> {
    const { resourceMetrics } = await this.#reader.collect();
    let total = 0;
    for (const scope of resourceMetrics.scopeMetrics) {
      for (const metric of scope.metrics) {
        if (metric.descriptor.name !== name) continue;
        for (const point of metric.dataPoints) {
          if (!Object.entries(match).every(([k, v]) => point.attributes[k] === v)) continue;
          const value = point.value as number | { count: number };
          total += typeof value === "number" ? value : value.count;
        }
      }
    }
    return total;
  }
}
