/**
 * `AwsProvisioning`: the provisioning saga, the decommission, the operator retry, the binding view
 * and the reconciler of one host, over its ports (device and binding stores, binding lock, unit of
 * work, bus) and its AWS clients (through the shared `AwsCallPolicy`). `registerAwsProvisioning`
 * builds one and subscribes its handlers; hosts and tests may also call its methods directly.
 */
import {
  ALL_TENANTS,
  type Clock,
  type DeviceStore,
  EntityNotFoundError,
  type Logger,
  type MessageBus,
  silentLogger,
  systemClock,
  type TenantFilter,
  type TenantId,
  type UnitOfWork,
  uuidv7,
} from "@granit/iot";
import {
  type AwsCallPolicy,
  type AwsClientLike,
  type AwsThingBinding,
  type AwsThingBindingStore,
  type BindingLock,
  type ProvisioningStatus,
  type Scheduler,
  systemScheduler,
} from "@granit/iot-aws";
import type { Meter } from "@opentelemetry/api";
import { type CrashPoint, noCrashPoints } from "./crash-point.ts";
import type { AwsThingProvisioningRequestedEvent } from "./events.ts";
import { AwsApi } from "./internal/aws-api.ts";
import { Decommissioner, type DecommissionOutcome } from "./internal/decommission.ts";
import { ProvisioningMetrics } from "./internal/provisioning-metrics.ts";
import { type ProvisioningOutcome, ProvisioningSaga } from "./internal/provisioning-saga.ts";
import { Reconciler } from "./internal/reconciler.ts";
import { bindingFields, change, type ProvisioningRuntime } from "./internal/runtime.ts";
import { provisioningMeter } from "./metrics.ts";
import type { AwsProvisioningOptions } from "./options.ts";
import type { ReconcileOptions, ReconcileReport } from "./reconcile-report.ts";

export type { DecommissionOutcome, ProvisioningOutcome };

/** What `AwsProvisioning` needs. */
export interface AwsProvisioningDependencies {
  readonly deviceStore: DeviceStore;
  readonly bindingStore: AwsThingBindingStore;
  /** One saga run / decommission / repair per device across hosts (`PostgresBindingLock`). */
  readonly bindingLock: BindingLock;
  /** Operator retry: the binding and its `AwsThingProvisioningRequestedEvent` commit together. */
  readonly unitOfWork: UnitOfWork;
  readonly bus: MessageBus;
  /** An `IoTClient` built with `maxAttempts: 1` (the call policy retries). */
  readonly iot: AwsClientLike;
  /** A `SecretsManagerClient` built with `maxAttempts: 1`. */
  readonly secrets: AwsClientLike;
  /** The host's one call policy (rate limits, retries, credential gate, metrics). */
  readonly callPolicy: AwsCallPolicy;
  readonly options: AwsProvisioningOptions;
  /** @default systemClock */
  readonly clock?: Clock | undefined;
  /** Timers of the teardown backoff. @default systemScheduler */
  readonly scheduler?: Scheduler | undefined;
  /** @default Math.random */
  readonly random?: (() => number) | undefined;
  /** @default silentLogger */
  readonly logger?: Logger | undefined;
  /** @default the global `granit.iot.aws.provisioning` meter */
  readonly meter?: Meter | undefined;
  /** Test hook (see `crash-point.ts`). @default noCrashPoints */
  readonly crashPoint?: CrashPoint | undefined;
}

/** A binding as the API shows it: status, failure, ARNs — never a secret value. */
export interface AwsThingBindingView {
  readonly deviceId: string;
  readonly bindingId: string;
  readonly tenantId: TenantId | null;
  readonly thingName: string;
  readonly status: ProvisioningStatus;
  readonly failureReason: string | null;
  /** The checkpoint a retry resumes from (Failed only). */
  readonly failedFromStatus: ProvisioningStatus | null;
  readonly thingArn: string | null;
  readonly certificateArn: string | null;
  /** ARN of the Secrets Manager secret holding the device key (the value is never shown). */
  readonly certificateSecretArn: string | null;
  readonly certificateRequestedAt: string | null;
  readonly provisionedViaJitp: boolean;
  readonly createdAt: string;
  readonly modifiedAt: string | null;
  readonly version: number;
}

/** The view of a binding (see `AwsThingBindingView`). */
export function toBindingView(binding: AwsThingBinding): AwsThingBindingView {
  return {
    deviceId: binding.deviceId,
    bindingId: binding.id,
    tenantId: binding.tenantId,
    thingName: binding.thingName.value,
    status: binding.provisioningStatus,
    failureReason: binding.failureReason,
    failedFromStatus: binding.failedFromStatus,
    thingArn: binding.thingArn,
    certificateArn: binding.certificateArn,
    certificateSecretArn: binding.certificateSecretArn,
    certificateRequestedAt: binding.certificateRequestedAt?.toISOString() ?? null,
    provisionedViaJitp: binding.provisionedViaJitp,
    createdAt: binding.audit.createdAt.toISOString(),
    modifiedAt: binding.audit.modifiedAt?.toISOString() ?? null,
    version: binding.version,
  };
}

