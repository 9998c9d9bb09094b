import { sql } from "drizzle-orm";
import { batched, onePer } from "../db/batch.js";
import type { Database } from "../db/open.js";

/**
 * Requests per API key per minute (REQUESTS_PER_KEY in rules.ts), counted in fixed
 * one-minute windows shared by every instance. The requests a turn brings for one
 * key's window are counted together (src/db/batch.ts): one statement takes as many
 * units as they are and the budget has left, under the window row's lock, so the count
 * is exact however many requests and instances race. Housekeeping drops closed windows.
 */

interface Request {
  bucket: string;
  perMinute: number;
  windowStart: number;
}

let serial = 0;

const counters = onePer((database: Database) =>
  batched<Request, boolean>({
    // Every request is its own key: a key's requests share a batch and its window's statement.
    key: () => String(serial++),
    run: async (requests) => {
      const windows = new Map<string, Request[]>();
      for (const r of requests) {
        const k = `${r.bucket}\u0000${r.windowStart}`;
        windows.set(k, [...(windows.get(k) ?? []), r]);
      }
      const admitted = new Map<Request, boolean>();
      await Promise.all(
        [...windows.values()].map(async (rs) => {
          const { bucket, windowStart, perMinute } = rs[0]!;
          const wanted = rs.length;
          const [row] = await database.rows<{ granted: number }>(sql`
            insert into rate_windows (bucket, window_start, hits, granted)
            values (${bucket}, ${new Date(windowStart).toISOString()}::timestamptz, least(${wanted}::int, ${perMinute}::int), least(${wanted}::int, ${perMinute}::int))
            on conflict (bucket, window_start) do update
              set hits = rate_windows.hits + least(${wanted}::int, ${perMinute}::int - rate_windows.hits),
                  granted = least(${wanted}::int, ${perMinute}::int - rate_windows.hits)
              where rate_windows.hits < ${perMinute}::int
            returning granted`);
          const granted = row?.granted ?? 0;
          rs.forEach((r, i) => admitted.set(r, i < granted));
        }),
      );
      return requests.map((r) => admitted.get(r)!);
    },
  }),
);

/** Counts one request; returns the seconds to wait when it is over the limit, else null. */
export async function countRequest(database: Database, bucket: string, perMinute: number, now: Date): Promise<number | null> {
  const windowStart = Math.floor(now.getTime() / 60_000) * 60_000;
  const admitted = await counters(database, { bucket, perMinute, windowStart });
  return admitted ? null : Math.max(1, Math.ceil((windowStart + 60_000 - now.getTime()) / 1000));
}
