CREATE TABLE "iotaws_thing_bindings" (
	"id" uuid PRIMARY KEY NOT NULL,
	"device_id" uuid NOT NULL,
	"tenant_id" uuid,
	"thing_name" text NOT NULL,
	"thing_arn" text,
	"certificate_arn" text,
	"certificate_secret_arn" text,
	"provisioning_status" text NOT NULL,
	"failed_from_status" text,
	"failure_reason" text,
	"certificate_requested_at" timestamp with time zone,
	"last_shadow_reported_at" timestamp with time zone,
	"shadow_reported_device_version" integer,
	"claim_certificate_expires_at" timestamp with time zone,
	"claim_certificate_id" text,
	"provisioned_via_jitp" boolean DEFAULT false NOT NULL,
	"created_at" timestamp with time zone NOT NULL,
	"created_by" text,
	"modified_at" timestamp with time zone,
	"modified_by" text,
	"deleted_at" timestamp with time zone,
	"deleted_by" text,
	"version" integer NOT NULL,
	CONSTRAINT "ck_iotaws_thing_bindings_status" CHECK ("provisioning_status" in ('Pending', 'ThingCreated', 'KeyEscrowed', 'CertIssued', 'SecretStored', 'Active', 'Decommissioned', 'Failed')),
	CONSTRAINT "ck_iotaws_thing_bindings_failed_from" CHECK ("failed_from_status" is null or "failed_from_status" in ('Pending', 'ThingCreated', 'KeyEscrowed', 'CertIssued', 'SecretStored', 'Active')),
	CONSTRAINT "ck_iotaws_thing_bindings_thing_name_length" CHECK (char_length("iotaws_thing_bindings"."thing_name") between 1 and 128),
	CONSTRAINT "ck_iotaws_thing_bindings_failure_reason_length" CHECK (char_length("iotaws_thing_bindings"."failure_reason") <= 1024)
);
--> statement-breakpoint
CREATE UNIQUE INDEX "ux_iotaws_thing_bindings_thing_name" ON "iotaws_thing_bindings" USING btree ("thing_name") WHERE "iotaws_thing_bindings"."deleted_at" is null;--> statement-breakpoint
CREATE UNIQUE INDEX "ux_iotaws_thing_bindings_tenant_device" ON "iotaws_thing_bindings" USING btree ("device_id",coalesce("tenant_id", '00000000-0000-0000-0000-000000000000'::uuid)) WHERE "iotaws_thing_bindings"."deleted_at" is null;--> statement-breakpoint
CREATE INDEX "ix_iotaws_thing_bindings_status_id" ON "iotaws_thing_bindings" USING btree ("provisioning_status","id") WHERE "iotaws_thing_bindings"."deleted_at" is null;