/**
 * The shadow bridge's OpenTelemetry instruments, meter `granit.iot.aws.shadow`, created when a
 * `ShadowMetrics` is constructed (never at import: a meter taken before the host registers its
 * provider stays a no-op). Every point carries `tenant_id` (`"host"` for host devices and for
 * host-wide work such as a sweep).
 */
import { tenantTag } from "@granit/iot";
import { type Counter, type Histogram, type Meter, metrics } from "@opentelemetry/api";

export const AWS_SHADOW_METER_NAME = "granit.iot.aws.shadow";

/**
 * Why a status push pushed nothing. `no_device` and `not_reportable` (a Provisioning or
 * Decommissioned device) come only from the catch-up push when a binding becomes Active.
 */
export type ShadowPushSkipReason =
  | "disabled"
  | "no_binding"
  | "not_active"
  | "stale"
  | "superseded"
  | "no_device"
  | "not_reportable";

/** What one poll of one binding found. */
export type ShadowPollOutcome = "delta" | "in_sync" | "not_found" | "malformed" | "throttled" | "error";

export class ShadowMetrics {
  readonly #pushes: Counter;
  readonly #pushFailures: Counter;
  readonly #pushSkipped: Counter;
  readonly #polls: Counter;
  readonly #deltasPublished: Counter;
  readonly #sweepDuration: Histogram;
  readonly #sweepBindings: Histogram;

  constructor(meter: Meter = metrics.getMeter(AWS_SHADOW_METER_NAME)) {
    this.#pushes = meter.createCounter("granit.iot.aws.shadow.pushes", {
      description: "Reported lifecycle statuses written to Device Shadows, by status.",
    });
    this.#pushFailures = meter.createCounter("granit.iot.aws.shadow.push.failures", {
      description: "Reported-state pushes that failed (the event is redelivered), by error type.",
    });
    this.#pushSkipped = meter.createCounter("granit.iot.aws.shadow.push.skipped", {
      description:
        "Status pushes that pushed nothing, by reason (disabled, no_binding, not_active, stale, superseded, no_device, not_reportable).",
    });
    this.#polls = meter.createCounter("granit.iot.aws.shadow.polls", {
      description:
        "Shadow reads of the delta poller, by outcome (delta, in_sync, not_found, malformed, throttled, error).",
    });
    this.#deltasPublished = meter.createCounter("granit.iot.aws.shadow.deltas.published", {
      description: "DeviceDesiredStateChangedEvent published (each desired state once).",
    });
    this.#sweepDuration = meter.createHistogram("granit.iot.aws.shadow.sweep.duration", {
      description: "One poller pass over every binding due when it woke up.",
      unit: "ms",
    });
    this.#sweepBindings = meter.createHistogram("granit.iot.aws.shadow.sweep.bindings", {
      description: "Bindings one poller pass read.",
      unit: "{binding}",
    });
  }

  pushed(tenantId: string | null, status: string): void {
    this.#pushes.add(1, { tenant_id: tenantTag(tenantId), status });
  }

  pushFailed(tenantId: string | null, errorType: string): void {
    this.#pushFailures.add(1, { tenant_id: tenantTag(tenantId), error_type: errorType });
  }

  pushSkipped(tenantId: string | null, reason: ShadowPushSkipReason): void {
    this.#pushSkipped.add(1, { tenant_id: tenantTag(tenantId), reason });
  }

  polled(tenantId: string | null, outcome: ShadowPollOutcome, errorType?: string): void {
    this.#polls.add(
      1,
      errorType === undefined
        ? { tenant_id: tenantTag(tenantId), outcome }
        : { tenant_id: tenantTag(tenantId), outcome, error_type: errorType },
    );
  }

  deltaPublished(tenantId: string | null): void {
    this.#deltasPublished.add(1, { tenant_id: tenantTag(tenantId) });
  }

  sweep(durationMs: number, bindings: number): void {
    this.#sweepDuration.record(durationMs, { tenant_id: tenantTag(null) });
    this.#sweepBindings.record(bindings, { tenant_id: tenantTag(null) });
  }
}
