import type { ChangeContext, Page, TenantFilter, TransactionScope } from "@granit/iot";
import type { ClaimCertificate, ClaimCertificateStatus } from "../domain/claim-certificate.ts";

/** A keyset page of one tenant's claim certificates, ordered by certificate id. */
export interface PageClaimCertificatesQuery {
  readonly tenant: TenantFilter;
  readonly status?: ClaimCertificateStatus | undefined;
  /** 1–1000. */
  readonly limit: number;
  readonly cursor?: string | null | undefined;
}

/**
 * Persistence port of the claim-certificate registry (implemented by `@granit/iot-aws-postgres`,
 * table `iotaws_claim_certificates`). Certificate ids are unique across tenants (AWS ids are
 * account-wide): registering one twice is a `DuplicateKeyError` with `key` `"certificateId"`.
 * Reads go through a tenant filter: another tenant's certificate is `null`, like an unknown one.
 */
export interface ClaimCertificateStore {
  add(certificate: ClaimCertificate): Promise<void>;
  find(
    certificateId: string,
    tenant: TenantFilter,
    scope?: TransactionScope,
  ): Promise<ClaimCertificate | null>;
  page(query: PageClaimCertificatesQuery): Promise<Page<ClaimCertificate>>;
  /**
   * Sets the status (audit + version bump) and returns the stored certificate; unchanged when it
   * already had that status; `null` when unknown to the tenant.
   */
  setStatus(
    certificateId: string,
    tenant: TenantFilter,
    status: ClaimCertificateStatus,
    change: ChangeContext,
  ): Promise<ClaimCertificate | null>;
}
