CREATE TABLE "iotaws_claim_certificates" (
	"certificate_id" text PRIMARY KEY NOT NULL,
	"tenant_id" uuid,
	"template_name" text NOT NULL,
	"not_after" timestamp with time zone NOT NULL,
	"status" text NOT NULL,
	"description" text,
	"created_at" timestamp with time zone NOT NULL,
	"created_by" text,
	"modified_at" timestamp with time zone,
	"modified_by" text,
	"version" integer NOT NULL,
	CONSTRAINT "ck_iotaws_claim_certificates_status" CHECK ("status" in ('Active', 'Inactive')),
	CONSTRAINT "ck_iotaws_claim_certificates_id" CHECK ("iotaws_claim_certificates"."certificate_id" ~ '^[0-9a-f]{64}$'),
	CONSTRAINT "ck_iotaws_claim_certificates_template_name" CHECK (char_length("iotaws_claim_certificates"."template_name") between 1 and 36),
	CONSTRAINT "ck_iotaws_claim_certificates_description" CHECK (char_length("iotaws_claim_certificates"."description") <= 512)
);
--> statement-breakpoint
CREATE TABLE "iotaws_claim_expiry_notices" (
	"id" uuid PRIMARY KEY NOT NULL,
	"subject_key" text NOT NULL,
	"claim_certificate_id" text,
	"device_id" uuid,
	"tenant_id" uuid,
	"expires_at" timestamp with time zone NOT NULL,
	"window_starts_at" timestamp with time zone NOT NULL,
	"days_until_expiry" integer NOT NULL,
	"notified_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "iotaws_fleet_credentials" (
	"key_id" text PRIMARY KEY NOT NULL,
	"tenant_id" uuid,
	"secret_ciphertext" text NOT NULL,
	"description" text,
	"status" text NOT NULL,
	"created_at" timestamp with time zone NOT NULL,
	"created_by" text,
	"revoked_at" timestamp with time zone,
	"revoked_by" text,
	CONSTRAINT "ck_iotaws_fleet_credentials_status" CHECK ("status" in ('Active', 'Revoked')),
	CONSTRAINT "ck_iotaws_fleet_credentials_key_id" CHECK (char_length("iotaws_fleet_credentials"."key_id") between 1 and 64),
	CONSTRAINT "ck_iotaws_fleet_credentials_description" CHECK (char_length("iotaws_fleet_credentials"."description") <= 256)
);
--> statement-breakpoint
CREATE TABLE "iotaws_fleet_request_nonces" (
	"signature_hash" text PRIMARY KEY NOT NULL,
	"key_id" text NOT NULL,
	"expires_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "iotaws_fleet_sweeps" (
	"name" text PRIMARY KEY NOT NULL,
	"next_run_at" timestamp with time zone NOT NULL,
	"last_run_at" timestamp with time zone,
	"last_run_by" text
);
--> statement-breakpoint
CREATE INDEX "ix_iotaws_claim_certificates_tenant_id" ON "iotaws_claim_certificates" USING btree ("tenant_id","certificate_id");--> statement-breakpoint
CREATE INDEX "ix_iotaws_claim_certificates_status_not_after" ON "iotaws_claim_certificates" USING btree ("status","not_after");--> statement-breakpoint
CREATE UNIQUE INDEX "ux_iotaws_claim_expiry_notices_subject_window" ON "iotaws_claim_expiry_notices" USING btree ("subject_key","window_starts_at");--> statement-breakpoint
CREATE INDEX "ix_iotaws_fleet_credentials_tenant_key" ON "iotaws_fleet_credentials" USING btree ("tenant_id","key_id");--> statement-breakpoint
CREATE INDEX "ix_iotaws_fleet_request_nonces_expires_at" ON "iotaws_fleet_request_nonces" USING btree ("expires_at");