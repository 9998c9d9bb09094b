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
ALTER TABLE "api_keys" ADD COLUMN "service_id" text DEFAULT 'default' NOT NULL;--> statement-breakpoint
ALTER TABLE "api_keys" ADD COLUMN "admin" boolean DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE "challenges" ADD COLUMN "service_id" text DEFAULT 'default' NOT NULL;--> statement-breakpoint
DROP INDEX "challenges_one_pending_per_number";--> statement-breakpoint
CREATE UNIQUE INDEX "challenges_one_pending_per_number" ON "challenges" USING btree ("service_id","number") WHERE "challenges"."status" = 'pending';--> statement-breakpoint
ALTER TABLE "call_counts" ADD COLUMN "scope" text DEFAULT '*' NOT NULL;--> statement-breakpoint
ALTER TABLE "call_counts" DROP CONSTRAINT "call_counts_pkey";--> statement-breakpoint
ALTER TABLE "call_counts" ADD CONSTRAINT "call_counts_scope_hour_pk" PRIMARY KEY("scope","hour");
