/**
 * `iotaws_thing_bindings`: one row per `AwsThingBinding`. Thing names are unique across every
 * tenant (AWS thing names are account-wide) and a device has one live binding; both constraints
 * cover live rows only, so a soft-deleted (decommissioned) binding frees its name for a new device.
 * Pollers page by `(provisioning_status, id)`; the partial index serves that without a scan.
 */
import { PROVISIONING_CHAIN, PROVISIONING_STATUSES } from "@granit/iot-aws";
import { sql } from "drizzle-orm";
import {
  boolean,
  check,
  index,
  integer,
  pgTable,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from "drizzle-orm/pg-core";

const ts = (name: string) => timestamp(name, { withTimezone: true, mode: "date" });

/** CHECKs derived from the one state machine in `@granit/iot-aws` (no pg enums: migrations stay plain). */
const quoted = (values: readonly string[]) => values.map((v) => `'${v}'`).join(", ");
const STATUSES = quoted(PROVISIONING_STATUSES);
const CHECKPOINTS = quoted(PROVISIONING_CHAIN);

export const iotawsThingBindings = pgTable(
  "iotaws_thing_bindings",
  {
    id: uuid("id").primaryKey(),
    deviceId: uuid("device_id").notNull(),
    tenantId: uuid("tenant_id"),
    thingName: text("thing_name").notNull(),
    thingArn: text("thing_arn"),
    certificateArn: text("certificate_arn"),
    certificateSecretArn: text("certificate_secret_arn"),
    provisioningStatus: text("provisioning_status").notNull(),
    failedFromStatus: text("failed_from_status"),
    failureReason: text("failure_reason"),
    certificateRequestedAt: ts("certificate_requested_at"),
    lastShadowReportedAt: ts("last_shadow_reported_at"),
    shadowReportedDeviceVersion: integer("shadow_reported_device_version"),
    claimCertificateExpiresAt: ts("claim_certificate_expires_at"),
    claimCertificateId: text("claim_certificate_id"),
    provisionedViaJitp: boolean("provisioned_via_jitp").notNull().default(false),
    createdAt: ts("created_at").notNull(),
    createdBy: text("created_by"),
    modifiedAt: ts("modified_at"),
    modifiedBy: text("modified_by"),
    deletedAt: ts("deleted_at"),
    deletedBy: text("deleted_by"),
    version: integer("version").notNull(),
  },
  (t) => [
    uniqueIndex("ux_iotaws_thing_bindings_thing_name").on(t.thingName).where(sql`${t.deletedAt} is null`),
    // device_id first so lookups by device alone use it; COALESCE folds host bindings (NULL tenant) together.
    uniqueIndex("ux_iotaws_thing_bindings_tenant_device")
      .on(t.deviceId, sql`coalesce(${t.tenantId}, '00000000-0000-0000-0000-000000000000'::uuid)`)
      .where(sql`${t.deletedAt} is null`),
    index("ix_iotaws_thing_bindings_status_id")
      .on(t.provisioningStatus, t.id)
      .where(sql`${t.deletedAt} is null`),
    check("ck_iotaws_thing_bindings_status", sql.raw(`"provisioning_status" in (${STATUSES})`)),
    check(
      "ck_iotaws_thing_bindings_failed_from",
      sql.raw(`"failed_from_status" is null or "failed_from_status" in (${CHECKPOINTS})`),
    ),
    check("ck_iotaws_thing_bindings_thing_name_length", sql`char_length(${t.thingName}) between 1 and 128`),
    check("ck_iotaws_thing_bindings_failure_reason_length", sql`char_length(${t.failureReason}) <= 1024`),
  ],
);
