import { sql } from "drizzle-orm";
import type { Database } from "../db/open.js";

/**
 * Requests per API key per minute (REQUESTS_PER_KEY in rules.ts), counted in fixed
 * one-minute windows shared by every instance: one statement takes a unit of the
 * window's budget under its row's lock, or takes none when the budget is spent, so
 * the count is exact however many requests and instances race. Housekeeping drops
 * closed windows.
 *
 * Returns null when the request may go on, else the seconds until the window resets.
 */
export async function countRequest(database: Database, bucket: string, perMinute: number, now: Date): Promise<number | null> {
  const windowStart = Math.floor(now.getTime() / 60_000) * 60_000;
  const taken = await database.rows(sql`
    insert into rate_windows (bucket, window_start, hits) values (${bucket}, ${new Date(windowStart).toISOString()}::timestamptz, 1)
    on conflict (bucket, window_start) do update set hits = rate_windows.hits + 1 where rate_windows.hits < ${perMinute}
    returning hits`);
  return taken.length > 0 ? null : Math.max(1, Math.ceil((windowStart + 60_000 - now.getTime()) / 1000));
}
