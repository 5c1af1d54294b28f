/**
 * Management of the claim-certificate registry: register the claim certificates a tenant's batches
 * ship with (id, template, `notAfter`), list them, and deactivate one (after misuse, or once its batch
 * is provisioned) so `/verify` refuses it. Used by the host's management API and by scripts.
 *
 * `notAfter` is the certificate's X.509 expiry (`aws iot describe-certificate` →
 * `certificateDescription.validity.notAfter`); the registry makes no AWS call.
 */
import {
  type Clock,
  EntityNotFoundError,
  type Page,
  systemClock,
  type TenantContext,
  type TenantId,
} from "@granit/iot";
import {
  type ClaimCertificate,
  ClaimCertificateStatus,
  type ClaimCertificateStore,
  newClaimCertificate,
  parseCertificateId,
} from "@granit/iot-aws";

export class ClaimCertificateRegistry {
  readonly #store: ClaimCertificateStore;
  readonly #clock: Clock;

  readonly #onChanged: (certificateId: string) => void;

  constructor(options: {
    readonly store: ClaimCertificateStore;
    readonly clock?: Clock;
    /** Called after a status change (the service drops its cached copy). */
    readonly onChanged?: (certificateId: string) => void;
  }) {
    this.#store = options.store;
    this.#clock = options.clock ?? systemClock;
    this.#onChanged = options.onChanged ?? (() => {});
  }

  /** Registers an `Active` claim certificate for the principal's tenant (`DuplicateKeyError` if known). */
  async register(
    principal: TenantContext,
    input: {
      readonly certificateId: unknown;
      readonly templateName: unknown;
      readonly notAfter: unknown;
      readonly description?: unknown;
    },
  ): Promise<ClaimCertificate> {
    const certificate = newClaimCertificate(
      { ...input, tenantId: principal.tenantId },
      { at: this.#clock.now(), by: principal.actor },
    );
    await this.#store.add(certificate);
    return certificate;
  }

  /** One of the tenant's certificates; `EntityNotFoundError` for unknown or another tenant's. */
  async get(tenantId: TenantId | null, certificateId: string): Promise<ClaimCertificate> {
    const found = await this.#store.find(parseCertificateId(certificateId), tenantId);
    if (!found) throw new EntityNotFoundError("Claim certificate", certificateId);
    return found;
  }

  list(
    tenantId: TenantId | null,
    query: {
      readonly status?: ClaimCertificateStatus;
      readonly limit: number;
      readonly cursor?: string | null;
    },
  ): Promise<Page<ClaimCertificate>> {
    return this.#store.page({ tenant: tenantId, ...query });
  }

  /** Active → Inactive (idempotent): `/verify` now denies it (`inactive_claim_certificate`). */
  deactivate(principal: TenantContext, certificateId: string): Promise<ClaimCertificate> {
    return this.#setStatus(principal, certificateId, ClaimCertificateStatus.Inactive);
  }

  /** Inactive → Active (idempotent), to undo a deactivation. */
  activate(principal: TenantContext, certificateId: string): Promise<ClaimCertificate> {
    return this.#setStatus(principal, certificateId, ClaimCertificateStatus.Active);
  }

  async #setStatus(
    principal: TenantContext,
    certificateId: string,
    status: ClaimCertificateStatus,
  ): Promise<ClaimCertificate> {
    const updated = await this.#store.setStatus(
      parseCertificateId(certificateId),
      principal.tenantId,
      status,
      {
        at: this.#clock.now(),
        by: principal.actor,
      },
    );
    if (!updated) throw new EntityNotFoundError("Claim certificate", certificateId);
    this.#onChanged(updated.certificateId);
    return updated;
  }
}
