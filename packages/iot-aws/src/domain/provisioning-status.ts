/**
 * The provisioning state machine of an `AwsThingBinding` — the one place it is defined.
 *
 * ```
 * Pending ─► ThingCreated ─► KeyEscrowed ─► CertIssued ─► SecretStored ─► Active
 *    │            │              │              │              │            │
 *    └────────────┴──────┬───────┴──────────────┴──────────────┴────────────┘
 *                        ▼ markFailed                  every state ─► Decommissioned (terminal)
 *                     Failed ──retry──► back to the checkpoint it failed from
 * ```
 *
 * - The forward chain is walked one step at a time; a step is idempotent once the binding is at or
 *   past it (a replayed saga message re-records the same checkpoint) and refuses to skip a predecessor.
 * - `KeyEscrowed`: the key pair and CSR were generated locally and escrowed in Secrets Manager before
 *   any certificate exists, so a crash between "certificate issued" and "key stored" cannot happen.
 * - `Failed` is not a dead end: `retry()` resumes from the checkpoint recorded when it failed.
 * - `Decommissioned` is reachable from every state and nothing leaves it.
 *
 * Guards are set membership and positions on the forward chain, never comparisons of enum
 * ordinals: `Failed` and `Decommissioned` are not "at least" any checkpoint.
 */
export const ProvisioningStatus = {
  Pending: "Pending",
  ThingCreated: "ThingCreated",
  KeyEscrowed: "KeyEscrowed",
  CertIssued: "CertIssued",
  SecretStored: "SecretStored",
  Active: "Active",
  Decommissioned: "Decommissioned",
  Failed: "Failed",
} as const;

export type ProvisioningStatus = (typeof ProvisioningStatus)[keyof typeof ProvisioningStatus];

/** Every status, in the order the README diagram lists them. */
export const PROVISIONING_STATUSES: readonly ProvisioningStatus[] = Object.freeze(
  Object.values(ProvisioningStatus),
);

/** The forward chain, in order. `Failed` and `Decommissioned` are off the chain. */
export const PROVISIONING_CHAIN = Object.freeze([
  ProvisioningStatus.Pending,
  ProvisioningStatus.ThingCreated,
  ProvisioningStatus.KeyEscrowed,
  ProvisioningStatus.CertIssued,
  ProvisioningStatus.SecretStored,
  ProvisioningStatus.Active,
] as const);

/** A status on the forward chain. */
export type ProvisioningCheckpoint = (typeof PROVISIONING_CHAIN)[number];

/** Statuses nothing may leave. */
export const TERMINAL_STATUSES: ReadonlySet<ProvisioningStatus> = new Set([
  ProvisioningStatus.Decommissioned,
]);

/** Statuses `markFailed` may start from: every non-terminal state (a `Failed` binding keeps its checkpoint). */
export const FAILABLE_STATUSES: ReadonlySet<ProvisioningStatus> = new Set(
  PROVISIONING_STATUSES.filter((s) => !TERMINAL_STATUSES.has(s)),
);

/** Statuses whose Thing the shadow bridge may push to and poll. Only `Active`. */
export const SHADOW_SYNC_STATES: ReadonlySet<ProvisioningStatus> = new Set([ProvisioningStatus.Active]);

/** Statuses a jobs dispatcher may target. Only `Active`. */
export const JOB_DISPATCH_STATES: ReadonlySet<ProvisioningStatus> = new Set([ProvisioningStatus.Active]);

/** Statuses where the saga still has work to do (what a provisioning poller pages through). */
export const IN_FLIGHT_STATUSES: ReadonlySet<ProvisioningStatus> = new Set([
  ProvisioningStatus.Pending,
  ProvisioningStatus.ThingCreated,
  ProvisioningStatus.KeyEscrowed,
  ProvisioningStatus.CertIssued,
  ProvisioningStatus.SecretStored,
]);

/**
 * The forward steps of the saga: each names the status it must start from and the status it
 * reaches. `recordCertificateRequested` is an intent inside `ThingCreated` / `KeyEscrowed` and is not a
 * step.
 */
export const PROVISIONING_STEPS = Object.freeze({
  recordThingCreated: { from: ProvisioningStatus.Pending, to: ProvisioningStatus.ThingCreated },
  recordKeyEscrowed: { from: ProvisioningStatus.ThingCreated, to: ProvisioningStatus.KeyEscrowed },
  recordCertificateIssued: { from: ProvisioningStatus.KeyEscrowed, to: ProvisioningStatus.CertIssued },
  recordSecretStored: { from: ProvisioningStatus.CertIssued, to: ProvisioningStatus.SecretStored },
  markActive: { from: ProvisioningStatus.SecretStored, to: ProvisioningStatus.Active },
} as const satisfies Record<string, { from: ProvisioningCheckpoint; to: ProvisioningCheckpoint }>);

export type ProvisioningStep = keyof typeof PROVISIONING_STEPS;

/** For each checkpoint, the set of chain statuses at or after it (computed once from the chain). */
const AT_OR_AFTER: ReadonlyMap<ProvisioningStatus, ReadonlySet<ProvisioningStatus>> = new Map(
  PROVISIONING_CHAIN.map((checkpoint, index) => [checkpoint, new Set(PROVISIONING_CHAIN.slice(index))]),
);

export function isProvisioningStatus(value: unknown): value is ProvisioningStatus {
  return typeof value === "string" && (PROVISIONING_STATUSES as readonly string[]).includes(value);
}

/** True when `status` is on the forward chain (neither `Failed` nor `Decommissioned`). */
export function isOnChain(status: ProvisioningStatus): status is ProvisioningCheckpoint {
  return AT_OR_AFTER.has(status);
}

/** The chain statuses at or after `checkpoint` (e.g. to page every binding that has a Thing). */
export function statusesAtLeast(checkpoint: ProvisioningCheckpoint): ReadonlySet<ProvisioningStatus> {
  return AT_OR_AFTER.get(checkpoint) ?? new Set();
}

/**
 * True when `status` is on the forward chain at or after `checkpoint`. `Failed` and
 * `Decommissioned` are never "at least" anything — the defect this replaces pushed shadows for
 * them because `status < Active` was false.
 */
export function isAtLeast(status: ProvisioningStatus, checkpoint: ProvisioningCheckpoint): boolean {
  return AT_OR_AFTER.get(checkpoint)?.has(status) ?? false;
}

/** True only for `Active`. */
export function isActive(status: ProvisioningStatus): boolean {
  return status === ProvisioningStatus.Active;
}

export function isTerminal(status: ProvisioningStatus): boolean {
  return TERMINAL_STATUSES.has(status);
}
