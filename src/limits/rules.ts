import { sql, type SQL } from "drizzle-orm";
import type { Limits } from "../config/index.js";
import { DEFAULT_SERVICE_ID } from "../db/schema.js";

/**
 * Every abuse limit, as data: what it counts, over what window, which variable sets
 * it, and what a refused client is told. A refusal is `429 rate_limited` with
 * `limit` set to the rule's name and Retry-After set to when a slot frees.
 *
 * A call limit counts with one query (`count`), and refuses when the count has
 * reached `max` (hasReached); only then does `freesAt` say when a slot frees.
 * src/otp/issue.ts runs them in table order, inside the issuing transaction, under the
 * locks of the number's prefix and the end-user address (every number limit is also a
 * prefix limit's subject, so the prefix lock covers it). The spend caps, the
 * deployment's and a service's, are budgets instead: their units are taken in the
 * statement that creates the challenge, under their hour rows' locks. A number is
 * counted within its service (one number may be verified by two apps); ranges,
 * addresses and the deployment's cap count every service, so that toll fraud cannot be
 * spread over services. Adding a limit is one row here, its counting query, and its test.
 */

export type Counted = "number, in its service" | "number prefix" | "end-user address" | "client address" | "API key" | "service" | "deployment";

export interface LimitRule {
  name: string;
  counts: Counted;
  /** The window, as people read it. */
  window: string;
  /** The environment variable that sets `max` (for the default service, where a service may set its own). */
  variable: string;
  /** The setting by which a service sets its own `max` (src/services/settings.ts); none: the deployment's holds for all. */
  setting?: string;
  max(l: Limits): number;
  message(l: Limits): string;
}

/** What a call request is counted under. */
export interface CallSubject {
  /** The service that asks: numbers are counted in their service, the rest over the deployment. */
  service: string;
  number: string;
  /** The number less its last four digits: one exchange's block of 10,000 numbers. */
  prefix: string;
  /** The end user's address, when the backend passed one. */
  clientIp: string | null;
  now: Date;
}

/** A budget taken one unit per call, in the statement that creates the challenge. */
export interface SpendLimit extends LimitRule {
  /** Takes one unit (once for each row of `after`, when given), or fails (isSpent) when the budget has none left. */
  take(s: CallSubject, l: Limits, after?: SQL): SQL;
  /** The units taken over the window. */
  used(s: CallSubject): SQL;
  /** When a unit frees, read once the budget is spent. */
  freesAt(s: CallSubject, l: Limits): SQL;
}

export interface CallLimit extends LimitRule {
  /** What the rule counts now (a number); undefined when the rule does not apply to this request. */
  count(s: CallSubject, l: Limits): SQL | undefined;
  /** When the rule lets a call through again, read once it refuses. */
  freesAt(s: CallSubject, l: Limits): SQL;
}

export const numberPrefix = (e164: string) => e164.slice(0, -4);

const ts = (d: Date) => sql`${d.toISOString()}::timestamptz`;
const secs = (n: number) => sql`make_interval(secs => ${n})`;

/**
 * A sliding window over the calls placed (every challenge row is a call placed, or
 * attempted and perhaps placed: one the carrier refused outright is withdrawn, see
 * src/otp/withdraw.ts): full while it holds `max` calls; a slot frees when the max-th
 * most recent of them leaves the window.
 */
function callWindow(
  rule: LimitRule,
  column: SQL,
  value: (s: CallSubject) => string | null,
  seconds: (l: Limits) => number,
): CallLimit {
  const inService = (s: CallSubject) => (rule.counts === "number, in its service" ? sql` and service_id = ${s.service}` : sql``);
  return {
    ...rule,
    count: (s, l) => {
      const v = value(s);
      if (v === null || seconds(l) === 0) return undefined;
      // Counted up to max and no further: a busy range's hour is not read whole.
      return sql`(select count(*) from (select 1 from challenges where ${column} = ${v}${inService(s)} and created_at > ${ts(s.now)} - ${secs(seconds(l))} limit ${rule.max(l)}) w)`;
    },
    freesAt: (s, l) => sql`(
      select created_at + ${secs(seconds(l))} from challenges
      where ${column} = ${value(s)}${inService(s)} and created_at > ${ts(s.now)} - ${secs(seconds(l))}
      order by created_at desc offset ${rule.max(l) - 1} limit 1)`,
  };
}

const DAY = 86_400;

export const RESEND_COOLDOWN = callWindow(
  {
    name: "resend_cooldown",
    counts: "number, in its service",
    window: "the cooldown (one call in it)",
    variable: "RESEND_COOLDOWN_SECONDS",
    setting: "resend_cooldown_seconds",
    max: () => 1,
    message: (l) => `a call to this number was requested less than ${l.resendCooldownSeconds} s ago; wait before asking again`,
  },
  sql`number`,
  (s) => s.number,
  (l) => l.resendCooldownSeconds,
);

/**
 * The failed-guess lock: wrong guesses at a number's codes over 24 hours. Past it,
 * validation refuses every guess (src/otp/check-code.ts) and no new call is placed.
 */
