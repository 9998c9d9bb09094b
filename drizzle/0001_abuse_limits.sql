CREATE TABLE "api_keys" (
	"name" text PRIMARY KEY NOT NULL,
	"key_hash" text NOT NULL,
	"rate_per_minute" integer,
	"created_at" timestamp with time zone NOT NULL,
	"revoked_at" timestamp with time zone,
	CONSTRAINT "api_keys_key_hash_unique" UNIQUE("key_hash")
);
--> statement-breakpoint
CREATE TABLE "rate_windows" (
	"bucket" text NOT NULL,
	"window_start" timestamp with time zone NOT NULL,
	"hits" integer NOT NULL,
	CONSTRAINT "rate_windows_bucket_window_start_pk" PRIMARY KEY("bucket","window_start")
);
--> statement-breakpoint
ALTER TABLE "challenges" ADD COLUMN "number_prefix" text DEFAULT '' NOT NULL;--> statement-breakpoint
ALTER TABLE "challenges" ADD COLUMN "client_ip" text;--> statement-breakpoint
ALTER TABLE "challenges" ADD COLUMN "failures" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
CREATE INDEX "challenges_prefix_created" ON "challenges" USING btree ("number_prefix","created_at");--> statement-breakpoint
CREATE INDEX "challenges_ip_created" ON "challenges" USING btree ("client_ip","created_at") WHERE "challenges"."client_ip" is not null;--> statement-breakpoint
CREATE INDEX "challenges_created" ON "challenges" USING btree ("created_at");--> statement-breakpoint
UPDATE "challenges" SET "number_prefix" = left("number", length("number") - 4) WHERE "number_prefix" = '';
