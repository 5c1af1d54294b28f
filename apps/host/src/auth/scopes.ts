/**
 * Permission scopes a bearer token may carry, named after Granit's permissions
 * (`IoT.Devices.Read` / `IoT.Devices.Manage`). A route declares the scopes it needs; a token
 * without one of them gets 403. Other packages add their own scopes (fleet provisioning will) —
 * any name matching `SCOPE_PATTERN` is accepted in configuration.
 */
export const Scopes = {
  DevicesRead: "IoT.Devices.Read",
  DevicesManage: "IoT.Devices.Manage",
} as const;

export type Scope = string;

/** What an operator token gets when its configuration lists no `Scopes`. */
export const OPERATOR_SCOPES: readonly Scope[] = [Scopes.DevicesRead, Scopes.DevicesManage];

export const SCOPE_PATTERN = /^[A-Za-z][A-Za-z0-9._:-]{0,127}$/;
