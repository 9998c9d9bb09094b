import { sql, type SQL } from "drizzle-orm";
import type { Database } from "../db/open.js";

/**
 * A service's verification statistics over a range, by UTC day or by country: what
 * its challenges became (read from challenges) and what the limits refused (read
 * from limit_refusals, since a refusal leaves no challenge). Two statements, each
 * aggregating its groups and the range's totals at once (GROUPING SETS).
 *
 * Refusals are kept per UTC day, so a range counts the refusals of every day it
 * touches, whole.
 */

export type GroupBy = "day" | "country";

export interface StatsQuery {
  since: Date;
  until: Date;
  groupBy: GroupBy;
}

export interface Counts {
  /** Challenges created: requests that a limit refused are in `refusals` instead. */
  requests: number;
  /** Of them, calls the carrier accepted. */
  callsPlaced: number;
  /** Calls picked up (by a person or a machine). */
  answered: number;
  approved: number;
  /** approved / requests; 0 when there were none. */
  conversionRate: number;
  /** From the request to the approval, the median over approved challenges; null when none. */
  medianSecondsToApproval: number | null;
  /** Refused requests by limit name. */
  refusals: Record<string, number>;
}

export interface Stats {
  /** A UTC day (YYYY-MM-DD, every day of the range, empty ones too) or a country (ISO 3166-1 alpha-2; "" unknown). */
  groups: Array<{ key: string } & Counts>;
  totals: Counts;
}

const ts = (d: Date) => sql`${d.toISOString()}::timestamptz`;
const DAY_MS = 86_400_000;
const dayOf = (d: Date) => new Date(Math.floor(d.getTime() / DAY_MS) * DAY_MS);

/** The group a row falls in, from its timestamp (a UTC day) or its country. */
const groupKey = (by: GroupBy, at: SQL, country: SQL) => (by === "day" ? sql`to_char(${at} at time zone 'UTC', 'YYYY-MM-DD')` : sql`coalesce(${country}, '')`);

interface ChallengeCounts {
  total: number;
  k: string | null;
  requests: string | number;
  calls_placed: string | number;
  answered: string | number;
  approved: string | number;
  median: string | number | null;
}

interface RefusalCounts {
  total: number;
  k: string | null;
  limit: string;
  n: string | number;
}

export async function serviceStats(database: Database, serviceId: string, q: StatsQuery): Promise<Stats> {
  const key = groupKey(q.groupBy, sql`created_at`, sql`country`);
  const refusalKey = groupKey(q.groupBy, sql`day`, sql`country`);
  const [challenges, refusals] = await Promise.all([
    database.rows<ChallengeCounts>(sql`
      select grouping(k)::int as total, k, count(*) as requests, count(call_sid) as calls_placed,
             count(*) filter (where call_status in ('in-progress', 'completed') or answered_by is not null) as answered,
             count(*) filter (where status = 'approved') as approved,
             percentile_cont(0.5) within group (order by extract(epoch from ended_at - created_at)::float8)
               filter (where status = 'approved') as median
      from (select *, ${key} as k from challenges
            where service_id = ${serviceId} and created_at >= ${ts(q.since)} and created_at < ${ts(q.until)}) c
      group by grouping sets ((k), ())`),
    database.rows<RefusalCounts>(sql`
      select grouping(k)::int as total, k, "limit", sum(refusals) as n
      from (select *, ${refusalKey} as k from limit_refusals
            where service_id = ${serviceId} and day >= ${ts(dayOf(q.since))} and day < ${ts(q.until)}) r
      group by grouping sets ((k, "limit"), ("limit"))`),
  ]);

  const empty = (): Counts => ({ requests: 0, callsPlaced: 0, answered: 0, approved: 0, conversionRate: 0, medianSecondsToApproval: null, refusals: {} });
  const groups = new Map<string, Counts>();
  // By day, every day of the range has its group, so a chart shows the quiet days as zeros.
  if (q.groupBy === "day") {
    for (let d = dayOf(q.since); d < q.until; d = new Date(d.getTime() + DAY_MS)) groups.set(d.toISOString().slice(0, 10), empty());
  }
  const totals = empty();
  const countsOf = (total: number, k: string | null) => {
    if (total) return totals;
    let counts = groups.get(k ?? "");
    if (!counts) groups.set(k ?? "", (counts = empty()));
    return counts;
  };
  for (const r of challenges) {
    const counts = countsOf(Number(r.total), r.k);
    counts.requests = Number(r.requests);
    counts.callsPlaced = Number(r.calls_placed);
    counts.answered = Number(r.answered);
    counts.approved = Number(r.approved);
    counts.conversionRate = counts.requests ? counts.approved / counts.requests : 0;
    counts.medianSecondsToApproval = r.median === null ? null : Math.round(Number(r.median) * 1000) / 1000;
  }
  for (const r of refusals) countsOf(Number(r.total), r.k).refusals[r.limit] = Number(r.n);
  return {
    groups: [...groups].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([k, counts]) => ({ key: k, ...counts })),
    totals,
  };
}