export class AwsProvisioning {
  readonly options: AwsProvisioningOptions;
  readonly #rt: ProvisioningRuntime;
  readonly #saga: ProvisioningSaga;
  readonly #decommissioner: Decommissioner;
  readonly #reconciler: Reconciler;

  constructor(deps: AwsProvisioningDependencies) {
    this.options = deps.options;
    this.#rt = {
      devices: deps.deviceStore,
      bindings: deps.bindingStore,
      lock: deps.bindingLock,
      unitOfWork: deps.unitOfWork,
      bus: deps.bus,
      api: new AwsApi(deps.callPolicy, deps.iot, deps.secrets),
      options: deps.options,
      clock: deps.clock ?? systemClock,
      scheduler: deps.scheduler ?? systemScheduler,
      random: deps.random ?? Math.random,
      logger: (deps.logger ?? silentLogger).child({ component: "aws-provisioning" }),
      metrics: new ProvisioningMetrics(deps.meter ?? provisioningMeter()),
      crashPoint: deps.crashPoint ?? noCrashPoints,
    };
    this.#saga = new ProvisioningSaga(this.#rt);
    this.#decommissioner = new Decommissioner(this.#rt);
    this.#reconciler = new Reconciler(this.#rt);
  }

  /**
   * Runs the provisioning saga for a device (what the handler of `DeviceProvisionedEvent` does):
   * reserves the binding, then walks it from its checkpoint to Active. Idempotent; throws a
   * retryable error (the bus redelivers) for throttling, 5xx, timeouts and a busy device; records
   * causes a retry cannot cure as `Failed` and returns `"failed"`.
   */
  provision(deviceId: string, options: { readonly signal?: AbortSignal } = {}): Promise<ProvisioningOutcome> {
    return this.#saga.run(deviceId, options.signal);
  }

  /**
   * Tears down a device's AWS resources from any binding state and marks the binding
   * Decommissioned + soft-deleted (what the handler of `DeviceDecommissionedEvent` does). Idempotent.
   */
  decommission(
    deviceId: string,
    options: { readonly signal?: AbortSignal } = {},
  ): Promise<DecommissionOutcome> {
    return this.#decommissioner.run(deviceId, options.signal);
  }

  /**
   * Operator retry of a `Failed` binding once its cause is fixed: the binding returns to the
   * checkpoint it failed from and an `AwsThingProvisioningRequestedEvent` is published in the same
   * transaction (the saga resumes from there). `EntityNotFoundError` when the tenant has no such
   * binding; `InvalidStatusTransitionError` when it is not `Failed`.
   */
  async retryProvisioning(
    deviceId: string,
    request: { readonly tenant: TenantFilter; readonly actor: string | null },
  ): Promise<AwsThingBindingView> {
    const rt = this.#rt;
    const binding = await rt.unitOfWork.run(async (scope) => {
      const found = await rt.bindings.findByDevice(deviceId.toLowerCase(), request.tenant, scope);
      if (!found) throw new EntityNotFoundError("AWS thing binding of device", deviceId);
      const at = change(rt, request.actor);
      found.retry(at);
      const event: AwsThingProvisioningRequestedEvent = {
        type: "AwsThingProvisioningRequestedEvent",
        eventId: uuidv7(at.at.getTime()),
        occurredAt: at.at.toISOString(),
        tenantId: found.tenantId,
        deviceId: found.deviceId,
        bindingId: found.id,
        thingName: found.thingName.value,
        requestedBy: request.actor,
      };
      await rt.bindings.update(found, scope);
      await rt.bus.publish([event], scope);
      return found;
    });
    rt.logger.info(
      { ...bindingFields(binding), from: "Failed", to: binding.provisioningStatus, actor: request.actor },
      `binding Failed → ${binding.provisioningStatus} (operator retry)`,
    );
    return toBindingView(binding);
  }

  /** The binding of a device as `tenant` sees it, or `null`. */
  async describeBinding(deviceId: string, tenant: TenantFilter): Promise<AwsThingBindingView | null> {
    const binding = await this.#rt.bindings.findByDevice(deviceId.toLowerCase(), tenant);
    return binding ? toBindingView(binding) : null;
  }

  /** Compares the AWS inventory with the bindings; repairs the kinds asked for. See `DRIFT_KINDS`. */
  reconcile(options: ReconcileOptions = {}): Promise<ReconcileReport> {
    return this.#reconciler.reconcile({ ...options, tenant: options.tenant ?? ALL_TENANTS });
  }
}
