/**
 * Delta → job. On `DeviceDesiredStateChangedEvent` for a device whose binding is `Active`, the
 * whole delta is dispatched as **one** job (`shadow.applyDesiredState`, parameters = the delta)
 * against the device's thing.
 *
 * One job per distinct desired state: the correlation id is SHA-256(device id ‖ desired-state
 * fingerprint), and the fingerprint covers the delta values and their desired-metadata timestamps —
 * so redeliveries of the event, and shadow version bumps that leave the desired state alone
 * (reported-only updates), reuse the same job, while setting desired again (new timestamps, even to
 * an earlier value) dispatches a new one. Not one job per delta key: a device applies
 * `{firmware, config}` together, in its own order, and one desired change costs one job.
 *
 * Bindings that are missing or not `Active` are skipped (logged); a closed credential gate or a
 * spent retry budget throws, so the bus redelivers later.
 */
import type { DeliveryContext, EventHandler, Logger } from "@granit/iot";
import { silentLogger } from "@granit/iot";
import {
  type AwsThingBindingStore,
  type DeviceDesiredStateChangedEvent,
  desiredStateFingerprint,
  JOB_DISPATCH_STATES,
} from "@granit/iot-aws";
import type { AwsIoTJobsCommandDispatcher } from "./aws-iot-jobs-command-dispatcher.ts";
import { desiredStateCorrelationId } from "./correlation-ids.ts";

/** The bus handler name of the delta → job reaction. */
export const DESIRED_STATE_HANDLER = "granit.iot.aws.jobs.desired-state";

/** The operation of the job that applies a desired state. */
export const APPLY_DESIRED_STATE_OPERATION = "shadow.applyDesiredState";

/** Actor recorded on delta jobs. */
const ACTOR = "shadow-delta";

const FINGERPRINT = /^[0-9a-f]{64}$/;

export interface DesiredStateCommandHandlerDependencies {
  readonly bindingStore: AwsThingBindingStore;
  readonly dispatcher: AwsIoTJobsCommandDispatcher;
  /** @default silentLogger */
  readonly logger?: Logger | undefined;
}

/** The handler to subscribe as `DESIRED_STATE_HANDLER` on `DeviceDesiredStateChangedEvent`. */
export function createDesiredStateCommandHandler(
  dependencies: DesiredStateCommandHandlerDependencies,
): EventHandler<DeviceDesiredStateChangedEvent> {
  const logger = (dependencies.logger ?? silentLogger).child({ handler: DESIRED_STATE_HANDLER });
  return async (event: DeviceDesiredStateChangedEvent, context: DeliveryContext) => {
    if (Object.keys(event.delta ?? {}).length === 0) return;
    const binding = await dependencies.bindingStore.findByDevice(event.deviceId, event.tenantId);
    if (!binding || !JOB_DISPATCH_STATES.has(binding.provisioningStatus) || !binding.thingArn) {
      logger.info(
        { deviceId: event.deviceId, status: binding?.provisioningStatus ?? "none" },
        "desired state changed for a device without an Active binding; no job",
      );
      return;
    }
    const fingerprint = FINGERPRINT.test(event.fingerprint ?? "")
      ? event.fingerprint
      : desiredStateFingerprint(event.delta, event.desiredTimestamps ?? {});
    const { job, reused } = await dependencies.dispatcher.dispatchTracked(
      {
        correlationId: desiredStateCorrelationId(binding.deviceId, fingerprint),
        operation: APPLY_DESIRED_STATE_OPERATION,
        parameters: event.delta,
        tenantId: binding.tenantId,
      },
      { kind: "device", address: binding.thingArn, deviceId: binding.deviceId },
      { requestedBy: ACTOR, signal: context.signal },
    );
    logger.debug(
      { deviceId: event.deviceId, jobId: job.jobId, reused, shadowVersion: event.shadowVersion },
      reused ? "desired state already dispatched" : "desired state dispatched",
    );
  };
}
