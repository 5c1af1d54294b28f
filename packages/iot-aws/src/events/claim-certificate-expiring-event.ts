import type { DomainEvent } from "@granit/iot";

/**
 * A fleet-provisioning claim certificate enters its expiry warning window
 * (`IoT:Aws:FleetProvisioning:ExpiryWarningWindowDays` before it expires): register its
 * replacement and flash it into new batches before enrolments start failing. Raised **once per
 * certificate per window** (not on every sweep), in the transaction that records the notice.
 *
 * Either a registered claim certificate (`claimCertificateId` set, `deviceId` null) or, for a
 * fleet-provisioned device whose claim certificate is not in the registry, that device
 * (`deviceId` set, `claimCertificateId` possibly null).
 */
export interface ClaimCertificateExpiringEvent extends DomainEvent {
  readonly type: "ClaimCertificateExpiringEvent";
  readonly claimCertificateId: string | null;
  readonly deviceId: string | null;
  /** ISO-8601 instant the claim certificate expires. */
  readonly expiresAt: string;
  /** `max(0, ceil(days from now to expiresAt))` when the notice was raised. */
  readonly daysUntilExpiry: number;
}
