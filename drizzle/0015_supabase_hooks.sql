CREATE TABLE "supabase_hooks" (
	"service_id" text PRIMARY KEY NOT NULL,
	"secrets_sealed" text NOT NULL,
	"updated_at" timestamp with time zone NOT NULL
);
