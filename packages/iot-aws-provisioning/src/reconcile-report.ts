import type { TenantFilter, TenantId } from "@granit/iot";

/**
 * The kinds of drift between the AWS inventory and the bindings, and what the opt-in repair of each
 * does:
 *
 * | kind | what | repair |
 * |---|---|---|
 * | `thingsWithoutBinding` | a thing named like ours (`t{tenant}-{serial}`) that no live binding holds | tear it down (its bridge certificates, its secret, the thing) |
 * | `bindingsMissingThing` | a binding past `ThingCreated` whose thing is gone | create the thing again and re-attach the recorded certificate |
 * | `bindingsMissingCertificate` | a binding past `CertIssued` whose certificate is gone, or an Active binding whose certificate is not ACTIVE | mark the binding `Failed` (the key–certificate pair is lost: decommission and provision again) |
 * | `bindingsMissingSecret` | a binding past `KeyEscrowed` whose secret is gone or scheduled for deletion | mark the binding `Failed` (the private key is lost) |
 * | `orphanCertificates` | a certificate made by the bridge (subject CN is one of our thing names) that no binding records | detach, deactivate, delete it |
 * | `unattachedCertificates` | a recorded certificate not attached to its thing, or an Active binding's certificate without the device policy | attach it again |
 *
 * Things and certificates younger than `ReconcileGraceSeconds`, and certificates of a saga still
 * looking for the one it requested, are never reported: a saga may be about to record them.
 */
export const DRIFT_KINDS = [
  "thingsWithoutBinding",
  "bindingsMissingThing",
  "bindingsMissingCertificate",
  "bindingsMissingSecret",
  "orphanCertificates",
  "unattachedCertificates",
] as const;

export type DriftKind = (typeof DRIFT_KINDS)[number];

/** One drift found. ARNs and names only: never a secret value. */
export interface DriftItem {
  readonly kind: DriftKind;
  readonly tenantId: TenantId | null;
  readonly thingName: string | null;
  readonly deviceId: string | null;
  readonly bindingId: string | null;
  readonly certificateArn: string | null;
  /** What is wrong, for a human. */
  readonly detail: string;
  /** `null`: repair not requested; `true`: repaired now; `false`: the repair failed (see `repairError`). */
  readonly repaired: boolean | null;
  readonly repairError?: string;
}

/** The drift of one tenant (`tenantId` `null` = host devices). */
export interface TenantDriftReport {
  readonly tenantId: TenantId | null;
  readonly counts: Readonly<Record<DriftKind, number>>;
  readonly items: readonly DriftItem[];
}

export interface ReconcileReport {
  readonly startedAt: string;
  readonly finishedAt: string;
  /** What was compared. */
  readonly scanned: { readonly bindings: number; readonly things: number; readonly certificates: number };
  /** Only tenants with drift. */
  readonly tenants: readonly TenantDriftReport[];
  readonly totals: Readonly<Record<DriftKind, number>>;
  readonly repaired: Readonly<Record<DriftKind, number>>;
}

export interface ReconcileOptions {
  /** Which kinds to repair (opt-in, each idempotent). @default nothing: report only */
  readonly repair?: Partial<Record<DriftKind, boolean>> | undefined;
  /** Whose things and bindings to compare. @default ALL_TENANTS */
  readonly tenant?: TenantFilter | undefined;
  readonly signal?: AbortSignal | undefined;
  /** Actor written to the audit columns of repaired bindings. @default "granit.iot.aws.provisioning" */
  readonly actor?: string | null | undefined;
}

export function emptyDriftCounts(): Record<DriftKind, number> {
  return Object.fromEntries(DRIFT_KINDS.map((kind) => [kind, 0])) as Record<DriftKind, number>;
}
