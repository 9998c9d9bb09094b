import { sql } from "drizzle-orm";
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
  if (limits.resendCooldownSeconds > 0) {
    const [last] = await rows<{ at: string | Date | null }>(
      sql`select max(created_at) as at from challenges where number = ${subject.number}`,
    );
    if (last?.at) {
      const wait = new Date(last.at).getTime() + limits.resendCooldownSeconds * 1000 - now.getTime();
      if (wait > 0) {
        return {
          limit: "resend_cooldown",
          retryAfterSeconds: seconds(wait),
          message: `a call to this number was requested less than ${limits.resendCooldownSeconds} s ago; wait before asking again`,
        };
      }
    }
  }

  const locked = await failedValidationsLock(rows, limits.failedValidationsPerNumberPerDay, subject.number, now);
  if (locked) {
    return {
      limit: "failed_validations",
      retryAfterSeconds: seconds(locked.getTime() - now.getTime()),
      message: "too many wrong codes for this number in the last 24 hours; no new call until Retry-After",
    };
  }

  const windows: Array<{ limit: CallLimitName; max: number; window: number; where: ReturnType<typeof sql> | null; what: string }> = [
    { limit: "calls_per_number_per_10_min", max: limits.callsPerNumberPer10Min, window: 600, where: sql`number = ${subject.number}`, what: "calls to this number in 10 minutes" },
    { limit: "calls_per_number_per_day", max: limits.callsPerNumberPerDay, window: DAY, where: sql`number = ${subject.number}`, what: "calls to this number in 24 hours" },
    { limit: "calls_per_prefix_per_hour", max: limits.callsPerPrefixPerHour, window: HOUR, where: sql`number_prefix = ${subject.prefix}`, what: "calls to numbers in this range in an hour" },
    {
      limit: "calls_per_ip_per_hour",
      max: limits.callsPerIpPerHour,
      window: HOUR,
      where: subject.clientIp ? sql`client_ip = ${subject.clientIp}` : null,
      what: "calls for this client_ip in an hour",
    },
    // The spend guard: it counts every call, so it fails closed when the day's budget is gone.
    { limit: "calls_per_day", max: limits.callsPerDay, window: DAY, where: sql`true`, what: "calls by this service in 24 hours" },
  ];
  for (const w of windows) {
    if (!w.where) continue;
    // The max-th most recent call in the window, if there is one: the limit is reached,
    // and it frees a slot when that call leaves the window.
    const [nth] = await rows<{ created_at: string | Date }>(sql`
      select created_at from challenges
      where ${w.where} and created_at > ${ts(new Date(now.getTime() - w.window * 1000))}
      order by created_at desc offset ${w.max - 1} limit 1`);
    if (nth) {
      return {
        limit: w.limit,
        retryAfterSeconds: seconds(new Date(nth.created_at).getTime() + w.window * 1000 - now.getTime()),
        message: `limit reached: at most ${w.max} ${w.what}`,
      };
    }
  }
  return null;
}

/**
 * When the number's wrong guesses in the last 24 hours reach the limit, the time the
 * oldest of them leaves the window far enough to fall below it; else null.
 */
export async function failedValidationsLock(rows: Rows, max: number, number: string, now: Date): Promise<Date | null> {
  const spent = await rows<{ created_at: string | Date; failures: number }>(sql`
    select created_at, failures from challenges
    where number = ${number} and failures > 0 and created_at > ${ts(new Date(now.getTime() - DAY * 1000))}
    order by created_at`);
  let total = spent.reduce((n, r) => n + Number(r.failures), 0);
  if (total < max) return null;
  for (const r of spent) {
    total -= Number(r.failures);
    if (total < max) return new Date(new Date(r.created_at).getTime() + DAY * 1000);
  }
  return null;
}
