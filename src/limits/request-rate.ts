import { sql } from "drizzle-orm";
import type { Database } from "../db/open.js";

/**
 * Counts a request in its bucket's current one-minute window with one upsert, so
 * every instance shares the count and concurrent requests cannot slip past it.
 * Returns the seconds until the window resets when the limit is exceeded.
 */
export async function countRequest(database: Database, bucket: string, perMinute: number, now: Date): Promise<number | null> {
  const windowStart = new Date(Math.floor(now.getTime() / 60_000) * 60_000);
  const [row] = await database.rows<{ hits: number }>(sql`
    insert into rate_windows (bucket, window_start, hits)
    values (${bucket}, ${windowStart.toISOString()}::timestamptz, 1)
    on conflict (bucket, window_start) do update set hits = rate_windows.hits + 1
    returning hits`);
  const hits = Number(row?.hits ?? 1);
  // The first request of a window clears the bucket's old ones, keeping the table small.
  if (hits === 1) {
    await database.rows(sql`delete from rate_windows where bucket = ${bucket} and window_start < ${windowStart.toISOString()}::timestamptz`);
  }
  if (hits <= perMinute) return null;
  return Math.max(1, Math.ceil((windowStart.getTime() + 60_000 - now.getTime()) / 1000));
}