export const FAILED_VALIDATIONS: CallLimit = {
  name: "failed_validations",
  counts: "number, in its service",
  window: "24 hours",
  variable: "FAILED_VALIDATIONS_PER_NUMBER_PER_DAY",
  setting: "failed_validations_per_number_per_day",
  max: (l) => l.failedValidationsPerNumberPerDay,
  message: () => "too many wrong codes for this number in the last 24 hours; no new call until Retry-After",
  count: (s) => failedGuesses(s.service, s.number, s.now),
  // Locked until enough of the day's failures, oldest first, leave the window.
  freesAt: (s, l) => sql`(
    select created_at + interval '1 day' from (
      select created_at, sum(failures) over (order by created_at, id) as older, sum(failures) over () as total
      from challenges where service_id = ${s.service} and number = ${s.number} and failures > 0 and created_at > ${ts(s.now)} - interval '1 day') f
    where total - older < ${l.failedValidationsPerNumberPerDay} order by created_at limit 1)`,
};

/** A number's wrong guesses in a service over the last 24 hours, on all its challenges (or all but one). */
export const failedGuesses = (service: SQL | string, number: SQL | string, now: Date | SQL, exceptId?: SQL) => sql`(
  select coalesce(sum(failures), 0) from challenges
  where service_id = ${service} and number = ${number} ${exceptId ? sql`and id <> ${exceptId}` : sql``} and failures > 0
    and created_at > ${now instanceof Date ? ts(now) : now} - interval '1 day')`;

/**
 * A daily spend cap: the calls of one scope over 24 hours, counted by the hour in
 * call_counts (adding up 24 rows costs the same however many calls there were).
 */
function spendCap(rule: LimitRule, scope: (s: CallSubject) => string): SpendLimit {
  const hour = (s: CallSubject) => ts(hourOf(s.now));
  const earlier = (s: CallSubject) =>
    sql`(select coalesce(sum(calls), 0) from call_counts where scope = ${scope(s)} and hour > ${hour(s)} - interval '1 day' and hour < ${hour(s)})`;
  return {
    ...rule,
    // The hour's row is locked by the upsert and read as the last holder left it; the hours
    // before it no longer change. So concurrent takers queue on that row, and the count they
    // compare with max is exact. With no unit left, `calls` would be null, which the column
    // refuses: the statement fails and its transaction rolls back (isSpent tells).
    take: (s, l, after) => sql`
      insert into call_counts (scope, hour, calls)
      select ${scope(s)}, ${hour(s)}, case when ${earlier(s)} < ${rule.max(l)} then 1 end ${after ? sql`from ${after}` : sql``}
      on conflict (scope, hour) do update set calls = case when ${earlier(s)} + call_counts.calls < ${rule.max(l)} then call_counts.calls + 1 end`,
    used: (s) => sql`(select coalesce(sum(calls), 0) from call_counts where scope = ${scope(s)} and hour > ${hour(s)} - interval '1 day')`,
    // Full until enough of the oldest hours leave the window.
    freesAt: (s, l) => sql`(
      select hour + interval '1 day' from (
        select hour, sum(calls) over (order by hour) as older, sum(calls) over () as total
        from call_counts where scope = ${scope(s)} and hour > ${hour(s)} - interval '1 day') h
      where total - older < ${rule.max(l)} order by hour limit 1)`,
  };
}

/** The deployment's spend cap: every call of every service. */
export const CALLS_PER_DAY = spendCap(
  {
    name: "calls_per_day",
    counts: "deployment",
    window: "24 hours (by the hour)",
    variable: "CALLS_PER_DAY",
    max: (l) => l.callsPerDay,
    message: (l) => `limit reached: at most ${l.callsPerDay} calls by this deployment in 24 hours`,
  },
  () => "*",
);

/**
 * A service's own spend cap, within the deployment's. The default service has none of
 * its own: CALLS_PER_DAY, which sets its settings, is the deployment's cap.
 */
export const SERVICE_CALLS_PER_DAY = spendCap(
  {
    name: "service_calls_per_day",
    counts: "service",
    window: "24 hours (by the hour)",
    variable: "CALLS_PER_DAY",
    setting: "calls_per_day",
    max: (l) => l.callsPerDay,
    message: (l) => `limit reached: at most ${l.callsPerDay} calls by this service in 24 hours`,
  },
  (s) => s.service,
);

/**
 * Takes a call's units of the spend caps, in one statement: the deployment's first, then
 * the service's (every taker locks the rows in this order, so none waits in a circle).
 */
export function takeCall(s: CallSubject, deployment: Limits, service: Limits): SQL {
  if (s.service === DEFAULT_SERVICE_ID) return CALLS_PER_DAY.take(s, deployment);
  return sql`with deployment as (${CALLS_PER_DAY.take(s, deployment)} returning 1) ${SERVICE_CALLS_PER_DAY.take(s, service, sql`deployment`)}`;
}

/** Which cap refused a take that failed (isSpent). */
export const spentCap = (s: CallSubject) => sql`select ${CALLS_PER_DAY.used(s)} as deployment, ${SERVICE_CALLS_PER_DAY.used(s)} as service`;

