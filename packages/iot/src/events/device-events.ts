import type { DomainEvent } from "./domain-event.ts";

/**
 * Events of the Device lifecycle. Each carries the device id, its serial number, the tenant, the
 * instant (`occurredAt`, from the injected clock) and `deviceVersion`: the aggregate's version right
 * after the change. `deviceVersion` orders the events of one device strictly, so a consumer can
 * skip an older event that arrives after a newer one.
 */
interface DeviceEventBase extends DomainEvent {
  readonly deviceId: string;
  readonly serialNumber: string;
  readonly deviceVersion: number;
}

/** A device was created (status Provisioning). The AWS bridge provisions its Thing on this event. */
export interface DeviceProvisionedEvent extends DeviceEventBase {
  readonly type: "DeviceProvisionedEvent";
  readonly model: string;
}

/** Provisioning → Active. */
export interface DeviceActivatedEvent extends DeviceEventBase {
  readonly type: "DeviceActivatedEvent";
}

/** Active → Suspended, with the operator's reason. */
export interface DeviceSuspendedEvent extends DeviceEventBase {
  readonly type: "DeviceSuspendedEvent";
  readonly reason: string;
}

/** Suspended → Active. */
export interface DeviceReactivatedEvent extends DeviceEventBase {
  readonly type: "DeviceReactivatedEvent";
}

/** Any → Decommissioned. The AWS bridge tears down the Thing, certificate and secret on this event. */
export interface DeviceDecommissionedEvent extends DeviceEventBase {
  readonly type: "DeviceDecommissionedEvent";
  readonly previousStatus: string;
}

export type DeviceLifecycleEvent =
  | DeviceProvisionedEvent
  | DeviceActivatedEvent
  | DeviceSuspendedEvent
  | DeviceReactivatedEvent
  | DeviceDecommissionedEvent;

export const DEVICE_EVENT_TYPES = [
  "DeviceProvisionedEvent",
  "DeviceActivatedEvent",
  "DeviceSuspendedEvent",
  "DeviceReactivatedEvent",
  "DeviceDecommissionedEvent",
] as const satisfies readonly DeviceLifecycleEvent["type"][];
