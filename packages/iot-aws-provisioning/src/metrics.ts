/**
 * The package's meter, `granit.iot.aws.provisioning`. Instruments are created when a component is
 * constructed (never at import): a meter taken before the host registers its MeterProvider would
 * stay a no-op. Every point carries `tenant_id` (`"host"` for devices without a tenant).
 *
 * | instrument | tags | what |
 * |---|---|---|
 * | `granit.iot.aws.thing.created` | | CreateThing succeeded |
 * | `granit.iot.aws.certificate.issued` | `source` (`created`, `adopted`) | a certificate was recorded on a binding |
 * | `granit.iot.aws.binding.activated` | | a binding reached Active |
 * | `granit.iot.aws.binding.decommissioned` | | a binding was torn down |
 * | `granit.iot.aws.provisioning.failed` | `step` | a binding went to Failed |
 * | `granit.iot.aws.provisioning.step.duration` (ms) | `step`, `outcome` | one saga step (AWS calls + checkpoint) |
 */
import { type Meter, metrics } from "@opentelemetry/api";

export const IOT_AWS_PROVISIONING_METER_NAME = "granit.iot.aws.provisioning";

/** The `granit.iot.aws.provisioning` meter of the global provider. */
export function provisioningMeter(): Meter {
  return metrics.getMeter(IOT_AWS_PROVISIONING_METER_NAME);
}
