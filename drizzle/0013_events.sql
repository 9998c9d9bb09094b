CREATE TABLE "events" (
	"id" text PRIMARY KEY NOT NULL,
	"service_id" text NOT NULL,
	"challenge_id" text,
	"type" text NOT NULL,
	"body" text NOT NULL,
	"state" text DEFAULT 'pending' NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"next_attempt_at" timestamp with time zone NOT NULL,
	"claimed_until" timestamp with time zone,
	"last_status" integer,
	"last_error" text,
	"created_at" timestamp with time zone NOT NULL,
	"delivered_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "webhook_endpoints" (
	"service_id" text PRIMARY KEY NOT NULL,
	"url" text NOT NULL,
	"secret_sealed" text NOT NULL,
	"previous_secret_sealed" text,
	"previous_until" timestamp with time zone,
	"event_types" text[],
	"disabled_at" timestamp with time zone,
	"updated_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE INDEX "events_due" ON "events" USING btree ("next_attempt_at") WHERE "events"."state" = 'pending';--> statement-breakpoint
CREATE INDEX "events_challenge" ON "events" USING btree ("challenge_id");--> statement-breakpoint
CREATE INDEX "events_service_created" ON "events" USING btree ("service_id","created_at");