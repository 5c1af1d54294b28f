/**
 * `granit-iot devices ...`: create, list, show and move devices through their lifecycle over the
 * devices API (`/api/iot/devices`). `devices import` lives in `devices-import.ts`.
 */
import { DEVICE_STATUSES } from "@granit/iot";
import type { DeviceResponse } from "../devices/device-schemas.ts";
import { choiceArgument, integerArgument, keyValueArguments, uuidArgument } from "./arguments.ts";
import { UsageError } from "./cli-errors.ts";
import {
  type CommandContext,
  type CommandSpec,
  commandName,
  flag,
  stringOption,
  stringOptions,
} from "./command.ts";
import { type Output, statusStyle } from "./output.ts";

export const DEVICES_PATH = "/api/iot/devices";

interface DevicePage {
  readonly items: readonly DeviceResponse[];
  readonly nextCursor: string | null;
}

interface TimelineItem {
  readonly id: string;
  readonly eventType: string;
  readonly message: string;
  readonly occurredAt: string;
  readonly actor: string | null;
}

/** A required string flag. */
export function requiredOption(context: CommandContext, name: string): string {
  const value = stringOption(context, name);
  if (value === undefined || value === "") {
    throw new UsageError(`--${name} is required`, commandName(context.command));
  }
  return value;
}

function ifMatchHeader(context: CommandContext): Record<string, string> {
  const version = stringOption(context, "if-match");
  if (version === undefined) return {};
  return { "if-match": `"${integerArgument(version, "--if-match", { min: 1, max: 999_999_999 }, 1)}"` };
}

export function deviceBlock(out: Output, device: DeviceResponse): void {
  out.keyValues([
    ["id", device.id],
    ["serialNumber", device.serialNumber],
    ["model", device.model],
    ["firmware", device.firmware],
    ["label", device.label],
    ["status", out.status(device.status)],
    ["suspensionReason", device.suspensionReason],
    ["tags", device.tags],
    ["credentialType", device.credentialType],
    ["lastHeartbeatAt", device.lastHeartbeatAt],
    ["tenantId", device.tenantId ?? "(host)"],
    ["createdAt", device.createdAt],
    ["createdBy", device.createdBy],
    ["modifiedAt", device.modifiedAt],
    ["modifiedBy", device.modifiedBy],
    ["version", device.version],
  ]);
}

function devicesTable(out: Output, devices: readonly DeviceResponse[]): void {
  out.table(
    devices,
    [
      { header: "ID", value: (d) => d.id },
      { header: "SERIAL", value: (d) => d.serialNumber },
      { header: "MODEL", value: (d) => d.model },
      { header: "FIRMWARE", value: (d) => d.firmware },
      { header: "STATUS", value: (d) => d.status, style: statusStyle },
      { header: "LABEL", value: (d) => d.label },
    ],
    "No devices.",
  );
}

const ifMatchOption = {
  "if-match": {
    type: "string",
    value: "<version>",
    description: "Refuse (409) unless the device is still at this version (its ETag)",
  },
} as const;

const create: CommandSpec = {
  path: ["devices", "create"],
  summary: "Create a device (status Provisioning)",
  positionals: { min: 0, max: 0 },
  options: {
    serial: {
      type: "string",
      value: "<serialNumber>",
      description: "Serial number, unique in the tenant (required)",
    },
    model: { type: "string", value: "<model>", description: "Hardware model (required)" },
    firmware: {
      type: "string",
      value: "<version>",
      description: "Firmware version such as 1.4.2 (required)",
    },
    label: { type: "string", value: "<text>", description: "Free text label" },
    tag: { type: "string", multiple: true, value: "<key=value>", description: "A tag; repeat for more" },
  },
  details: "Calls POST /api/iot/devices and prints the new device's id.",
  examples: ["granit-iot devices create --serial GW-0001 --model GW-100 --firmware 1.4.2 --tag site=lyon"],
  async run(context) {
    const body = {
      serialNumber: requiredOption(context, "serial"),
      model: requiredOption(context, "model"),
      firmware: requiredOption(context, "firmware"),
      ...(stringOption(context, "label") !== undefined ? { label: stringOption(context, "label") } : {}),
      ...(stringOptions(context, "tag").length > 0
        ? { tags: keyValueArguments(stringOptions(context, "tag"), "--tag") }
        : {}),
    };
    const device = await context.api().post<DeviceResponse>(DEVICES_PATH, { body });
    context.out.result(device, () =>
      context.out.line(
        `Created device ${device.id} (serial ${device.serialNumber}, status ${context.out.status(device.status)}).`,
      ),
    );
    return undefined;
  },
};

