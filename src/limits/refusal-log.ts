import { sql } from "drizzle-orm";
import { batched, onePer } from "../db/batch.js";
import type { Database } from "../db/open.js";

/**
 * Requests refused by a limit, counted per service, UTC day, country and limit in
 * limit_refusals: a refusal leaves no challenge behind, so the statistics (GET /stats)
 * read them from here. Refusals come in floods (a backend retrying in a loop, a number
 * being pumped), so the refusals of one turn are added up and written in one upsert
 * (src/db/batch.ts) rather than one statement each on the same hot row. Housekeeping
 * drops the days older than RETENTION_HOURS.
 */

export interface Refusal {
  serviceId: string;
  /** ISO 3166-1 alpha-2; "" when the request was refused before its number was known. */
  country: string;
  /** The rule's name (limits/rules.ts), or `attempts_exhausted`. */
  limit: string;
  now: Date;
}

const DAY_MS = 86_400_000;
let serial = 0;

const writers = onePer((database: Database) =>
  batched<Refusal, void>({
    key: () => String(serial++),
    // One batch at a time: two upserts of the same rows in different orders could deadlock.
    maxInFlight: 1,
    run: async (refusals) => {
      const counts = new Map<string, { serviceId: string; day: string; country: string; limit: string; n: number }>();
      for (const r of refusals) {
        const day = new Date(Math.floor(r.now.getTime() / DAY_MS) * DAY_MS).toISOString();
        const k = [r.serviceId, day, r.country, r.limit].join("\u0000");
        const row = counts.get(k) ?? { serviceId: r.serviceId, day, country: r.country, limit: r.limit, n: 0 };
        row.n++;
        counts.set(k, row);
      }
      const rows = [...counts.values()];
      const p = <T>(values: T[]) => sql.param(values);
      // Rows with one key once each: an upsert may touch a row only once per statement.
      await database.rows(sql`
        insert into limit_refusals (service_id, day, country, "limit", refusals)
        select * from unnest(${p(rows.map((r) => r.serviceId))}::text[], ${p(rows.map((r) => r.day))}::timestamptz[],
                             ${p(rows.map((r) => r.country))}::text[], ${p(rows.map((r) => r.limit))}::text[], ${p(rows.map((r) => r.n))}::int[])
        on conflict (service_id, day, country, "limit") do update set refusals = limit_refusals.refusals + excluded.refusals`);
      return refusals.map(() => undefined);
    },
  }),
);

/** Counts one refusal in its service's day. */
export function recordRefusal(database: Database, refusal: Refusal): Promise<void> {
  return writers(database, refusal);
}
