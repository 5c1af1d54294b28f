import type { TenantId } from "@granit/iot";

/**
 * A per-tenant **fleet key**: what the pre-provisioning-hook Lambda and the registration forwarder
 * sign their calls to `/verify` and `/registered` with (HMAC-SHA256). The tenant of a fleet call is
 * always the key's, never a request field.
 *
 * The secret is stored encrypted (`secretCiphertext`, AES-256-GCM under the host's master key, see
 * `@granit/iot-aws-fleet-provisioning`): an HMAC check needs the secret itself, so it cannot be
 * stored as a one-way hash like a bearer token. Statuses: `Active` → `Revoked` (terminal).
 */
export const FleetCredentialStatus = {
  Active: "Active",
  Revoked: "Revoked",
} as const;

export type FleetCredentialStatus = (typeof FleetCredentialStatus)[keyof typeof FleetCredentialStatus];

export const FLEET_CREDENTIAL_STATUSES: readonly FleetCredentialStatus[] = Object.freeze(
  Object.values(FleetCredentialStatus),
);

/** A stored fleet key. Never carries the clear secret. */
export interface FleetCredential {
  /** Public identifier sent in every signed request (`KeyId=`). */
  readonly keyId: string;
  /** `null` = host. */
  readonly tenantId: TenantId | null;
  /** The secret, encrypted at rest; opaque to everything but the key cipher. */
  readonly secretCiphertext: string;
  readonly description: string | null;
  readonly status: FleetCredentialStatus;
  readonly createdAt: Date;
  readonly createdBy: string | null;
  readonly revokedAt: Date | null;
  readonly revokedBy: string | null;
}
