CREATE TABLE "services" (
	"id" text PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"settings" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"created_at" timestamp with time zone NOT NULL,
	"updated_at" timestamp with time zone NOT NULL,
	"deleted_at" timestamp with time zone
);
--> statement-breakpoint
CREATE UNIQUE INDEX "services_name_live" ON "services" USING btree ("name") WHERE "services"."deleted_at" is null;--> statement-breakpoint
CREATE TABLE "limit_refusals" (
	"service_id" text NOT NULL,
	"day" timestamp with time zone NOT NULL,
	"country" text DEFAULT '' NOT NULL,
	"limit" text NOT NULL,
	"refusals" integer NOT NULL,
	CONSTRAINT "limit_refusals_service_id_day_country_limit_pk" PRIMARY KEY("service_id","day","country","limit")
);
--> statement-breakpoint
ALTER TABLE "api_keys" ADD COLUMN "service_id" text DEFAULT 'default' NOT NULL;--> statement-breakpoint
ALTER TABLE "api_keys" ADD COLUMN "admin" boolean DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE "challenges" ADD COLUMN "service_id" text DEFAULT 'default' NOT NULL;--> statement-breakpoint
ALTER TABLE "challenges" ADD COLUMN "country" text;--> statement-breakpoint
CREATE INDEX "challenges_service_created" ON "challenges" USING btree ("service_id","created_at","id");--> statement-breakpoint
DROP INDEX "challenges_one_pending_per_number";--> statement-breakpoint
CREATE UNIQUE INDEX "challenges_one_pending_per_number" ON "challenges" USING btree ("service_id","number") WHERE "challenges"."status" = 'pending';--> statement-breakpoint
ALTER TABLE "call_counts" ADD COLUMN "scope" text DEFAULT '*' NOT NULL;--> statement-breakpoint
ALTER TABLE "call_counts" DROP CONSTRAINT "call_counts_pkey";--> statement-breakpoint
ALTER TABLE "call_counts" ADD CONSTRAINT "call_counts_scope_hour_pk" PRIMARY KEY("scope","hour");
