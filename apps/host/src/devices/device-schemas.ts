/**
 * The wire shapes of the devices API, as zod schemas: Fastify validates requests with them and
 * `@fastify/swagger` documents them. They check shape and types; the domain (`Device.provision`,
 * value objects) checks the rules (serial-number alphabet, firmware format, ...), so the rules
 * live in one place and a 400 names the same fields either way.
 *
 * Responses never carry the credential secret: only `credentialType`.
 */
import { type Device, DeviceStatus, type TimelineEntry } from "@granit/iot";
import { z } from "zod";

export const deviceIdParams = z.object({ id: z.uuid().describe("Device id (UUID)") });

export const createDeviceBody = z
  .strictObject({
    serialNumber: z
      .string()
      .describe("1–94 characters: a letter or digit, then letters, digits, '_' or '-'; unique per tenant"),
    model: z.string().describe("Hardware model, 1–128 characters"),
    firmware: z.string().describe("Firmware version such as 1.4.2 or 2.0.0-rc.1"),
    label: z.string().nullable().optional().describe("Free text, at most 256 characters"),
    tags: z.record(z.string(), z.string()).optional().describe("At most 50 key/value tags"),
    credential: z
      .strictObject({
        type: z.string().describe('How the device authenticates, e.g. "api-key", "x509-thumbprint"'),
        secret: z.string().describe("The already-protected secret; stored, never returned"),
      })
      .optional(),
  })
  .meta({ id: "CreateDeviceRequest" });

export const updateDeviceBody = z
  .strictObject({
    label: z.string().nullable().optional().describe("New label; null clears it"),
    firmware: z.string().optional().describe("New firmware version"),
  })
  .meta({ id: "UpdateDeviceRequest" });

export const suspendDeviceBody = z
  .strictObject({ reason: z.string().describe("Why the device is suspended (required, ≤ 1024 characters)") })
  .meta({ id: "SuspendDeviceRequest" });

export const listDevicesQuery = z.strictObject({
  status: z.enum(DeviceStatus).optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(50),
  cursor: z.string().max(512).optional().describe("nextCursor of the previous page"),
});

export const timelineQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(1000).default(100),
});

export const deviceResponse = z
  .object({
    id: z.string(),
    tenantId: z.string().nullable(),
    serialNumber: z.string(),
    model: z.string(),
    firmware: z.string(),
    label: z.string().nullable(),
    status: z.enum(DeviceStatus),
    credentialType: z.string().nullable(),
    lastHeartbeatAt: z.string().nullable(),
    suspensionReason: z.string().nullable(),
    tags: z.record(z.string(), z.string()),
    createdAt: z.string(),
    createdBy: z.string().nullable(),
    modifiedAt: z.string().nullable(),
    modifiedBy: z.string().nullable(),
    version: z.number().int().describe("Optimistic-concurrency version; also the ETag"),
  })
  .meta({ id: "Device" });

export const devicePageResponse = z
  .object({ items: z.array(deviceResponse), nextCursor: z.string().nullable() })
  .meta({ id: "DevicePage" });

export const timelineResponse = z
  .object({
    items: z.array(
      z.object({
        id: z.string(),
        eventType: z.string(),
        message: z.string(),
        occurredAt: z.string(),
        actor: z.string().nullable(),
      }),
    ),
  })
  .meta({ id: "DeviceTimeline" });

export type DeviceResponse = z.output<typeof deviceResponse>;

export function toDeviceResponse(device: Device): DeviceResponse {
  const iso = (d: Date | null) => (d ? d.toISOString() : null);
  return {
    id: device.id,
    tenantId: device.tenantId,
    serialNumber: device.serialNumber,
    model: device.model,
    firmware: device.firmware,
    label: device.label,
    status: device.status,
    credentialType: device.credential?.type ?? null,
    lastHeartbeatAt: iso(device.lastHeartbeatAt),
    suspensionReason: device.suspensionReason,
    tags: { ...device.tags },
    createdAt: device.audit.createdAt.toISOString(),
    createdBy: device.audit.createdBy,
    modifiedAt: iso(device.audit.modifiedAt),
    modifiedBy: device.audit.modifiedBy,
    version: device.version,
  };
}

export function toTimelineItem(entry: TimelineEntry) {
  return {
    id: entry.id,
    eventType: entry.eventType,
    message: entry.message,
    occurredAt: entry.occurredAt.toISOString(),
    actor: entry.actor,
  };
}
