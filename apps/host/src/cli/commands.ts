/**
 * `granit-iot commands ...`: send a command to a device (an AWS IoT job), follow its status, cancel
 * it, over `/api/iot/devices/{id}/commands`.
 */
import { integerArgument, jsonAssignments, jsonObjectArgument, uuidArgument } from "./arguments.ts";
import { UsageError } from "./cli-errors.ts";
import { type CommandContext, type CommandSpec, flag, stringOption, stringOptions } from "./command.ts";
import { DEVICES_PATH } from "./devices.ts";
import { statusStyle } from "./output.ts";

/** A command as the host answers it. */
interface DeviceCommand {
  readonly commandId: string;
  readonly correlationId: string;
  readonly jobId: string;
  readonly deviceId: string | null;
  readonly thingName: string | null;
  readonly operation: string;
  readonly parameters: Record<string, unknown>;
  readonly status: string;
  readonly executionStatus: string | null;
  readonly statusDetails: Record<string, string> | null;
  readonly reason: string | null;
  readonly requestedBy: string | null;
  readonly createdAt: string;
  readonly updatedAt: string;
  readonly dispatchedAt: string | null;
  readonly cancelRequestedAt: string | null;
  readonly expiresAt: string;
  readonly completedAt: string | null;
  readonly reused?: boolean;
}

interface CommandPage {
  readonly items: readonly DeviceCommand[];
  readonly nextCursor: string | null;
}

function commandBlock(context: CommandContext, command: DeviceCommand): void {
  context.out.keyValues([
    ["commandId", command.commandId],
    ["deviceId", command.deviceId],
    ["operation", command.operation],
    ["parameters", JSON.stringify(command.parameters)],
    ["status", context.out.status(command.status)],
    ["executionStatus", command.executionStatus],
    ["statusDetails", command.statusDetails],
    ["reason", command.reason],
    ["jobId", command.jobId],
    ["thingName", command.thingName],
    ["requestedBy", command.requestedBy],
    ["createdAt", command.createdAt],
    ["dispatchedAt", command.dispatchedAt],
    ["cancelRequestedAt", command.cancelRequestedAt],
    ["completedAt", command.completedAt],
    ["expiresAt", command.expiresAt],
  ]);
}

const commandsPath = (deviceId: string) => `${DEVICES_PATH}/${deviceId}/commands`;

const send: CommandSpec = {
  path: ["commands", "send"],
  summary: "Send a command to a device (runs as an AWS IoT job)",
  args: "<deviceId> <operation>",
  positionals: { min: 2, max: 2 },
  options: {
    param: {
      type: "string",
      multiple: true,
      value: "<key=value>",
      description: "One parameter; JSON values are read as JSON (3, true), others as text",
    },
    params: {
      type: "string",
      value: "<json>",
      description: "All parameters as one JSON object (--param adds to it)",
    },
    "idempotency-key": {
      type: "string",
      value: "<key>",
      description: "Retrying with the same key returns the first command instead of sending another",
    },
  },
  details: `Calls POST /api/iot/devices/{id}/commands; the host answers 202 at once and the device runs
the command asynchronously: follow it with 'commands status'. The device must be Active in AWS.`,
  examples: [
    "granit-iot commands send 0194a5e0-1234-7abc-8def-0123456789ab firmware.update --param version=2.0.0 --idempotency-key fw-2.0.0",
  ],
  async run(context) {
    const deviceId = uuidArgument(context.positionals[0] as string, "deviceId");
    const operation = context.positionals[1] as string;
    const json = stringOption(context, "params");
    const parameters = {
      ...(json === undefined ? {} : jsonObjectArgument(json, "--params")),
      ...jsonAssignments(stringOptions(context, "param"), "--param"),
    };
    const idempotencyKey = stringOption(context, "idempotency-key");
    if (idempotencyKey === "") throw new UsageError("--idempotency-key must not be empty");
    const command = await context.api().post<DeviceCommand>(commandsPath(deviceId), {
      body: { operation, parameters, ...(idempotencyKey !== undefined ? { idempotencyKey } : {}) },
    });
    context.out.result(command, () => {
      const again = command.reused ? " (already sent with this idempotency key: nothing new was sent)" : "";
      context.out.line(
        `Command ${command.commandId} (${command.operation}) sent to device ${deviceId}: ${context.out.status(command.status)}${again}.`,
      );
    });
    return undefined;
  },
};