const list: CommandSpec = {
  path: ["devices", "list"],
  summary: "List devices (one page, or --all)",
  positionals: { min: 0, max: 0 },
  options: {
    status: {
      type: "string",
      value: "<status>",
      description: `Only this status: ${DEVICE_STATUSES.join(", ")}`,
    },
    limit: {
      type: "string",
      value: "<n>",
      description: "Devices per page, 1-1000 (default 50; 1000 with --all)",
    },
    cursor: {
      type: "string",
      value: "<cursor>",
      description: "Start at this page (nextCursor of the previous one)",
    },
    all: { type: "boolean", description: "Follow nextCursor until the last page" },
  },
  details:
    "Calls GET /api/iot/devices. Without --all, a note on stderr gives the cursor of the next page.\n" +
    "With --json: { items, nextCursor } (nextCursor null after --all).",
  examples: ["granit-iot devices list --status Active", "granit-iot devices list --all --json"],
  async run(context) {
    const status = stringOption(context, "status");
    if (status !== undefined) choiceArgument(status, "--status", DEVICE_STATUSES);
    const all = flag(context, "all");
    const limit = integerArgument(
      stringOption(context, "limit"),
      "--limit",
      { min: 1, max: 1000 },
      all ? 1000 : 50,
    );
    const api = context.api();
    const items: DeviceResponse[] = [];
    let cursor = stringOption(context, "cursor");
    let page: DevicePage;
    do {
      page = await api.get<DevicePage>(DEVICES_PATH, { query: { status, limit, cursor } });
      items.push(...page.items);
      cursor = page.nextCursor ?? undefined;
    } while (all && cursor !== undefined);
    const nextCursor = all ? null : page.nextCursor;
    context.out.result({ items, nextCursor }, () => {
      devicesTable(context.out, items);
      if (nextCursor)
        context.out.note(`More devices: add --cursor ${nextCursor} for the next page, or --all.`);
    });
    return undefined;
  },
};

const show: CommandSpec = {
  path: ["devices", "show"],
  summary: "Show one device (and its timeline)",
  args: "<deviceId>",
  positionals: { min: 1, max: 1 },
  options: {
    timeline: { type: "boolean", description: "Also print the lifecycle timeline, newest first" },
    "timeline-limit": { type: "string", value: "<n>", description: "Timeline entries, 1-1000 (default 100)" },
  },
  details:
    "Calls GET /api/iot/devices/{id} (and /timeline). With --json and --timeline: { device, timeline }.",
  examples: ["granit-iot devices show 0194a5e0-1234-7abc-8def-0123456789ab --timeline"],
  async run(context) {
    const id = uuidArgument(context.positionals[0] as string, "deviceId");
    const withTimeline = flag(context, "timeline");
    const limit = integerArgument(
      stringOption(context, "timeline-limit"),
      "--timeline-limit",
      { min: 1, max: 1000 },
      100,
    );
    const api = context.api();
    const device = await api.get<DeviceResponse>(`${DEVICES_PATH}/${id}`);
    if (!withTimeline) {
      context.out.result(device, () => deviceBlock(context.out, device));
      return undefined;
    }
    const timeline = await api.get<{ items: TimelineItem[] }>(`${DEVICES_PATH}/${id}/timeline`, {
      query: { limit },
    });
    context.out.result({ device, timeline: timeline.items }, () => {
      deviceBlock(context.out, device);
      context.out.line();
      context.out.line(context.out.paint("bold", "Timeline"));
      context.out.table(
        timeline.items,
        [
          { header: "OCCURRED", value: (e) => e.occurredAt },
          { header: "EVENT", value: (e) => e.eventType },
          { header: "ACTOR", value: (e) => e.actor },
          { header: "MESSAGE", value: (e) => e.message },
        ],
        "No timeline entries.",
      );
    });
    return undefined;
  },
};

function lifecycle(operation: "activate" | "reactivate" | "decommission", summary: string): CommandSpec {
  return {
    path: ["devices", operation],
    summary,
    args: "<deviceId>",
    positionals: { min: 1, max: 1 },
    options: ifMatchOption,
    details: `Calls POST /api/iot/devices/{id}/${operation}.`,
    examples: [`granit-iot devices ${operation} 0194a5e0-1234-7abc-8def-0123456789ab`],
    async run(context) {
      const id = uuidArgument(context.positionals[0] as string, "deviceId");
      const headers = ifMatchHeader(context);
      const device = await context
        .api()
        .post<DeviceResponse>(`${DEVICES_PATH}/${id}/${operation}`, { headers });
      printTransition(context, device);
      return undefined;
    },
  };
}

function printTransition(context: CommandContext, device: DeviceResponse): void {
  context.out.result(device, () =>
    context.out.line(
      `Device ${device.id} (${device.serialNumber}) is now ${context.out.status(device.status)} (version ${device.version}).`,
    ),
  );
}

const suspend: CommandSpec = {
  path: ["devices", "suspend"],
  summary: "Suspend an Active device, with a reason",
  args: "<deviceId>",
  positionals: { min: 1, max: 1 },
  options: {
    reason: { type: "string", value: "<text>", description: "Why it is suspended (required)" },
    ...ifMatchOption,
  },
  details: "Calls POST /api/iot/devices/{id}/suspend.",
  examples: ['granit-iot devices suspend 0194a5e0-1234-7abc-8def-0123456789ab --reason "unpaid invoice"'],
  async run(context) {
    const id = uuidArgument(context.positionals[0] as string, "deviceId");
    const reason = requiredOption(context, "reason");
    const headers = ifMatchHeader(context);
    const device = await context.api().post<DeviceResponse>(`${DEVICES_PATH}/${id}/suspend`, {
      body: { reason },
      headers,
    });
    printTransition(context, device);
    return undefined;
  },
};

export const DEVICE_COMMANDS: readonly CommandSpec[] = [
  create,
  list,
  show,
  lifecycle("activate", "Activate a device (Provisioning → Active)"),
  suspend,
  lifecycle("reactivate", "Reactivate a Suspended device"),
  lifecycle("decommission", "Decommission a device (terminal)"),
];
