import {
  type AuditInfo,
  type ChangeContext,
  createdAudit,
  DomainValidationError,
  type FieldViolation,
  parseTenantId,
  type TenantId,
} from "@granit/iot";

/**
 * A fleet-provisioning **claim certificate** registered with the bridge: the shared certificate a
 * batch of devices ships with and connects with once, to ask AWS IoT for their own certificate
 * (fleet provisioning by claim). The registry records which tenant it belongs to, the provisioning
 * template it is meant for and when it expires, so `/verify` can refuse unknown or deactivated
 * claim certificates and the rotation check can warn before a batch's certificate expires.
 *
 * Statuses: `Active` (devices may provision with it) ⇄ `Inactive` (refused by `/verify`; the
 * operator's "turn it off" after misuse or once the batch is done).
 *
 * @see https://docs.aws.amazon.com/iot/latest/developerguide/provision-wo-cert.html
 */
export const ClaimCertificateStatus = {
  Active: "Active",
  Inactive: "Inactive",
} as const;

export type ClaimCertificateStatus = (typeof ClaimCertificateStatus)[keyof typeof ClaimCertificateStatus];

export const CLAIM_CERTIFICATE_STATUSES: readonly ClaimCertificateStatus[] = Object.freeze(
  Object.values(ClaimCertificateStatus),
);

export function isClaimCertificateStatus(value: unknown): value is ClaimCertificateStatus {
  return typeof value === "string" && (CLAIM_CERTIFICATE_STATUSES as readonly string[]).includes(value);
}

/** A registered claim certificate (immutable record; the store writes new versions). */
export interface ClaimCertificate {
  /** The AWS IoT certificate id: 64 lowercase hex characters. */
  readonly certificateId: string;
  /** `null` = host. */
  readonly tenantId: TenantId | null;
  /** The fleet-provisioning template devices holding it provision with. */
  readonly templateName: string;
  /** When the certificate stops being valid (its X.509 `notAfter`). */
  readonly notAfter: Date;
  readonly status: ClaimCertificateStatus;
  readonly description: string | null;
  readonly audit: AuditInfo;
  /** 1 after registration, +1 on every change. */
  readonly version: number;
}

/** What registering a claim certificate takes; validated by `newClaimCertificate`. */
export interface NewClaimCertificateInput {
  readonly certificateId: unknown;
  readonly tenantId: TenantId | null;
  readonly templateName: unknown;
  readonly notAfter: unknown;
  readonly description?: unknown;
}

/** AWS: fleet-provisioning template names are 1–36 of `[0-9A-Za-z_-]`. */
export const PROVISIONING_TEMPLATE_NAME = /^[0-9A-Za-z_-]{1,36}$/;
/** Longest description kept. */
export const CLAIM_CERTIFICATE_DESCRIPTION_MAX_LENGTH = 512;

const CERTIFICATE_ID = /^[0-9a-fA-F]{64}$/;

/** Validates an AWS IoT certificate id (64 hex characters) and returns it in lower case. */
export function parseCertificateId(value: unknown, field = "certificateId"): string {
  if (typeof value !== "string" || !CERTIFICATE_ID.test(value)) {
    throw DomainValidationError.single(
      field,
      "certificateId",
      "must be an AWS IoT certificate id (64 hex characters)",
    );
  }
  return value.toLowerCase();
}

/**
 * A new `Active` claim certificate for `input.tenantId`, every field checked (all violations at once).
 * `notAfter` may be a `Date` or an ISO-8601 string.
 */
export function newClaimCertificate(
  input: NewClaimCertificateInput,
  change: ChangeContext,
): ClaimCertificate {
  const violations: FieldViolation[] = [];
  const check = <T>(parse: () => T): T | undefined => {
    try {
      return parse();
    } catch (error) {
      if (error instanceof DomainValidationError) violations.push(...error.violations);
      else throw error;
      return undefined;
    }
  };
  const certificateId = check(() => parseCertificateId(input.certificateId));
  const tenantId = check(() => parseTenantId(input.tenantId));
  const templateName = check(() => {
    if (typeof input.templateName !== "string" || !PROVISIONING_TEMPLATE_NAME.test(input.templateName)) {
      throw DomainValidationError.single(
        "templateName",
        "pattern",
        "must be a fleet-provisioning template name: 1–36 letters, digits, '_' or '-'",
      );
    }
    return input.templateName;
  });
  const notAfter = check(() => {
    const date =
      input.notAfter instanceof Date
        ? input.notAfter
        : typeof input.notAfter === "string" && /^\d{4}-\d{2}-\d{2}T/.test(input.notAfter)
          ? new Date(input.notAfter)
          : null;
    if (date === null || Number.isNaN(date.getTime())) {
      throw DomainValidationError.single("notAfter", "date", "must be an ISO-8601 date-time");
    }
    return date;
  });
  const description = check(() => {
    if (input.description === undefined || input.description === null || input.description === "")
      return null;
    if (
      typeof input.description !== "string" ||
      input.description.length > CLAIM_CERTIFICATE_DESCRIPTION_MAX_LENGTH
    ) {
      throw DomainValidationError.single(
        "description",
        "maxLength",
        `must be text of at most ${CLAIM_CERTIFICATE_DESCRIPTION_MAX_LENGTH} characters`,
      );
    }
    return input.description;
  });
  if (violations.length > 0) throw new DomainValidationError(violations);
  return {
    certificateId: certificateId as string,
    tenantId: tenantId ?? null,
    templateName: templateName as string,
    notAfter: notAfter as Date,
    status: ClaimCertificateStatus.Active,
    description: description ?? null,
    audit: createdAudit(change),
    version: 1,
  };
}
