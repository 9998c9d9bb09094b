-- Issuing is now one transaction written in TypeScript (src/otp/issue.ts): the database
-- holds no rule. The counters keep one row per window; a window's shards are added up
-- into that row first, so no count is lost on the way.
DROP FUNCTION IF EXISTS voice_otp_issue_challenges(
  text[], text[], text[], text[], text[], text[], text[], integer[], text[], text[], timestamptz[], timestamptz[],
  integer, integer, integer, integer, integer, integer, integer, integer);--> statement-breakpoint
ALTER TABLE "call_counts" DROP CONSTRAINT "call_counts_hour_shard_pk";--> statement-breakpoint
WITH "sharded" AS (DELETE FROM "call_counts" RETURNING "hour", "calls")
INSERT INTO "call_counts" ("hour", "shard", "calls") SELECT "hour", 0, sum("calls") FROM "sharded" GROUP BY "hour";--> statement-breakpoint
ALTER TABLE "call_counts" DROP COLUMN "shard";--> statement-breakpoint
ALTER TABLE "call_counts" ADD PRIMARY KEY ("hour");--> statement-breakpoint
ALTER TABLE "rate_windows" DROP CONSTRAINT "rate_windows_bucket_window_start_shard_pk";--> statement-breakpoint
WITH "sharded" AS (DELETE FROM "rate_windows" RETURNING "bucket", "window_start", "hits")
INSERT INTO "rate_windows" ("bucket", "window_start", "shard", "hits")
SELECT "bucket", "window_start", 0, sum("hits") FROM "sharded" GROUP BY "bucket", "window_start";--> statement-breakpoint
ALTER TABLE "rate_windows" DROP COLUMN "shard";--> statement-breakpoint
ALTER TABLE "rate_windows" ADD CONSTRAINT "rate_windows_bucket_window_start_pk" PRIMARY KEY("bucket","window_start");
