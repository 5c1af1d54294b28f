/**
 * The device commands use case behind the host API (`/api/iot/devices/{id}/commands`): send a
 * command to one device (resolved through its `Active` binding), list and read its commands, cancel
 * one. The tenant is always the caller's; another tenant's device or command is "not found".
 */
import {
  type Clock,
  DomainValidationError,
  EntityNotFoundError,
  InvalidStatusTransitionError,
  isUuid,
  type Page,
  systemClock,
  type TenantContext,
  uuidv7,
} from "@granit/iot";
import {
  type AwsThingBindingStore,
  JOB_DISPATCH_STATES,
  type JobTrackingStore,
  type TrackedJob,
} from "@granit/iot-aws";
import type { AwsIoTJobsCommandDispatcher } from "./aws-iot-jobs-command-dispatcher.ts";
import { idempotentCommandCorrelationId } from "./correlation-ids.ts";

/** What a caller sends. */
export interface SendDeviceCommandInput {
  readonly operation: string;
  readonly parameters?: Readonly<Record<string, unknown>> | undefined;
  /**
   * Retrying with the same key (same device, same tenant) returns the first command instead of
   * sending another; the same key with other parameters is refused (`CommandCorrelationConflictError`).
   */
  readonly idempotencyKey?: string | null | undefined;
}

/** A sent command and whether it had been sent before with the same idempotency key. */
export interface SentDeviceCommand {
  readonly command: TrackedJob;
  readonly reused: boolean;
}

export interface DeviceCommandServiceDependencies {
  readonly dispatcher: AwsIoTJobsCommandDispatcher;
  readonly trackingStore: JobTrackingStore;
  readonly bindingStore: AwsThingBindingStore;
  /** @default systemClock */
  readonly clock?: Clock | undefined;
}

const IDEMPOTENCY_KEY = /^[\x21-\x7E]{1,128}$/;
const ENTITY = "Device command";

export class DeviceCommandService {
  readonly #dispatcher: AwsIoTJobsCommandDispatcher;
  readonly #store: JobTrackingStore;
  readonly #bindings: AwsThingBindingStore;
  readonly #clock: Clock;

  constructor(dependencies: DeviceCommandServiceDependencies) {
    this.#dispatcher = dependencies.dispatcher;
    this.#store = dependencies.trackingStore;
    this.#bindings = dependencies.bindingStore;
    this.#clock = dependencies.clock ?? systemClock;
  }

  /** Dispatches a command to the device's thing: `EntityNotFoundError` (no binding), 409 when not `Active`. */
  async send(
    caller: TenantContext,
    deviceId: string,
    input: SendDeviceCommandInput,
  ): Promise<SentDeviceCommand> {
    checkId(deviceId, "id");
    const key = input.idempotencyKey ?? null;
    if (key !== null && !IDEMPOTENCY_KEY.test(key)) {
      throw DomainValidationError.single(
        "idempotencyKey",
        "pattern",
        "must be 1–128 printable ASCII characters",
      );
    }
    const binding = await this.#bindings.findByDevice(deviceId, caller.tenantId);
    if (!binding) throw new EntityNotFoundError("Device", deviceId);
    if (!JOB_DISPATCH_STATES.has(binding.provisioningStatus) || !binding.thingArn) {
      throw new InvalidStatusTransitionError(
        "device's AWS thing binding",
        "send a command to",
        binding.provisioningStatus,
        [...JOB_DISPATCH_STATES],
      );
    }
    const correlationId =
      key === null
        ? uuidv7(this.#clock.now().getTime())
        : idempotentCommandCorrelationId(binding.tenantId, binding.deviceId, key);
    const { job, reused } = await this.#dispatcher.dispatchTracked(
      {
        correlationId,
        operation: input.operation,
        parameters: input.parameters ?? {},
        tenantId: binding.tenantId,
      },
      { kind: "device", address: binding.thingArn, deviceId: binding.deviceId },
      { requestedBy: caller.actor },
    );
    return { command: job, reused };
  }

  /** The device's commands, newest first (keyset paging). 404 when the caller cannot see the device. */
  async list(
    caller: TenantContext,
    deviceId: string,
    query: { readonly limit: number; readonly cursor?: string | null | undefined },
  ): Promise<Page<TrackedJob>> {
    checkId(deviceId, "id");
    const page = await this.#store.pageByDevice({
      deviceId,
      tenant: caller.tenantId,
      limit: query.limit,
      cursor: query.cursor,
    });
    if (page.items.length === 0 && !query.cursor) {
      const binding = await this.#bindings.findByDevice(deviceId, caller.tenantId);
      if (!binding) throw new EntityNotFoundError("Device", deviceId);
    }
    return page;
  }

  /** One command of the device. */
  async get(caller: TenantContext, deviceId: string, commandId: string): Promise<TrackedJob> {
    checkId(deviceId, "id");
    checkId(commandId, "commandId");
    const job = await this.#store.findByCommandId(commandId, caller.tenantId);
    if (!job || job.deviceId !== deviceId.toLowerCase()) throw new EntityNotFoundError(ENTITY, commandId);
    return job;
  }

  /** Requests cancellation (`CancelJob`); the outcome arrives through the status poller. */
  async cancel(caller: TenantContext, deviceId: string, commandId: string): Promise<TrackedJob> {
    const job = await this.get(caller, deviceId, commandId);
    return this.#dispatcher.cancel(job);
  }
}

function checkId(value: string, field: string): void {
  if (!isUuid(value)) throw DomainValidationError.single(field, "uuid", "must be a UUID");
}
