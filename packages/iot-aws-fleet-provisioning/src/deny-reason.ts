/**
 * Why `/verify` (or `/registered`) refused a serial number: a stable code clients branch on, and a
 * text for people. The codes appear in responses, logs and the `reason` tag of
 * `granit.iot.aws.fleet_provisioning.verify.denied`.
 */
export const DenyReason = {
  /** The serial is on the deny list (configuration list or file). */
  SerialDenied: "serial_denied",
  /** A device with this serial exists in the tenant and is decommissioned. */
  DeviceDecommissioned: "device_decommissioned",
  /** The serial belongs to a device of another tenant. */
  OtherTenant: "other_tenant",
  /** A claim certificate id was given that the tenant never registered (or for another template). */
  UnknownClaimCertificate: "unknown_claim_certificate",
  /** The claim certificate is registered but deactivated or expired. */
  InactiveClaimCertificate: "inactive_claim_certificate",
  /** The pluggable `SerialPolicy` said no. */
  PolicyDenied: "policy_denied",
} as const;

export type DenyReason = (typeof DenyReason)[keyof typeof DenyReason];

export const DENY_REASONS: readonly DenyReason[] = Object.freeze(Object.values(DenyReason));

/** The default text of each reason. */
export const DENY_REASON_TEXT: Readonly<Record<DenyReason, string>> = Object.freeze({
  serial_denied: "The serial number is on the deny list.",
  device_decommissioned:
    "The device is decommissioned and cannot be re-provisioned through fleet provisioning.",
  other_tenant: "The serial number is bound to a device of another tenant.",
  unknown_claim_certificate: "The claim certificate is not registered for this tenant and template.",
  inactive_claim_certificate: "The claim certificate is deactivated or expired.",
  policy_denied: "The serial number is not eligible for fleet provisioning in this tenant.",
});
