/**
 * Test support for the AWS packages (`@granit/iot-aws/testing`): a real OpenTelemetry SDK meter
 * whose data the test reads back on demand. Components get `metrics.meter`; assertions read
 * `await metrics.sum("granit.iot.aws.calls", { outcome: "success" })`. Needs the optional peer
 * `@opentelemetry/sdk-metrics`.
 */
import type { Attributes, Meter } from "@opentelemetry/api";
import { MeterProvider, MetricReader } from "@opentelemetry/sdk-metrics";

class ManualReader extends MetricReader {
  protected override async onShutdown(): Promise<void> {}
  protected override async onForceFlush(): Promise<void> {}
}

export interface Point {
  readonly attributes: Attributes;
  /** Counter/gauge value, or the histogram's count. */
  readonly value: number;
  /** Histogram sum (same as `value` for counters and gauges). */
  readonly sum: number;
}

export class TestMetrics {
  readonly #reader = new ManualReader();
  readonly #provider = new MeterProvider({ readers: [this.#reader] });
  readonly meter: Meter;

  /** @param meterName the package's meter, e.g. `granit.iot.aws.jobs`. */
  constructor(meterName = "granit.iot.aws") {
    this.meter = this.#provider.getMeter(meterName);
  }

  async points(name: string): Promise<Point[]> {
    const { resourceMetrics } = await this.#reader.collect();
    const out: Point[] = [];
    for (const scope of resourceMetrics.scopeMetrics) {
      for (const metric of scope.metrics) {
        if (metric.descriptor.name !== name) continue;
        for (const point of metric.dataPoints) {
          const value = point.value as number | { count: number; sum?: number };
          out.push(
            typeof value === "number"
              ? { attributes: point.attributes, value, sum: value }
              : { attributes: point.attributes, value: value.count, sum: value.sum ?? 0 },
          );
        }
      }
    }
    return out;
  }

  /** Sum of the values of every point whose attributes include `match`. */
  async sum(name: string, match: Record<string, string | number> = {}): Promise<number> {
    const points = await this.points(name);
    return points
      .filter((p) => Object.entries(match).every(([k, v]) => p.attributes[k] === v))
      .reduce((total, p) => total + p.value, 0);
  }
}
