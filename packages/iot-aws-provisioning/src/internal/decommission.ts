/**
 * Decommission of one device: under the device's `BindingLock`, tear its AWS resources down (from
 * any binding state) and mark the binding Decommissioned + soft-deleted in one write, which also
 * publishes `AwsThingDecommissionedEvent`. A device without a live binding has nothing to tear down.
 */
import { ALL_TENANTS, ConcurrencyConflictError } from "@granit/iot";
import { BindingBusyError } from "../errors.ts";
import { bindingFields, callContext, change, type ProvisioningRuntime } from "./runtime.ts";
import { teardown } from "./teardown.ts";

/** How a decommission run ended. */
export type DecommissionOutcome =
  /** Resources torn down, binding Decommissioned and soft-deleted in this run. */
  | "decommissioned"
  /** No live binding (never provisioned, or decommissioned before): nothing to do. */
  | "no-binding";

const CONFLICT_RELOADS = 3;

export class Decommissioner {
  readonly #rt: ProvisioningRuntime;

  constructor(runtime: ProvisioningRuntime) {
    this.#rt = runtime;
  }

  async run(deviceId: string, signal?: AbortSignal): Promise<DecommissionOutcome> {
    const id = deviceId.toLowerCase();
    const result = await this.#rt.lock.tryRun(id, (lockSignal) =>
      this.#runLocked(id, signal ? AbortSignal.any([signal, lockSignal]) : lockSignal),
    );
    if (!result.acquired) throw new BindingBusyError(id);
    return result.value;
  }

  async #runLocked(deviceId: string, signal: AbortSignal): Promise<DecommissionOutcome> {
    const rt = this.#rt;
    for (let reload = 0; ; reload++) {
      const binding = await rt.bindings.findByDevice(deviceId, ALL_TENANTS);
      if (!binding) {
        rt.logger.info(
          { deviceId },
          "device decommissioned without a live AWS binding; nothing to tear down",
        );
        return "no-binding";
      }
      const from = binding.provisioningStatus;
      rt.logger.info({ ...bindingFields(binding) }, "tearing down the device's AWS resources");
      const summary = await teardown(
        rt,
        { thingName: binding.thingName.value, deviceId, binding },
        callContext(binding.tenantId, signal),
      );
      try {
        const at = change(rt);
        binding.markDecommissioned(at);
        await rt.bindings.softDelete(binding, at);
      } catch (error) {
        // An operator retried the binding meanwhile: tear down again from what is stored now.
        if (error instanceof ConcurrencyConflictError && reload < CONFLICT_RELOADS) continue;
        throw error;
      }
      rt.metrics.bindingDecommissioned(binding.tenantId);
      rt.logger.info(
        { ...bindingFields(binding), from, to: binding.provisioningStatus, ...summary },
        `binding ${from} → Decommissioned (soft-deleted)`,
      );
      return "decommissioned";
    }
  }
}
