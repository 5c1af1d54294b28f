CREATE TABLE "iotaws_shadow_sync" (
	"binding_id" uuid PRIMARY KEY NOT NULL,
	"device_id" uuid NOT NULL,
	"tenant_id" uuid,
	"thing_name" text NOT NULL,
	"next_poll_at" timestamp with time zone NOT NULL,
	"last_polled_at" timestamp with time zone,
	"last_delta_fingerprint" text,
	"last_error" text,
	"consecutive_failures" integer DEFAULT 0 NOT NULL,
	"created_at" timestamp with time zone NOT NULL,
	CONSTRAINT "ck_iotaws_shadow_sync_fingerprint" CHECK ("iotaws_shadow_sync"."last_delta_fingerprint" ~ '^[0-9a-f]{64}$'),
	CONSTRAINT "ck_iotaws_shadow_sync_failures" CHECK ("iotaws_shadow_sync"."consecutive_failures" >= 0),
	CONSTRAINT "ck_iotaws_shadow_sync_last_error_length" CHECK (char_length("iotaws_shadow_sync"."last_error") <= 1024)
);
--> statement-breakpoint
CREATE INDEX "ix_iotaws_shadow_sync_due" ON "iotaws_shadow_sync" USING btree ("next_poll_at","binding_id");