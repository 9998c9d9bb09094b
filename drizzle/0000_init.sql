CREATE TABLE "call_events" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"challenge_id" text NOT NULL,
	"call_sid" text NOT NULL,
	"status" text NOT NULL,
	"at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "challenges" (
	"id" text PRIMARY KEY NOT NULL,
	"number" text NOT NULL,
	"status" text NOT NULL,
	"code_mac" text,
	"code_sealed" text,
	"language" text NOT NULL,
	"gate_digit" smallint,
	"attempts" integer DEFAULT 0 NOT NULL,
	"max_attempts" integer NOT NULL,
	"carrier" text NOT NULL,
	"call_sid" text,
	"call_status" text,
	"answered_by" text,
	"failure_code" text,
	"api_key_name" text,
	"created_at" timestamp with time zone NOT NULL,
	"expires_at" timestamp with time zone NOT NULL,
	"ended_at" timestamp with time zone
);
--> statement-breakpoint
ALTER TABLE "call_events" ADD CONSTRAINT "call_events_challenge_id_challenges_id_fk" FOREIGN KEY ("challenge_id") REFERENCES "public"."challenges"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "call_events_once" ON "call_events" USING btree ("challenge_id","call_sid","status");--> statement-breakpoint
CREATE UNIQUE INDEX "challenges_one_pending_per_number" ON "challenges" USING btree ("number") WHERE "challenges"."status" = 'pending';--> statement-breakpoint
CREATE INDEX "challenges_number_created" ON "challenges" USING btree ("number","created_at");--> statement-breakpoint
CREATE INDEX "challenges_call_sid" ON "challenges" USING btree ("call_sid");