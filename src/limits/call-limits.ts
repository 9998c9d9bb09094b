import { sql, type SQL } from "drizzle-orm";
import type { Limits } from "../config.js";
import type { Rows } from "../db/open.js";

/**
 * Limits on placing calls, counted from the challenges table itself: every call
 * placed (or attempted) is a challenge row, so there is no second ledger to keep
 * in step. They run inside the issuing transaction after its lock, so concurrent
 * requests on any number of instances are counted one after another.
 */

export type CallLimitName =
  | "resend_cooldown"
  | "failed_validations"
  | "calls_per_number_per_10_min"
  | "calls_per_number_per_day"
  | "calls_per_prefix_per_hour"
  | "calls_per_ip_per_hour"
  | "calls_per_day";

export interface LimitRefusal {
  limit: CallLimitName;
  retryAfterSeconds: number;
  message: string;
}

export interface CallSubject {
  number: string;
  prefix: string;
  clientIp?: string;
}

const HOUR = 3600;
const DAY = 24 * HOUR;
const ts = (d: Date) => sql`${d.toISOString()}::timestamptz`;
const seconds = (ms: number) => Math.max(1, Math.ceil(ms / 1000));

/** The number less its last four digits: one exchange's block of 10,000 numbers. */
export const numberPrefix = (e164: string) => e164.slice(0, -4);

export async function checkCallLimits(rows: Rows, limits: Limits, subject: CallSubject, now: Date): Promise<LimitRefusal | null> {
  const ago = (seconds: number) => ts(new Date(now.getTime() - seconds * 1000));
  // The max-th most recent call in a window, if there is one: the limit is reached,
  // and a slot frees when that call leaves the window.
  const nth = (where: SQL, max: number, window: number) => sql`(
    select created_at from challenges where ${where} and created_at > ${ago(window)}
    order by created_at desc offset ${max - 1} limit 1)`;
  // Every limit in one round trip: this runs under the issuing lock, so it must be short.
  const [row] = await rows<Record<string, string | Date | null> & { spent: Spent[] | string }>(sql`select
    (select max(created_at) from challenges where number = ${subject.number}) as last_call,
    ${nth(sql`number = ${subject.number}`, limits.callsPerNumberPer10Min, 600)} as calls_per_number_per_10_min,
    ${nth(sql`number = ${subject.number}`, limits.callsPerNumberPerDay, DAY)} as calls_per_number_per_day,
    ${nth(sql`number_prefix = ${subject.prefix}`, limits.callsPerPrefixPerHour, HOUR)} as calls_per_prefix_per_hour,
    ${subject.clientIp ? nth(sql`client_ip = ${subject.clientIp}`, limits.callsPerIpPerHour, HOUR) : sql`null::timestamptz`} as calls_per_ip_per_hour,
    ${nth(sql`true`, limits.callsPerDay, DAY)} as calls_per_day,
    (select coalesce(json_agg(json_build_object('at', created_at, 'failures', failures) order by created_at), '[]'::json)
     from challenges where number = ${subject.number} and failures > 0 and created_at > ${ago(DAY)}) as spent`);
  if (!row) return null;

  if (limits.resendCooldownSeconds > 0 && row.last_call) {
    const wait = new Date(row.last_call).getTime() + limits.resendCooldownSeconds * 1000 - now.getTime();
    if (wait > 0) {
      return {
        limit: "resend_cooldown",
        retryAfterSeconds: seconds(wait),
        message: `a call to this number was requested less than ${limits.resendCooldownSeconds} s ago; wait before asking again`,
      };
    }
  }
  const spent = typeof row.spent === "string" ? (JSON.parse(row.spent) as Spent[]) : row.spent;
  const locked = lockedUntil(spent, limits.failedValidationsPerNumberPerDay);
  if (locked) {
    return {
      limit: "failed_validations",
      retryAfterSeconds: seconds(locked.getTime() - now.getTime()),
      message: "too many wrong codes for this number in the last 24 hours; no new call until Retry-After",
    };
  }
  const windows: Array<[CallLimitName, number, number, string]> = [
    ["calls_per_number_per_10_min", limits.callsPerNumberPer10Min, 600, "calls to this number in 10 minutes"],
    ["calls_per_number_per_day", limits.callsPerNumberPerDay, DAY, "calls to this number in 24 hours"],
    ["calls_per_prefix_per_hour", limits.callsPerPrefixPerHour, HOUR, "calls to numbers in this range in an hour"],
    ["calls_per_ip_per_hour", limits.callsPerIpPerHour, HOUR, "calls for this client_ip in an hour"],
    // The spend guard counts every call, so it fails closed when the day's budget is gone.
    ["calls_per_day", limits.callsPerDay, DAY, "calls by this service in 24 hours"],
  ];
  for (const [limit, max, window, what] of windows) {
    const at = row[limit];
    if (at) {
      return {
        limit,
        retryAfterSeconds: seconds(new Date(at).getTime() + window * 1000 - now.getTime()),
        message: `limit reached: at most ${max} ${what}`,
      };
    }
  }
  return null;
}

interface Spent {
  at: string;
  failures: number;
}

/**
 * When the number's wrong guesses in the last 24 hours (oldest first) reach the
 * limit: the time enough of them have left the window to fall below it.
 */
function lockedUntil(spent: Spent[], max: number): Date | null {
  let total = spent.reduce((n, r) => n + Number(r.failures), 0);
  if (total < max) return null;
  for (const r of spent) {
    total -= Number(r.failures);
    if (total < max) return new Date(new Date(r.at).getTime() + DAY * 1000);
  }
  return null;
}
