import type { DomainEvent } from "@granit/iot";
import type { ProvisioningStatus } from "../domain/provisioning-status.ts";

/** What both binding events carry. */
interface AwsThingEventBase extends DomainEvent {
  readonly deviceId: string;
  readonly thingName: string;
}

/**
 * A binding reached `Active` for the first time: Thing, certificate and secret exist and are
 * attached (or AWS created them itself, `provisionedViaJitp`). Raised once per binding.
 */
export interface AwsThingProvisionedEvent extends AwsThingEventBase {
  readonly type: "AwsThingProvisionedEvent";
  readonly thingArn: string;
  readonly provisionedViaJitp: boolean;
}

/** A binding was decommissioned (from any status). Raised once per binding. */
export interface AwsThingDecommissionedEvent extends AwsThingEventBase {
  readonly type: "AwsThingDecommissionedEvent";
  /** `null` when the binding never got as far as creating its Thing. */
  readonly thingArn: string | null;
  /** The status the binding was in before, e.g. to tell an aborted provisioning from a live device. */
  readonly previousStatus: ProvisioningStatus;
}

export type AwsThingEvent = AwsThingProvisionedEvent | AwsThingDecommissionedEvent;

export const AWS_THING_EVENT_TYPES = [
  "AwsThingProvisionedEvent",
  "AwsThingDecommissionedEvent",
] as const satisfies readonly AwsThingEvent["type"][];
