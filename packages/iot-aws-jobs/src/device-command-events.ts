/**
 * The outcome of a device command, published exactly once per command by the status poller, in the
 * same transaction that closes its tracking record. `eventId` is derived from the job id, so even a
 * replayed publication would be de-duplicated by the bus.
 */
import type { DomainEvent } from "@granit/iot";

/** What both outcome events carry. */
export interface DeviceCommandEventBase extends DomainEvent {
  /** The command's idempotency key (for delta jobs: derived from the device and its desired state). */
  readonly correlationId: string;
  /** The tracking record's id (the host API's `commandId`). */
  readonly commandId: string;
  /** The AWS IoT job id, `{JobIdPrefix}-{correlationId}`. */
  readonly jobId: string;
  /** The device the command went to; `null` for thing-group targets. */
  readonly deviceId: string | null;
  /** The thing whose execution ended; `null` for thing-group targets. */
  readonly thingName: string | null;
  readonly operation: string;
  /** The device's `statusDetails` (group targets: the job's per-status thing counts). */
  readonly statusDetails: Readonly<Record<string, string>> | null;
}

/**
 * The device reported the job execution `SUCCEEDED` (for a group target: the snapshot job completed
 * with every execution succeeded). `occurredAt` is the execution's last update.
 * @see https://docs.aws.amazon.com/iot/latest/developerguide/iot-jobs-lifecycle.html
 */
export interface DeviceCommandCompletedEvent extends DeviceCommandEventBase {
  readonly type: "DeviceCommandCompletedEvent";
}

/**
 * The command did not succeed. `status` is the execution status that ended it — `FAILED`,
 * `REJECTED` (device-reported), `TIMED_OUT`, `CANCELED`, `REMOVED` (service-reported) — or a
 * bridge status: `EXPIRED` (tracking TTL elapsed with no terminal execution), `DISPATCH_REJECTED`
 * (AWS refused a recovered `CreateJob`), `COMPLETED` / `CANCELED` job statuses for group targets
 * with failures. `reason` is the device's `statusDetails.reason` (or `detailedStatus`) when it gave
 * one, else the bridge's explanation.
 */
export interface DeviceCommandFailedEvent extends DeviceCommandEventBase {
  readonly type: "DeviceCommandFailedEvent";
  readonly status: string;
  readonly reason: string | null;
}

export type DeviceCommandOutcomeEvent = DeviceCommandCompletedEvent | DeviceCommandFailedEvent;

export const DEVICE_COMMAND_EVENT_TYPES = [
  "DeviceCommandCompletedEvent",
  "DeviceCommandFailedEvent",
] as const satisfies readonly DeviceCommandOutcomeEvent["type"][];
