/**
 * The package's one OpenTelemetry meter, `granit.iot.aws`. Components take an optional `meter`
 * (tests pass one from an SDK `MeterProvider`); by default they ask the global provider when they
 * are constructed — not at import — so a host that registers its provider first is always seen.
 * Every instrument carries `tenant_id` (`"host"` for host-wide work such as credential rotation).
 */
import { type Meter, metrics } from "@opentelemetry/api";

export const IOT_AWS_METER_NAME = "granit.iot.aws";

/** The `granit.iot.aws` meter of the global provider. */
export function iotAwsMeter(): Meter {
  return metrics.getMeter(IOT_AWS_METER_NAME);
}
