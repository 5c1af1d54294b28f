/**
 * Sending commands to devices, independent of the cloud that carries them (AWS IoT Jobs, Azure
 * direct methods, ...). Implementations must be idempotent on `correlationId`: dispatching the
 * same command twice returns the same job and never creates a second one.
 */
export interface DeviceCommand {
  /** Idempotency key of the command. */
  readonly correlationId: string;
  /** What the device should do, e.g. `"firmware.update"`, `"shadow.applyDesiredState"`. */
  readonly operation: string;
  readonly parameters: Readonly<Record<string, unknown>>;
  readonly tenantId: string | null;
}

/**
 * Where a command goes: one device, a static group, or a dynamic group defined by a query.
 * `address` is provider-specific (for AWS: a thing or thing-group ARN).
 */
export type DeviceCommandTarget =
  | { readonly kind: "device"; readonly address: string; readonly deviceId?: string }
  | { readonly kind: "group"; readonly address: string }
  | { readonly kind: "dynamicGroup"; readonly query: string };

export interface DispatchResult {
  /** Provider job id, e.g. the AWS IoT job id. */
  readonly jobId: string;
  /** True when the command had been dispatched before and the existing job was returned. */
  readonly reused: boolean;
}

export interface DeviceCommandDispatcher {
  readonly dispatcherName: string;
  dispatch(command: DeviceCommand, target: DeviceCommandTarget): Promise<DispatchResult>;
}
