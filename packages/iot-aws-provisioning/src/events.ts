import type { DomainEvent } from "@granit/iot";

/**
 * An operator asked to resume a `Failed` binding (`retryProvisioning`, or
 * `POST /api/iot/aws/bindings/{deviceId}/retry`). Published in the same transaction that moved the
 * binding back to its last checkpoint; the provisioning saga subscribes to it as it does to
 * `DeviceProvisionedEvent`.
 */
export interface AwsThingProvisioningRequestedEvent extends DomainEvent {
  readonly type: "AwsThingProvisioningRequestedEvent";
  readonly deviceId: string;
  readonly bindingId: string;
  readonly thingName: string;
  /** Who asked (the operator's actor name), for the audit trail. */
  readonly requestedBy: string | null;
}

export const PROVISIONING_EVENT_TYPES = [
  "AwsThingProvisioningRequestedEvent",
] as const satisfies readonly AwsThingProvisioningRequestedEvent["type"][];