/**
 * Gives back the units a call took at `takenAt` for the service `service` (a query), if
 * `when` holds: the carrier refused that call. They go back to the hour they were taken
 * from, which the windows count as long as they counted the call.
 */
export const giveBackCall = (takenAt: Date, service: SQL, when: SQL) => sql`
  update call_counts set calls = calls - 1
  where hour = ${ts(hourOf(takenAt))} and (scope = '*' or scope = ${service}) and calls > 0 and ${when}`;

/** The error of a take() that found the budget spent (postgres.js names the table table_name, PGlite table). */
export const isSpent = (err: unknown): boolean => {
  for (let e = err as { code?: string; table_name?: string; table?: string; cause?: unknown } | undefined; e; e = e.cause as typeof e) {
    if (e.code === "23502") return (e.table_name ?? e.table) === "call_counts";
  }
  return false;
};

export const hourOf = (d: Date) => new Date(Math.floor(d.getTime() / 3_600_000) * 3_600_000);

/** The limits counted before a call is issued, in the order they are checked. */
export const CALL_LIMITS: readonly CallLimit[] = [
  RESEND_COOLDOWN,
  FAILED_VALIDATIONS,
  callWindow(
    {
      name: "calls_per_number_per_10_min",
      counts: "number, in its service",
      setting: "calls_per_number_per_10_min",
      window: "10 minutes",
      variable: "CALLS_PER_NUMBER_PER_10_MIN",
      max: (l) => l.callsPerNumberPer10Min,
      message: (l) => `limit reached: at most ${l.callsPerNumberPer10Min} calls to this number in 10 minutes`,
    },
    sql`number`,
    (s) => s.number,
    () => 600,
  ),
  callWindow(
    {
      name: "calls_per_number_per_day",
      counts: "number, in its service",
      setting: "calls_per_number_per_day",
      window: "24 hours",
      variable: "CALLS_PER_NUMBER_PER_DAY",
      max: (l) => l.callsPerNumberPerDay,
      message: (l) => `limit reached: at most ${l.callsPerNumberPerDay} calls to this number in 24 hours`,
    },
    sql`number`,
    (s) => s.number,
    () => DAY,
  ),
  callWindow(
    {
      name: "calls_per_prefix_per_hour",
      counts: "number prefix",
      window: "1 hour",
      variable: "CALLS_PER_PREFIX_PER_HOUR",
      max: (l) => l.callsPerPrefixPerHour,
      message: (l) => `limit reached: at most ${l.callsPerPrefixPerHour} calls to numbers in this range in an hour`,
    },
    sql`number_prefix`,
    (s) => s.prefix,
    () => 3600,
  ),
  callWindow(
    {
      name: "calls_per_ip_per_hour",
      counts: "end-user address",
      window: "1 hour",
      variable: "CALLS_PER_IP_PER_HOUR",
      max: (l) => l.callsPerIpPerHour,
      message: (l) => `limit reached: at most ${l.callsPerIpPerHour} calls for this client_ip in an hour`,
    },
    sql`client_ip`,
    (s) => s.clientIp,
    () => 3600,
  ),
];

/** Requests per API key, counted in fixed one-minute windows (src/limits/request-rate.ts). */
export const REQUESTS_PER_KEY: LimitRule = {
  name: "requests_per_key_per_minute",
  counts: "API key",
  window: "1 minute (fixed)",
  variable: "REQUESTS_PER_KEY_PER_MINUTE",
  max: (l) => l.requestsPerKeyPerMinute,
  message: (l) => `limit reached: at most ${l.requestsPerKeyPerMinute} requests per minute for this API key`,
};

/** Failed authentications (an unknown or revoked key) per client address: counted per instance (src/limits/auth-failures.ts). */
export const AUTH_FAILURES: LimitRule = {
  name: "auth_failures_per_ip_per_minute",
  counts: "client address",
  window: "1 minute (fixed, per instance)",
  variable: "AUTH_FAILURES_PER_IP_PER_MINUTE",
  max: (l) => l.authFailuresPerIpPerMinute,
  message: (l) =>
    `too many unrecognised API keys from this address: at most ${l.authFailuresPerIpPerMinute} per minute; check the key, then retry after Retry-After seconds`,
};

/** Every limit: the README's table says the same (test/limits-table.test.ts). */
export const LIMIT_RULES: readonly LimitRule[] = [...CALL_LIMITS, SERVICE_CALLS_PER_DAY, CALLS_PER_DAY, REQUESTS_PER_KEY, AUTH_FAILURES];

/** Whether a rule's count has reached its max: the one comparison every limit makes. */
export const hasReached = (rule: LimitRule, count: number, l: Limits) => count >= rule.max(l);

export interface LimitRefusal {
  limit: string;
  retryAfterSeconds: number;
  message: string;
}

/** A refusal as the client sees it: which limit, and when a slot frees. */
export function limitRefusal(rule: LimitRule, freesAt: Date, limits: Limits, now: Date): LimitRefusal {
  return {
    limit: rule.name,
    retryAfterSeconds: Math.max(1, Math.ceil((freesAt.getTime() - now.getTime()) / 1000)),
    message: rule.message(limits),
  };
}
