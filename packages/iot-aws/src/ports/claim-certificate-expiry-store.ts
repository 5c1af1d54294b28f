import type { Page, TenantId } from "@granit/iot";
import type { ClaimCertificate } from "../domain/claim-certificate.ts";
import type { ClaimCertificateExpiringEvent } from "../events/claim-certificate-expiring-event.ts";

/** A keyset page of claim expiries due before `expiresBefore`, across every tenant. */
export interface PageExpiringQuery {
  readonly expiresBefore: Date;
  /** 1–10000. */
  readonly limit: number;
  readonly cursor?: string | null | undefined;
}

/** The claim certificate a fleet-provisioned (JITP) device enrolled with, and when it expires. */
export interface JitpClaimExpiry {
  readonly bindingId: string;
  readonly deviceId: string;
  readonly tenantId: TenantId | null;
  readonly thingName: string;
  readonly claimCertificateId: string | null;
  readonly claimCertificateExpiresAt: Date;
}

/** The record that a warning was raised for one subject in one warning window. */
export interface ClaimExpiryNotice {
  /** The certificate id, or `device:<deviceId>` for a device whose claim certificate is unknown. */
  readonly subjectKey: string;
  readonly claimCertificateId: string | null;
  readonly deviceId: string | null;
  readonly tenantId: TenantId | null;
  readonly expiresAt: Date;
  /** `expiresAt` minus the warning window: a new window (other expiry or window size) is a new notice. */
  readonly windowStartsAt: Date;
  readonly daysUntilExpiry: number;
  readonly notifiedAt: Date;
}

/**
 * What the claim-certificate rotation check reads and writes (implemented by
 * `@granit/iot-aws-postgres`). Safe with several hosts on one database:
 *
 * - `claimSweep` hands each sweep to one host: it moves the sweep's due time forward only when it
 *   was due, in one statement, and answers whether this caller won;
 * - `recordNotice` inserts the notice unless one exists for `(subjectKey, windowStartsAt)` and
 *   publishes the event in the same transaction: `true` once per subject and window, whoever asks.
 */
export interface ClaimCertificateExpiryStore {
  /** Active registered claim certificates with `notAfter <= expiresBefore`, by certificate id. */
  pageExpiringCertificates(query: PageExpiringQuery): Promise<Page<ClaimCertificate>>;
  /** Live Active JITP bindings with a claim expiry `<= expiresBefore`, by binding id. */
  pageExpiringJitpBindings(query: PageExpiringQuery): Promise<Page<JitpClaimExpiry>>;
  recordNotice(notice: ClaimExpiryNotice, event: ClaimCertificateExpiringEvent): Promise<boolean>;
  /** True when the sweep `name` was due at `now` (or never ran); its next due time is then `nextRunAt`. */
  claimSweep(name: string, now: Date, nextRunAt: Date, by: string): Promise<boolean>;
}
