/**
 * The tables of fleet provisioning by claim (`@granit/iot-aws-fleet-provisioning`):
 *
 * - `iotaws_claim_certificates` — the claim-certificate registry (AWS certificate ids are unique in
 *   the account, so the id alone is the key, across tenants);
 * - `iotaws_claim_expiry_notices` — one row per subject (certificate, or device whose claim
 *   certificate is unknown) and warning window: the unique index is what makes
 *   `ClaimCertificateExpiringEvent` fire once per window, whatever the number of hosts or sweeps;
 * - `iotaws_fleet_credentials` — per-tenant fleet keys, the secret encrypted at rest;
 * - `iotaws_fleet_request_nonces` — signatures already accepted, kept until they would be stale
 *   anyway (replay protection shared by every host);
 * - `iotaws_fleet_sweeps` — the due time of each periodic sweep, so one host runs it per interval.
 */
import { CLAIM_CERTIFICATE_STATUSES, FLEET_CREDENTIAL_STATUSES } from "@granit/iot-aws";
import { sql } from "drizzle-orm";
import { check, index, integer, pgTable, text, timestamp, uniqueIndex, uuid } from "drizzle-orm/pg-core";

const ts = (name: string) => timestamp(name, { withTimezone: true, mode: "date" });
const quoted = (values: readonly string[]) => values.map((v) => `'${v}'`).join(", ");

export const iotawsClaimCertificates = pgTable(
  "iotaws_claim_certificates",
  {
    certificateId: text("certificate_id").primaryKey(),
    tenantId: uuid("tenant_id"),
    templateName: text("template_name").notNull(),
    notAfter: ts("not_after").notNull(),
    status: text("status").notNull(),
    description: text("description"),
    createdAt: ts("created_at").notNull(),
    createdBy: text("created_by"),
    modifiedAt: ts("modified_at"),
    modifiedBy: text("modified_by"),
    version: integer("version").notNull(),
  },
  (t) => [
    index("ix_iotaws_claim_certificates_tenant_id").on(t.tenantId, t.certificateId),
    index("ix_iotaws_claim_certificates_status_not_after").on(t.status, t.notAfter),
    check(
      "ck_iotaws_claim_certificates_status",
      sql.raw(`"status" in (${quoted(CLAIM_CERTIFICATE_STATUSES)})`),
    ),
    check("ck_iotaws_claim_certificates_id", sql`${t.certificateId} ~ '^[0-9a-f]{64}$'`),
    check("ck_iotaws_claim_certificates_template_name", sql`char_length(${t.templateName}) between 1 and 36`),
    check("ck_iotaws_claim_certificates_description", sql`char_length(${t.description}) <= 512`),
  ],
);

export const iotawsClaimExpiryNotices = pgTable(
  "iotaws_claim_expiry_notices",
  {
    id: uuid("id").primaryKey(),
    subjectKey: text("subject_key").notNull(),
    claimCertificateId: text("claim_certificate_id"),
    deviceId: uuid("device_id"),
    tenantId: uuid("tenant_id"),
    expiresAt: ts("expires_at").notNull(),
    windowStartsAt: ts("window_starts_at").notNull(),
    daysUntilExpiry: integer("days_until_expiry").notNull(),
    notifiedAt: ts("notified_at").notNull(),
  },
  (t) => [uniqueIndex("ux_iotaws_claim_expiry_notices_subject_window").on(t.subjectKey, t.windowStartsAt)],
);

export const iotawsFleetCredentials = pgTable(
  "iotaws_fleet_credentials",
  {
    keyId: text("key_id").primaryKey(),
    tenantId: uuid("tenant_id"),
    secretCiphertext: text("secret_ciphertext").notNull(),
    description: text("description"),
    status: text("status").notNull(),
    createdAt: ts("created_at").notNull(),
    createdBy: text("created_by"),
    revokedAt: ts("revoked_at"),
    revokedBy: text("revoked_by"),
  },
  (t) => [
    index("ix_iotaws_fleet_credentials_tenant_key").on(t.tenantId, t.keyId),
    check(
      "ck_iotaws_fleet_credentials_status",
      sql.raw(`"status" in (${quoted(FLEET_CREDENTIAL_STATUSES)})`),
    ),
    check("ck_iotaws_fleet_credentials_key_id", sql`char_length(${t.keyId}) between 1 and 64`),
    check("ck_iotaws_fleet_credentials_description", sql`char_length(${t.description}) <= 256`),
  ],
);

export const iotawsFleetRequestNonces = pgTable(
  "iotaws_fleet_request_nonces",
  {
    signatureHash: text("signature_hash").primaryKey(),
    keyId: text("key_id").notNull(),
    expiresAt: ts("expires_at").notNull(),
  },
  (t) => [index("ix_iotaws_fleet_request_nonces_expires_at").on(t.expiresAt)],
);

export const iotawsFleetSweeps = pgTable("iotaws_fleet_sweeps", {
  name: text("name").primaryKey(),
  nextRunAt: ts("next_run_at").notNull(),
  lastRunAt: ts("last_run_at"),
  lastRunBy: text("last_run_by"),
});
