CREATE TABLE "iotaws_tracked_jobs" (
	"command_id" uuid PRIMARY KEY NOT NULL,
	"job_id" text NOT NULL,
	"correlation_id" text NOT NULL,
	"tenant_id" uuid,
	"device_id" uuid,
	"thing_name" text,
	"target_kind" text NOT NULL,
	"target" text NOT NULL,
	"job_arn" text,
	"operation" text NOT NULL,
	"parameters" jsonb NOT NULL,
	"parameters_hash" text NOT NULL,
	"status" text NOT NULL,
	"execution_status" text,
	"status_details" jsonb,
	"reason" text,
	"requested_by" text,
	"poll_count" integer DEFAULT 0 NOT NULL,
	"next_poll_at" timestamp with time zone NOT NULL,
	"dispatched_at" timestamp with time zone,
	"cancel_requested_at" timestamp with time zone,
	"created_at" timestamp with time zone NOT NULL,
	"updated_at" timestamp with time zone NOT NULL,
	"expires_at" timestamp with time zone NOT NULL,
	"terminal_published_at" timestamp with time zone,
	CONSTRAINT "ck_iotaws_tracked_jobs_status" CHECK ("status" in ('Dispatching', 'Dispatched', 'Succeeded', 'Failed', 'Canceled', 'Expired')),
	CONSTRAINT "ck_iotaws_tracked_jobs_target_kind" CHECK ("target_kind" in ('thing', 'thingGroup', 'dynamicThingGroup')),
	CONSTRAINT "ck_iotaws_tracked_jobs_closed_published" CHECK (("status" in ('Succeeded', 'Failed', 'Canceled', 'Expired')) = ("terminal_published_at" is not null)),
	CONSTRAINT "ck_iotaws_tracked_jobs_job_id" CHECK ("iotaws_tracked_jobs"."job_id" ~ '^[a-zA-Z0-9_-]{1,64}$')
);
--> statement-breakpoint
CREATE UNIQUE INDEX "ux_iotaws_tracked_jobs_job_id" ON "iotaws_tracked_jobs" USING btree ("job_id");--> statement-breakpoint
CREATE UNIQUE INDEX "ux_iotaws_tracked_jobs_correlation_id" ON "iotaws_tracked_jobs" USING btree ("correlation_id");--> statement-breakpoint
CREATE INDEX "ix_iotaws_tracked_jobs_due" ON "iotaws_tracked_jobs" USING btree ("next_poll_at","command_id") WHERE "iotaws_tracked_jobs"."terminal_published_at" is null;--> statement-breakpoint
CREATE INDEX "ix_iotaws_tracked_jobs_device" ON "iotaws_tracked_jobs" USING btree ("device_id","command_id");