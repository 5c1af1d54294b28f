/**
 * Test hook for the crash-safety proof: the saga calls `crashPoint(point, deviceId)` right after
 * every AWS call and right after every checkpoint commit. In production it is `noCrashPoints` and
 * does nothing. Tests pass `crashPointFromEnv()` to a child process started with
 * `GRANIT_CRASH_AT=<point>[@<deviceId>]` (e.g. `certificate:after-create`): when that point is
 * reached (for that device), the process SIGKILLs itself — no `finally`, no flush, no lock release
 * other than the one the database does for a dead connection — and the test replays the saga.
 */

/** Every point where a test can kill the saga, in the order a fresh run passes them. */
export const CRASH_POINTS = [
  /** The Pending binding was inserted; no AWS call yet. */
  "reserve:after-checkpoint",
  /** DescribeThing answered. */
  "thing:after-describe",
  /** CreateThing answered; ThingCreated not committed. */
  "thing:before-checkpoint",
  "thing:after-checkpoint",
  /** GetSecretValue of the secret name answered (nothing escrowed yet). */
  "key:after-lookup",
  /** CreateSecret / PutSecretValue stored the key; KeyEscrowed not committed. */
  "key:before-checkpoint",
  "key:after-checkpoint",
  /**
   * The intent (`certificateRequestedAt`) is durable; CreateCertificateFromCsr not sent. A fresh run
   * commits the intent with ThingCreated, and KeyEscrowed may still be committing here.
   */
  "certificate:after-intent",
  /** Replay: a certificate made from the escrowed key was found; not attached yet. */
  "certificate:after-adopt",
  /** CreateCertificateFromCsr answered (INACTIVE certificate); not attached yet. */
  "certificate:after-create",
  /** AttachThingPrincipal answered; CertIssued not committed. */
  "certificate:before-checkpoint",
  "certificate:after-checkpoint",
  /** PutSecretValue stored key + certificate; SecretStored not committed. */
  "secret:before-checkpoint",
  "secret:after-checkpoint",
  /** AttachPolicy answered. */
  "activate:after-attach-policy",
  /** UpdateCertificate(ACTIVE) answered; Active not committed. */
  "activate:before-checkpoint",
  "activate:after-checkpoint",
  /** Teardown: a certificate was detached from the thing and its policy. */
  "decommission:after-detach",
  /** Teardown: a certificate was deleted. */
  "decommission:after-delete-certificate",
  /** Teardown: the secret was deleted. */
  "decommission:after-delete-secret",
  /** Teardown: the thing was deleted; the binding is not marked Decommissioned yet. */
  "decommission:after-delete-thing",
] as const;

export type CrashPointName = (typeof CRASH_POINTS)[number];

/** Called at each crash point; must return normally to let the saga go on. */
export type CrashPoint = (point: CrashPointName, deviceId: string) => void;

/** The production hook: does nothing. */
export const noCrashPoints: CrashPoint = () => {};

/** The environment variable `crashPointFromEnv` reads. */
export const CRASH_AT_ENV = "GRANIT_CRASH_AT";

/**
 * A hook that SIGKILLs this process at the point named by `GRANIT_CRASH_AT` (`<point>` or
 * `<point>@<deviceId>`), and does nothing when the variable is unset. For test child processes only.
 */
export function crashPointFromEnv(env: NodeJS.ProcessEnv = process.env): CrashPoint {
  const spec = env[CRASH_AT_ENV]?.trim();
  if (!spec) return noCrashPoints;
  const [point, device] = spec.split("@");
  if (!(CRASH_POINTS as readonly string[]).includes(point ?? "")) {
    throw new TypeError(
      `${CRASH_AT_ENV}=${spec}: unknown crash point; use one of ${CRASH_POINTS.join(", ")}`,
    );
  }
  return (reached, deviceId) => {
    if (reached === point && (!device || device.toLowerCase() === deviceId.toLowerCase())) {
      process.kill(process.pid, "SIGKILL");
    }
  };
}
