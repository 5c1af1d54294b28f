import type { DeviceLifecycleEvent } from "./events/device-events.ts";

/**
 * The device timeline ("chatter"): one human-readable entry per lifecycle event, queryable per
 * device. Entries are written in the same transaction as the device change that raised the event.
 */
export interface TimelineEntry {
  readonly id: string;
  readonly entityType: "Device";
  readonly entityId: string;
  readonly tenantId: string | null;
  readonly entryType: "SystemLog";
  readonly eventType: string;
  readonly message: string;
  readonly occurredAt: Date;
  readonly actor: string | null;
}

/** The text Granit's timeline bridge writes for each lifecycle event. */
export function timelineMessage(event: DeviceLifecycleEvent): string {
  switch (event.type) {
    case "DeviceProvisionedEvent":
      return `Device provisioned: ${event.serialNumber} (status = Provisioning)`;
    case "DeviceActivatedEvent":
      return `Device activated: ${event.serialNumber} (Provisioning → Active)`;
    case "DeviceSuspendedEvent":
      return `Device suspended (Active → Suspended): reason = '${event.reason}'`;
    case "DeviceReactivatedEvent":
      return `Device reactivated: ${event.serialNumber} (Suspended → Active)`;
    case "DeviceDecommissionedEvent":
      return `Device decommissioned (${event.previousStatus} → Decommissioned)`;
  }
}
