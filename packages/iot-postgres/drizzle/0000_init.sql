CREATE TABLE "iot_bus_deliveries" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"handler" text NOT NULL,
	"event_type" text NOT NULL,
	"event_id" uuid NOT NULL,
	"payload" jsonb NOT NULL,
	"status" text DEFAULT 'pending' NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"max_attempts" integer NOT NULL,
	"run_at" timestamp with time zone DEFAULT now() NOT NULL,
	"locked_by" text,
	"last_error" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"dead_at" timestamp with time zone,
	CONSTRAINT "ck_iot_bus_deliveries_status" CHECK ("iot_bus_deliveries"."status" in ('pending', 'active', 'dead'))
);
--> statement-breakpoint
CREATE TABLE "iot_bus_subscriptions" (
	"event_type" text NOT NULL,
	"handler" text NOT NULL,
	"max_attempts" integer NOT NULL,
	"registered_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "iot_bus_subscriptions_event_type_handler_pk" PRIMARY KEY("event_type","handler")
);
--> statement-breakpoint
CREATE TABLE "iot_devices" (
	"id" uuid PRIMARY KEY NOT NULL,
	"tenant_id" uuid,
	"serial_number" text NOT NULL,
	"model" text NOT NULL,
	"firmware" text NOT NULL,
	"label" text,
	"status" text NOT NULL,
	"credential_type" text,
	"credential_secret" text,
	"last_heartbeat_at" timestamp with time zone,
	"suspension_reason" text,
	"tags" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"created_at" timestamp with time zone NOT NULL,
	"created_by" text,
	"modified_at" timestamp with time zone,
	"modified_by" text,
	"deleted_at" timestamp with time zone,
	"deleted_by" text,
	"version" integer NOT NULL,
	CONSTRAINT "ck_iot_devices_status" CHECK ("iot_devices"."status" in ('Provisioning', 'Active', 'Suspended', 'Decommissioned'))
);
--> statement-breakpoint
CREATE TABLE "iot_timeline_entries" (
	"id" uuid PRIMARY KEY NOT NULL,
	"entity_type" text NOT NULL,
	"entity_id" uuid NOT NULL,
	"tenant_id" uuid,
	"entry_type" text NOT NULL,
	"event_type" text NOT NULL,
	"message" text NOT NULL,
	"occurred_at" timestamp with time zone NOT NULL,
	"actor" text
);
--> statement-breakpoint
CREATE INDEX "ix_iot_bus_deliveries_claim" ON "iot_bus_deliveries" USING btree ("handler","run_at") WHERE "iot_bus_deliveries"."status" <> 'dead';--> statement-breakpoint
CREATE INDEX "ix_iot_bus_deliveries_dead" ON "iot_bus_deliveries" USING btree ("handler","dead_at") WHERE "iot_bus_deliveries"."status" = 'dead';--> statement-breakpoint
CREATE UNIQUE INDEX "ux_iot_bus_deliveries_event_handler" ON "iot_bus_deliveries" USING btree ("event_id","handler");--> statement-breakpoint
CREATE UNIQUE INDEX "ux_iot_devices_tenant_serial" ON "iot_devices" USING btree (coalesce("tenant_id", '00000000-0000-0000-0000-000000000000'::uuid),"serial_number") WHERE "iot_devices"."deleted_at" is null;--> statement-breakpoint
CREATE INDEX "ix_iot_devices_tenant_status_id" ON "iot_devices" USING btree ("tenant_id","status","id");--> statement-breakpoint
CREATE INDEX "ix_iot_devices_serial" ON "iot_devices" USING btree ("serial_number");--> statement-breakpoint
CREATE INDEX "ix_iot_timeline_entity" ON "iot_timeline_entries" USING btree ("entity_type","entity_id","occurred_at");