/**
 * The three command targets, resolved without calling AWS: a thing ARN (its name is what
 * `DescribeJobExecution` takes), a static thing-group ARN, or a fleet-indexing query for a dynamic
 * thing group (named `granit-dynamic-{16 hex of SHA-256(query)}`, created on first use).
 */
import { createHash } from "node:crypto";
import { type DeviceCommandTarget, DomainValidationError } from "@granit/iot";
import { CommandTargetKind, InvalidArnError, parseThingArn } from "@granit/iot-aws";

const GROUP_ARN = /^arn:aws[a-z-]*:iot:[a-z0-9-]+:\d{12}:thinggroup\/[a-zA-Z0-9:_-]{1,128}$/;
const MAX_QUERY_LENGTH = 1000;

export interface ResolvedTarget {
  readonly kind: CommandTargetKind;
  /** Thing / thing-group ARN, or the query. */
  readonly target: string;
  readonly thingName: string | null;
  readonly deviceId: string | null;
}

export function resolveTarget(target: DeviceCommandTarget): ResolvedTarget {
  switch (target.kind) {
    case "device": {
      let thingName: string;
      try {
        thingName = parseThingArn(target.address).thingName;
      } catch (error) {
        if (error instanceof InvalidArnError) {
          throw DomainValidationError.single("target", "thingArn", `must be a thing ARN: ${error.message}`);
        }
        throw error;
      }
      return {
        kind: CommandTargetKind.Thing,
        target: target.address,
        thingName,
        deviceId: target.deviceId?.toLowerCase() ?? null,
      };
    }
    case "group":
      if (!GROUP_ARN.test(target.address)) {
        throw DomainValidationError.single(
          "target",
          "thingGroupArn",
          "must be a thing-group ARN: arn:aws:iot:{region}:{account}:thinggroup/{name}",
        );
      }
      return { kind: CommandTargetKind.ThingGroup, target: target.address, thingName: null, deviceId: null };
    case "dynamicGroup": {
      const query = typeof target.query === "string" ? target.query.trim() : "";
      if (query.length === 0 || query.length > MAX_QUERY_LENGTH) {
        throw DomainValidationError.single(
          "target",
          "query",
          `must be a fleet-indexing query of 1–${MAX_QUERY_LENGTH} characters`,
        );
      }
      return { kind: CommandTargetKind.DynamicThingGroup, target: query, thingName: null, deviceId: null };
    }
    default:
      throw DomainValidationError.single("target", "kind", "must be a device, a group or a dynamicGroup");
  }
}

/** The dynamic thing group a query maps to (the original's naming: first 8 bytes of SHA-256, hex). */
export function dynamicThingGroupName(query: string): string {
  return `granit-dynamic-${createHash("sha256").update(query).digest("hex").slice(0, 16)}`;
}
