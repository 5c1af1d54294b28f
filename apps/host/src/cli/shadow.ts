/**
 * `granit-iot shadow ...`: read a device's AWS IoT Device Shadow and set its desired state, over
 * `GET /api/iot/devices/{id}/shadow` and `PUT /api/iot/devices/{id}/shadow/desired`.
 */
import { jsonAssignments, jsonObjectArgument, uuidArgument } from "./arguments.ts";
import { UsageError } from "./cli-errors.ts";
import { type CommandContext, type CommandSpec, stringOptions } from "./command.ts";
import { DEVICES_PATH } from "./devices.ts";

/** The shadow as the host answers it. */
interface DeviceShadow {
  readonly deviceId: string;
  readonly thingName: string;
  readonly reported: Record<string, unknown>;
  readonly desired: Record<string, unknown>;
  readonly delta: Record<string, unknown>;
  readonly version: number;
  readonly timestamp: number | null;
}

function printShadow(context: CommandContext, shadow: DeviceShadow): void {
  context.out.keyValues([
    ["deviceId", shadow.deviceId],
    ["thingName", shadow.thingName],
    ["version", shadow.version],
    ["timestamp", shadow.timestamp === null ? null : new Date(shadow.timestamp * 1000).toISOString()],
    ["reported", JSON.stringify(shadow.reported)],
    ["desired", JSON.stringify(shadow.desired)],
    ["delta", JSON.stringify(shadow.delta)],
  ]);
}

const get: CommandSpec = {
  path: ["shadow", "get"],
  summary: "Show a device's shadow: reported, desired, delta, version",
  args: "<deviceId>",
  positionals: { min: 1, max: 1 },
  details: "Calls GET /api/iot/devices/{id}/shadow (404 while the device has no thing or no shadow yet).",
  examples: ["granit-iot shadow get 0194a5e0-1234-7abc-8def-0123456789ab --json"],
  async run(context) {
    const id = uuidArgument(context.positionals[0] as string, "deviceId");
    const shadow = await context.api().get<DeviceShadow>(`${DEVICES_PATH}/${id}/shadow`);
    context.out.result(shadow, () => printShadow(context, shadow));
    return undefined;
  },
};

const setDesired: CommandSpec = {
  path: ["shadow", "set-desired"],
  summary: "Merge a desired state into a device's shadow",
  args: "<deviceId> [<json>]",
  positionals: { min: 1, max: 2 },
  options: {
    set: {
      type: "string",
      multiple: true,
      value: "<key=value>",
      description: "One desired value; JSON values are read as JSON (3, true, null), others as text",
    },
  },
  details: `Calls PUT /api/iot/devices/{id}/shadow/desired with a JSON object: the <json> argument,
then the --set values over it (dotted keys nest: --set led.color=red). null deletes a key. The
device must be Active in AWS; at most 8 KB of JSON and 6 levels of nesting.`,
  examples: [
    'granit-iot shadow set-desired 0194a5e0-1234-7abc-8def-0123456789ab \'{"fan":{"speed":3}}\'',
    "granit-iot shadow set-desired 0194a5e0-1234-7abc-8def-0123456789ab --set fan.speed=3 --set mode=eco",
  ],
  async run(context) {
    const id = uuidArgument(context.positionals[0] as string, "deviceId");
    const text = context.positionals[1];
    const sets = stringOptions(context, "set");
    if (text === undefined && sets.length === 0) {
      throw new UsageError("give the desired state as a JSON argument or with --set key=value");
    }
    const desired = deepMerge(
      text === undefined ? {} : jsonObjectArgument(text, "the desired state"),
      jsonAssignments(sets, "--set"),
    );
    const shadow = await context
      .api()
      .put<DeviceShadow>(`${DEVICES_PATH}/${id}/shadow/desired`, { body: desired });
    context.out.result(shadow, () => {
      context.out.line(
        `Desired state of device ${shadow.deviceId} merged (shadow version ${shadow.version}).`,
      );
      printShadow(context, shadow);
    });
    return undefined;
  },
};

function deepMerge(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  const result: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(over)) {
    const current = result[key];
    result[key] = isPlainObject(current) && isPlainObject(value) ? deepMerge(current, value) : value;
  }
  return result;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

export const SHADOW_COMMANDS: readonly CommandSpec[] = [get, setDesired];