const status: CommandSpec = {
  path: ["commands", "status"],
  summary: "Show one command, or list a device's commands",
  args: "<deviceId> [<commandId>]",
  positionals: { min: 1, max: 2 },
  options: {
    limit: { type: "string", value: "<n>", description: "Commands per page, 1-1000 (default 50)" },
    all: { type: "boolean", description: "Follow nextCursor until the last page" },
  },
  details: `With a command id: GET /api/iot/devices/{id}/commands/{commandId} as a key/value block.
Without: the device's commands, newest first (GET /api/iot/devices/{id}/commands).
Statuses: Dispatching, Dispatched (running), then Succeeded, Failed, Canceled or Expired.`,
  examples: [
    "granit-iot commands status 0194a5e0-1234-7abc-8def-0123456789ab",
    "granit-iot commands status 0194a5e0-1234-7abc-8def-0123456789ab 0194a5e1-5678-7abc-8def-0123456789ab --json",
  ],
  async run(context) {
    const deviceId = uuidArgument(context.positionals[0] as string, "deviceId");
    const commandId = context.positionals[1];
    const all = flag(context, "all");
    const limit = integerArgument(
      stringOption(context, "limit"),
      "--limit",
      { min: 1, max: 1000 },
      all ? 1000 : 50,
    );
    if (commandId !== undefined) {
      uuidArgument(commandId, "commandId");
      const command = await context.api().get<DeviceCommand>(`${commandsPath(deviceId)}/${commandId}`);
      context.out.result(command, () => commandBlock(context, command));
      return undefined;
    }
    const items: DeviceCommand[] = [];
    let cursor: string | undefined;
    let page: CommandPage;
    do {
      page = await context.api().get<CommandPage>(commandsPath(deviceId), { query: { limit, cursor } });
      items.push(...page.items);
      cursor = page.nextCursor ?? undefined;
    } while (all && cursor !== undefined);
    const nextCursor = all ? null : page.nextCursor;
    context.out.result({ items, nextCursor }, () => {
      context.out.table(
        items,
        [
          { header: "COMMAND", value: (c) => c.commandId },
          { header: "OPERATION", value: (c) => c.operation },
          { header: "STATUS", value: (c) => c.status, style: statusStyle },
          { header: "EXECUTION", value: (c) => c.executionStatus },
          { header: "CREATED", value: (c) => c.createdAt },
          { header: "REASON", value: (c) => c.reason },
        ],
        "No commands.",
      );
      if (nextCursor) context.out.note("More commands: add --all to list every page.");
    });
    return undefined;
  },
};

const cancel: CommandSpec = {
  path: ["commands", "cancel"],
  summary: "Cancel a running command",
  args: "<deviceId> <commandId>",
  positionals: { min: 2, max: 2 },
  details:
    "Calls POST /api/iot/devices/{id}/commands/{commandId}/cancel (CancelJob); the final status\n" +
    "(Canceled) arrives asynchronously: follow it with 'commands status'.",
  examples: [
    "granit-iot commands cancel 0194a5e0-1234-7abc-8def-0123456789ab 0194a5e1-5678-7abc-8def-0123456789ab",
  ],
  async run(context) {
    const deviceId = uuidArgument(context.positionals[0] as string, "deviceId");
    const commandId = uuidArgument(context.positionals[1] as string, "commandId");
    const command = await context.api().post<DeviceCommand>(`${commandsPath(deviceId)}/${commandId}/cancel`);
    context.out.result(command, () =>
      context.out.line(
        `Cancellation of command ${command.commandId} (${command.operation}) requested; status ${context.out.status(command.status)}.`,
      ),
    );
    return undefined;
  },
};

export const DEVICE_COMMAND_COMMANDS: readonly CommandSpec[] = [send, status, cancel];
