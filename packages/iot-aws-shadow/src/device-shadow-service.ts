/**
 * Reading a device's shadow and setting its desired state on behalf of an API caller, seen through
 * the caller's tenant: another tenant's device is "not found", exactly like an unknown one.
 *
 * - `get` answers the classic shadow's reported, desired and delta sections and its version.
 * - `setDesired` merges a desired-state document (JSON object; `null` values delete keys) into the
 *   shadow of an Active binding. It is checked before AWS sees it: at most 8 KB of JSON, at most 6
 *   levels of nesting, no `null` inside arrays — the rules AWS enforces on the whole document.
 *
 * @see https://docs.aws.amazon.com/iot/latest/developerguide/device-shadow-document.html
 */
import {
  DomainValidationError,
  EntityNotFoundError,
  type FieldViolation,
  InvalidStatusTransitionError,
  type TenantFilter,
} from "@granit/iot";
import {
  type AwsThingBinding,
  type AwsThingBindingStore,
  awsErrorName,
  type JsonObject,
  type JsonValue,
  SHADOW_SYNC_STATES,
} from "@granit/iot-aws";
import { DesiredStateTooLargeError } from "./errors.ts";
import { isJsonObject, type ShadowDocument } from "./shadow-document.ts";
import type { ThingShadowClient } from "./thing-shadow-client.ts";

/** AWS: a shadow holds at most 8 KB of desired + reported state (metadata excluded). */
export const MAX_SHADOW_STATE_BYTES = 8 * 1024;
/** AWS: "JSON contains too many levels of nesting; maximum is 6". */
export const MAX_SHADOW_NESTING = 6;

/** A device's classic shadow as the API shows it. */
export interface DeviceShadowView {
  readonly deviceId: string;
  readonly thingName: string;
  readonly reported: JsonObject;
  readonly desired: JsonObject;
  readonly delta: JsonObject;
  readonly version: number;
  /** Epoch seconds of the read, from AWS; `null` when AWS sent none. */
  readonly timestamp: number | null;
}

export class DeviceShadowService {
  readonly #bindings: AwsThingBindingStore;
  readonly #shadows: ThingShadowClient;

  constructor(dependencies: {
    readonly bindings: AwsThingBindingStore;
    readonly shadows: ThingShadowClient;
  }) {
    this.#bindings = dependencies.bindings;
    this.#shadows = dependencies.shadows;
  }

  /** The shadow; `EntityNotFoundError` when the device has no binding (in this tenant) or no shadow yet. */
  async get(deviceId: string, tenant: TenantFilter, signal?: AbortSignal): Promise<DeviceShadowView> {
    const binding = await this.#binding(deviceId, tenant);
    const shadow = await this.#shadows.getThingShadow(binding.thingName.value, {
      tenantId: binding.tenantId,
      signal,
    });
    if (!shadow) throw new EntityNotFoundError("Shadow of device", deviceId);
    return view(binding, shadow);
  }

  /**
   * Merges `desired` into the shadow's desired state and answers the shadow as read afterwards.
   * `DomainValidationError` (400) for a document AWS would refuse, `DesiredStateTooLargeError` (413)
   * over 8 KB, `InvalidStatusTransitionError` (409) unless the binding is Active.
   */
  async setDesired(
    deviceId: string,
    tenant: TenantFilter,
    desired: unknown,
    signal?: AbortSignal,
  ): Promise<DeviceShadowView> {
    const document = validateDesired(desired);
    const binding = await this.#binding(deviceId, tenant);
    if (!SHADOW_SYNC_STATES.has(binding.provisioningStatus)) {
      throw new InvalidStatusTransitionError(
        "AWS thing binding",
        "set the desired state of",
        binding.provisioningStatus,
        [...SHADOW_SYNC_STATES],
      );
    }
    const context = { tenantId: binding.tenantId, signal };
    try {
      await this.#shadows.updateThingShadow(binding.thingName.value, { desired: document }, context);
    } catch (error) {
      switch (awsErrorName(error)) {
        case "RequestEntityTooLargeException":
          throw new DesiredStateTooLargeError(
            Buffer.byteLength(JSON.stringify(document)),
            MAX_SHADOW_STATE_BYTES,
          );
        case "InvalidRequestException":
          throw DomainValidationError.single(
            "desired",
            "aws",
            (error as Error).message || "AWS refused the document",
          );
        default:
          throw error;
      }
    }
    const shadow = await this.#shadows.getThingShadow(binding.thingName.value, context);
    if (!shadow) throw new EntityNotFoundError("Shadow of device", deviceId);
    return view(binding, shadow);
  }

  async #binding(deviceId: string, tenant: TenantFilter): Promise<AwsThingBinding> {
    const binding = await this.#bindings.findByDevice(deviceId, tenant);
    if (!binding) throw new EntityNotFoundError("Device", deviceId);
    return binding;
  }
}

function view(binding: AwsThingBinding, shadow: ShadowDocument): DeviceShadowView {
  return {
    deviceId: binding.deviceId,
    thingName: binding.thingName.value,
    reported: shadow.state.reported,
    desired: shadow.state.desired,
    delta: shadow.state.delta,
    version: shadow.version,
    timestamp: shadow.timestamp,
  };
}

/** The checks AWS applies to a desired-state document, made before calling AWS. */
export function validateDesired(desired: unknown): JsonObject {
  if (!isJsonObject(desired)) {
    throw DomainValidationError.single("desired", "type", "must be a JSON object of desired values");
  }
  const bytes = Buffer.byteLength(JSON.stringify(desired));
  if (bytes > MAX_SHADOW_STATE_BYTES) throw new DesiredStateTooLargeError(bytes, MAX_SHADOW_STATE_BYTES);
  const violations: FieldViolation[] = [];
  check(desired, "desired", 1, violations);
  if (violations.length > 0) throw new DomainValidationError(violations.slice(0, 20));
  return desired;
}

function check(value: JsonValue, path: string, depth: number, out: FieldViolation[]): void {
  if (value === null || typeof value !== "object") return;
  if (depth > MAX_SHADOW_NESTING) {
    out.push({ field: path, rule: "nesting", message: `nests deeper than ${MAX_SHADOW_NESTING} levels` });
    return;
  }
  if (Array.isArray(value)) {
    value.forEach((item, index) => {
      if (item === null)
        out.push({ field: `${path}[${index}]`, rule: "arrayNull", message: "arrays cannot hold null" });
      else check(item, `${path}[${index}]`, depth + 1, out);
    });
    return;
  }
  for (const [key, item] of Object.entries(value)) check(item, `${path}.${key}`, depth + 1, out);
}
