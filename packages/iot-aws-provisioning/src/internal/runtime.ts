/**
 * What the saga, the teardown, the reconciler and the operator functions share: the ports, the AWS
 * operations, options, time, logging and metrics. Built once by `createAwsProvisioning`.
 */
import type {
  ChangeContext,
  Clock,
  DeviceStore,
  Logger,
  MessageBus,
  TenantId,
  UnitOfWork,
} from "@granit/iot";
import type { AwsThingBinding, AwsThingBindingStore, BindingLock, Scheduler } from "@granit/iot-aws";
import type { CrashPoint } from "../crash-point.ts";
import type { AwsProvisioningOptions } from "../options.ts";
import type { AwsApi, CallContext } from "./aws-api.ts";
import type { ProvisioningMetrics } from "./provisioning-metrics.ts";

/** The actor written to audit columns for changes the bridge makes on its own. */
export const SAGA_ACTOR = "granit.iot.aws.provisioning";

export interface ProvisioningRuntime {
  readonly devices: DeviceStore;
  readonly bindings: AwsThingBindingStore;
  readonly lock: BindingLock;
  readonly unitOfWork: UnitOfWork;
  readonly bus: MessageBus;
  readonly api: AwsApi;
  readonly options: AwsProvisioningOptions;
  readonly clock: Clock;
  readonly scheduler: Scheduler;
  readonly random: () => number;
  readonly logger: Logger;
  readonly metrics: ProvisioningMetrics;
  readonly crashPoint: CrashPoint;
}

export function change(runtime: ProvisioningRuntime, by: string | null = SAGA_ACTOR): ChangeContext {
  return { at: runtime.clock.now(), by };
}

export function callContext(tenantId: TenantId | null, signal?: AbortSignal): CallContext {
  return { tenantId, signal };
}

/** Structured log fields of a binding (ARNs and ids only — never key material). */
export function bindingFields(binding: AwsThingBinding): Record<string, unknown> {
  return {
    deviceId: binding.deviceId,
    bindingId: binding.id,
    thingName: binding.thingName.value,
    tenantId: binding.tenantId,
    status: binding.provisioningStatus,
  };
}

/** Resolves after `ms` on the runtime's scheduler, or rejects when `signal` aborts. */
export function sleep(runtime: ProvisioningRuntime, ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) return Promise.reject(signal.reason);
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      runtime.scheduler.clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = runtime.scheduler.setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
