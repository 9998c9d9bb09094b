import { sql, type SQL } from "drizzle-orm";
import type { Database } from "../db/open.js";

/**
 * Requests per API key per minute, counted in fixed one-minute windows by one
 * upsert, so every instance shares the count and concurrent requests cannot slip
 * past it. The upsert is a CTE so a route can fold it into its own statement
 * (validate-auth: one statement per request); housekeeping drops closed windows.
 */
export interface Admission {
  bucket: string;
  perMinute: number;
  windowStart: Date;
  now: Date;
}

export function admission(bucket: string, perMinute: number, now: Date): Admission {
  return { bucket, perMinute, now, windowStart: new Date(Math.floor(now.getTime() / 60_000) * 60_000) };
}

/** `hit` for a WITH clause: counts the request and returns the window's hits. */
export function countingCte(a: Admission): SQL {
  return sql`hit as (
    insert into rate_windows (bucket, window_start, hits)
    values (${a.bucket}, ${a.windowStart.toISOString()}::timestamptz, 1)
    on conflict (bucket, window_start) do update set hits = rate_windows.hits + 1
    returning hits)`;
}

/** Seconds until the window resets, when hits are over the limit; else null. */
export function refusal(a: Admission, hits: number): number | null {
  if (hits <= a.perMinute) return null;
  return Math.max(1, Math.ceil((a.windowStart.getTime() + 60_000 - a.now.getTime()) / 1000));
}

/** Counts one request on its own; returns the seconds to wait when it is over the limit. */
export async function countRequest(database: Database, a: Admission): Promise<number | null> {
  const [row] = await database.rows<{ hits: number }>(sql`with ${countingCte(a)} select hits from hit`);
  return refusal(a, Number(row?.hits ?? 1));
}
