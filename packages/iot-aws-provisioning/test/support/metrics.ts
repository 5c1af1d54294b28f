/** A real OpenTelemetry SDK meter whose data the test reads back (`await metrics.sum(name, tags)`). */
import type { Attributes } from "@opentelemetry/api";
import { MeterProvider, MetricReader } from "@opentelemetry/sdk-metrics";

class ManualReader extends MetricReader {
  protected override async onShutdown(): Promise<void> {}
  protected override async onForceFlush(): Promise<void> {}
}

export class TestMetrics {
  readonly #reader = new ManualReader();
  readonly #provider = new MeterProvider({ readers: [this.#reader] });
  readonly meter = this.#provider.getMeter("granit.iot.aws.provisioning");

  async points(name: string): Promise<{ attributes: Attributes; value: number }[]> {
    const { resourceMetrics } = await this.#reader.collect();
    const out: { attributes: Attributes; value: number }[] = [];
    for (const scope of resourceMetrics.scopeMetrics) {
      for (const metric of scope.metrics) {
        if (metric.descriptor.name !== name) continue;
        for (const point of metric.dataPoints) {
          const value = point.value as number | { count: number };
          out.push({ attributes: point.attributes, value: typeof value === "number" ? value : value.count });
        }
      }
    }
    return out;
  }

  async sum(name: string, match: Record<string, string> = {}): Promise<number> {
    return (await this.points(name))
      .filter((p) => Object.entries(match).every(([k, v]) => p.attributes[k] === v))
      .reduce((total, p) => total + p.value, 0);
  }
}
