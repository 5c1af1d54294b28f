/**
 * Lifecycle of a device.
 *
 * ```
 * Provisioning ──activate──► Active ──suspend──► Suspended
 *      │                      ▲  │                  │
 *      │                      └──┼───reactivate─────┘
 *      └──────decommission───────┴──────────────────┴──► Decommissioned (terminal)
 * ```
 *
 * Guards are set membership on the table below, never comparisons of ordinals.
 */
export const DeviceStatus = {
  Provisioning: "Provisioning",
  Active: "Active",
  Suspended: "Suspended",
  Decommissioned: "Decommissioned",
} as const;

export type DeviceStatus = (typeof DeviceStatus)[keyof typeof DeviceStatus];

export const DEVICE_STATUSES: readonly DeviceStatus[] = Object.values(DeviceStatus);

/** Each lifecycle operation and the statuses it may start from. */
export const DEVICE_TRANSITIONS = {
  activate: { from: new Set<DeviceStatus>([DeviceStatus.Provisioning]), to: DeviceStatus.Active },
  suspend: { from: new Set<DeviceStatus>([DeviceStatus.Active]), to: DeviceStatus.Suspended },
  reactivate: { from: new Set<DeviceStatus>([DeviceStatus.Suspended]), to: DeviceStatus.Active },
  decommission: {
    from: new Set<DeviceStatus>([DeviceStatus.Provisioning, DeviceStatus.Active, DeviceStatus.Suspended]),
    to: DeviceStatus.Decommissioned,
  },
} as const satisfies Record<string, { from: ReadonlySet<DeviceStatus>; to: DeviceStatus }>;

export type DeviceLifecycleOperation = keyof typeof DEVICE_TRANSITIONS;

export function isDeviceStatus(value: unknown): value is DeviceStatus {
  return typeof value === "string" && (DEVICE_STATUSES as readonly string[]).includes(value);
}
