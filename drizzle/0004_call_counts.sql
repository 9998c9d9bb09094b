CREATE TABLE "call_counts" (
	"hour" timestamp with time zone NOT NULL,
	"shard" smallint DEFAULT 0 NOT NULL,
	"calls" integer NOT NULL,
	CONSTRAINT "call_counts_hour_shard_pk" PRIMARY KEY("hour","shard")
);
--> statement-breakpoint
ALTER TABLE "rate_windows" ADD COLUMN "shard" smallint DEFAULT 0 NOT NULL;