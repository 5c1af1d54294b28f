/**
 * The package's meter, `granit.iot.aws.jobs`, and its five counters. Instruments are created when
 * `AwsJobsMetrics` is constructed (never at import, where a meter taken before the host registers its
 * provider would stay a no-op). Every point carries `tenant_id` and `operation`.
 */
import { type TenantId, tenantTag } from "@granit/iot";
import { type Counter, type Meter, metrics } from "@opentelemetry/api";

export const AWS_JOBS_METER_NAME = "granit.iot.aws.jobs";

/** The counters of the jobs bridge; share one instance between the dispatcher and the poller. */
export class AwsJobsMetrics {
  readonly #dispatched: Counter;
  readonly #reused: Counter;
  readonly #completed: Counter;
  readonly #failed: Counter;
  readonly #dispatchErrors: Counter;

  constructor(meter: Meter = metrics.getMeter(AWS_JOBS_METER_NAME)) {
    this.#dispatched = meter.createCounter("granit.iot.aws.jobs.dispatched", {
      description: "IoT jobs created (CreateJob succeeded).",
    });
    this.#reused = meter.createCounter("granit.iot.aws.jobs.idempotent_reuse", {
      description: "Dispatches answered with the job already created for the same correlation id.",
    });
    this.#completed = meter.createCounter("granit.iot.aws.jobs.completed", {
      description: "Commands whose execution SUCCEEDED (DeviceCommandCompletedEvent published).",
    });
    this.#failed = meter.createCounter("granit.iot.aws.jobs.failed", {
      description: "Commands that ended without success (DeviceCommandFailedEvent published), by status.",
    });
    this.#dispatchErrors = meter.createCounter("granit.iot.aws.jobs.dispatch_errors", {
      description: "Dispatches that failed (AWS refused, retries spent, credentials not ready, conflicts).",
    });
  }

  dispatched(tenantId: TenantId | null, operation: string): void {
    this.#dispatched.add(1, tags(tenantId, operation));
  }
  reused(tenantId: TenantId | null, operation: string): void {
    this.#reused.add(1, tags(tenantId, operation));
  }
  completed(tenantId: TenantId | null, operation: string): void {
    this.#completed.add(1, tags(tenantId, operation));
  }
  failed(tenantId: TenantId | null, operation: string, status: string): void {
    this.#failed.add(1, { ...tags(tenantId, operation), status });
  }
  dispatchError(tenantId: TenantId | null, operation: string, errorType: string): void {
    this.#dispatchErrors.add(1, { ...tags(tenantId, operation), error_type: errorType });
  }
}

function tags(tenantId: TenantId | null, operation: string) {
  return { tenant_id: tenantTag(tenantId), operation };
}
