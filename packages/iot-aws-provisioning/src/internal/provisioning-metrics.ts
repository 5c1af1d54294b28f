import { type TenantId, tenantTag } from "@granit/iot";
import type { Counter, Histogram, Meter } from "@opentelemetry/api";

/** The instruments of `granit.iot.aws.provisioning` (see `metrics.ts`), created once per component. */
export class ProvisioningMetrics {
  readonly #thingCreated: Counter;
  readonly #certificateIssued: Counter;
  readonly #bindingActivated: Counter;
  readonly #bindingDecommissioned: Counter;
  readonly #failed: Counter;
  readonly #stepDuration: Histogram;

  constructor(meter: Meter) {
    this.#thingCreated = meter.createCounter("granit.iot.aws.thing.created", {
      description: "Things created by the provisioning saga.",
    });
    this.#certificateIssued = meter.createCounter("granit.iot.aws.certificate.issued", {
      description: "Certificates recorded on a binding (source: created, or adopted on a replay).",
    });
    this.#bindingActivated = meter.createCounter("granit.iot.aws.binding.activated", {
      description: "Bindings that reached Active.",
    });
    this.#bindingDecommissioned = meter.createCounter("granit.iot.aws.binding.decommissioned", {
      description: "Bindings torn down and marked Decommissioned.",
    });
    this.#failed = meter.createCounter("granit.iot.aws.provisioning.failed", {
      description: "Bindings that went to Failed (a cause an operator must fix), by step.",
    });
    this.#stepDuration = meter.createHistogram("granit.iot.aws.provisioning.step.duration", {
      description: "Duration of one provisioning saga step, AWS calls and checkpoint included.",
      unit: "ms",
    });
  }

  thingCreated(tenantId: TenantId | null): void {
    this.#thingCreated.add(1, { tenant_id: tenantTag(tenantId) });
  }
  certificateIssued(tenantId: TenantId | null, source: "created" | "adopted"): void {
    this.#certificateIssued.add(1, { tenant_id: tenantTag(tenantId), source });
  }
  bindingActivated(tenantId: TenantId | null): void {
    this.#bindingActivated.add(1, { tenant_id: tenantTag(tenantId) });
  }
  bindingDecommissioned(tenantId: TenantId | null): void {
    this.#bindingDecommissioned.add(1, { tenant_id: tenantTag(tenantId) });
  }
  provisioningFailed(tenantId: TenantId | null, step: string): void {
    this.#failed.add(1, { tenant_id: tenantTag(tenantId), step });
  }
  stepDuration(tenantId: TenantId | null, step: string, outcome: string, ms: number): void {
    this.#stepDuration.record(ms, { tenant_id: tenantTag(tenantId), step, outcome });
  }
}
