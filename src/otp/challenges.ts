import { sql } from "drizzle-orm";
import type { Database } from "../db/open.js";
import { macCode, newChallengeId, newGateDigit, sealCode, generateCode, unsealCode, type CodeKeys } from "./codes.js";
import type { Clock } from "./clock.js";
import type { Limits } from "../config.js";
import { checkCallLimits, numberPrefix, type LimitRefusal } from "../limits/call-limits.js";
import { countingCte, refusal, type Admission } from "../limits/request-rate.js";

/**
 * The challenge lifecycle. Every guarantee (one pending challenge per number,
 * attempts never past the maximum, one approval per code) is a single SQL
 * statement, so it holds under concurrency and across instances sharing a database.
 */

export type ChallengeStatus = "pending" | "approved" | "expired" | "superseded" | "failed" | "too_many_attempts";

export interface OtpSettings {
  length: number;
  ttlSeconds: number;
  maxAttempts: number;
}

export interface ChallengeDeps {
  database: Database;
  keys: CodeKeys;
  clock: Clock;
  otp: OtpSettings;
  limits: Limits;
}

const ts = (d: Date) => sql`${d.toISOString()}::timestamptz`;

export type IssueResult =
  | { kind: "issued"; id: string; number: string; attempts: number; maxAttempts: number; expiresAt: Date }
  /** Every guess for this number is spent; no call may be placed until lockedUntil. */
  | { kind: "attempts_exhausted"; lockedUntil: Date }
  /** An abuse limit refuses the call. */
  | ({ kind: "limited" } & LimitRefusal);

export interface IssueInput {
  number: string;
  language: string;
  gate: boolean;
  carrier: string;
  apiKeyName?: string;
  /** The end user's address as the backend reported it. */
  clientIp?: string;
}

/**
 * Creates the pending challenge for a number, superseding the one it had.
 * Wrong guesses spent on any unexpired, unapproved challenge of the number carry
 * over: a resend never refills the guessing budget.
 */
export async function issueChallenge(deps: ChallengeDeps, input: IssueInput): Promise<IssueResult> {
  const { database, keys, clock, otp } = deps;
  for (let attempt = 0; ; attempt++) {
    const now = clock.now();
    const id = newChallengeId();
    const code = generateCode(otp.length);
    const expiresAt = new Date(now.getTime() + otp.ttlSeconds * 1000);
    const gateDigit = input.gate ? newGateDigit() : null;
    try {
      return await database.transaction(async (rows): Promise<IssueResult> => {
        // One issuer at a time on every instance: the limits count rows this lock guards.
        await rows(sql`select pg_advisory_xact_lock(hashtext('voice-otp:issue'))`);
        const subject = { number: input.number, prefix: numberPrefix(input.number), clientIp: input.clientIp };
        const refusal = await checkCallLimits(rows, deps.limits, subject, now);
        if (refusal) return { kind: "limited", ...refusal };
        const [budget] = await rows<{ used: number; locked_until: Date | string | null }>(sql`
          select coalesce(max(attempts), 0)::int as used,
                 max(expires_at) filter (where attempts >= ${otp.maxAttempts}) as locked_until
          from challenges
          where number = ${input.number} and status <> 'approved' and expires_at > ${ts(now)}`);
        const used = budget?.used ?? 0;
        if (used >= otp.maxAttempts) return { kind: "attempts_exhausted", lockedUntil: toDate(budget?.locked_until ?? now) };
        await rows(sql`
          update challenges
          set status = case when expires_at <= ${ts(now)} then 'expired' else 'superseded' end,
              code_mac = null, code_sealed = null, ended_at = ${ts(now)}
          where number = ${input.number} and status = 'pending'`);
        // The one-pending-per-number index backs the lock up: a duplicate cannot be stored.
        await rows(sql`
          insert into challenges (id, number, number_prefix, client_ip, status, code_mac, code_sealed, language, gate_digit,
                                  attempts, max_attempts, carrier, api_key_name, created_at, expires_at)
          values (${id}, ${input.number}, ${subject.prefix}, ${input.clientIp ?? null}, 'pending', ${macCode(keys, code)},
                  ${sealCode(keys, id, code)}, ${input.language}, ${gateDigit}, ${used}, ${otp.maxAttempts}, ${input.carrier},
                  ${input.apiKeyName ?? null}, ${ts(now)}, ${ts(expiresAt)})`);
        return { kind: "issued", id, number: input.number, attempts: used, maxAttempts: otp.maxAttempts, expiresAt };
      });
    } catch (err) {
      // A concurrent request for the same number inserted its pending challenge
      // first; run again and supersede that one. Bounded, though each retry wins
      // against at least one competitor.
      if (isUniqueViolation(err) && attempt < 20) continue;
      throw err;
    }
  }
}

export type CheckResult =
  | { kind: "approved"; id: string }
  | { kind: "denied"; reason: "incorrect"; attemptsRemaining: number; id: string }
  | { kind: "denied"; reason: "expired" | "no_pending_challenge" | "too_many_attempts" | "locked"; attemptsRemaining: 0 }
  /** The caller's request budget (counted in the same statement) is spent; nothing was checked. */
  | { kind: "rate_limited"; retryAfterSeconds: number };

/**
 * Checks a guess against the latest challenge of a number (or a given id) in one
 * UPDATE … RETURNING: the attempt is counted, the verdict decided and the code
 * wiped at once, so concurrent guesses cannot pass the maximum and a right code
 * is approved exactly once. Besides the challenge's own maximum, the number's wrong
 * guesses over 24 hours are capped (FAILED_VALIDATIONS_PER_NUMBER_PER_DAY): past it
 * the number is locked. The other challenges' guesses cannot change underneath
 * (only the pending one takes guesses) and the pending row is re-read under its row
 * lock, so the cap holds under concurrency too.
 */
export async function checkCode(
  deps: ChallengeDeps,
  target: { number: string } | { id: string },
  guess: string,
  /** Counts the request against its API key's budget in this same statement. */
  admit?: Admission,
): Promise<CheckResult> {
  const { database, keys, clock } = deps;
  const lockMax = deps.limits.failedValidationsPerNumberPerDay;
  const now = ts(clock.now());
  const dayAgo = ts(new Date(clock.now().getTime() - 86_400_000));
  const mac = macCode(keys, guess);
  const which = "id" in target ? sql`l.id = ${target.id}` : sql`l.number = ${target.number}`;
  const ends = sql`(c.expires_at <= ${now} or c.code_mac = ${mac} or c.attempts + 1 >= c.max_attempts)`;
  // Without an admission to count, a constant stands in for the hit count.
  const hit = admit ? sql`${countingCte(admit)},` : sql`hit as (select 0 as hits),`;
  const admitted = sql`(select hits from hit) <= ${admit?.perMinute ?? 0}`;
  const [row] = await database.rows<{
    hits: number;
    id: string | null;
    prior_status: string;
    others: number;
    new_status: string | null;
    attempts: number | null;
    failures: number | null;
    max_attempts: number;
  }>(sql`
    with ${hit} latest as (
      select l.id, l.status, l.max_attempts,
             (select coalesce(sum(o.failures), 0) from challenges o
              where o.number = l.number and o.id <> l.id and o.created_at > ${dayAgo})::int as others
      from challenges l
      where ${which} order by l.created_at desc limit 1
    ), upd as (
      update challenges c set
        status = case
          when c.expires_at <= ${now} then 'expired'
          when c.code_mac = ${mac} then 'approved'
          when c.attempts + 1 >= c.max_attempts then 'too_many_attempts'
          else 'pending' end,
        attempts = case when c.expires_at <= ${now} or c.code_mac = ${mac} then c.attempts else c.attempts + 1 end,
        failures = case when c.expires_at <= ${now} or c.code_mac = ${mac} then c.failures else c.failures + 1 end,
        code_mac = case when ${ends} then null else c.code_mac end,
        code_sealed = case when ${ends} then null else c.code_sealed end,
        ended_at = case when ${ends} then ${now} else null end
      from latest
      where c.id = latest.id and c.status = 'pending' and c.attempts < c.max_attempts
        and latest.others + c.failures < ${lockMax} and ${admitted}
      returning c.status, c.attempts, c.failures
    )
    select (select hits from hit) as hits, latest.id, latest.status as prior_status, latest.max_attempts, latest.others,
           upd.status as new_status, upd.attempts, upd.failures
    from (select 1) as one left join latest on true left join upd on true`);

  const wait = admit && row ? refusal(admit, Number(row.hits)) : null;
  if (wait !== null) return { kind: "rate_limited", retryAfterSeconds: wait };
  if (!row?.id) return { kind: "denied", reason: "no_pending_challenge", attemptsRemaining: 0 };
  switch (row.new_status) {
    case "approved":
      return { kind: "approved", id: row.id };
    case "pending":
    case "too_many_attempts": {
      const remaining = Math.min(row.max_attempts - (row.attempts ?? 0), lockMax - row.others - (row.failures ?? 0));
      return { kind: "denied", reason: "incorrect", attemptsRemaining: Math.max(0, remaining), id: row.id };
    }
    case "expired":
      return { kind: "denied", reason: "expired", attemptsRemaining: 0 };
  }
  // Nothing was updated. When the challenge looked pending, either the number is
  // locked or a concurrent guess ended it after this statement's snapshot: read
  // what it is now (only to choose the reason; the verdict is already decided).
  let ended = row.prior_status;
  if (ended === "pending") {
    const [current] = await database.rows<{ status: string; failures: number; expired: boolean }>(
      sql`select status, failures, expires_at <= ${now} as expired from challenges where id = ${row.id}`,
    );
    ended = current?.status ?? ended;
    if (current && ended === "pending") {
      if (current.expired) return { kind: "denied", reason: "expired", attemptsRemaining: 0 };
      if (row.others + Number(current.failures) >= lockMax) return { kind: "denied", reason: "locked", attemptsRemaining: 0 };
    }
  }
  if (ended === "too_many_attempts") return { kind: "denied", reason: "too_many_attempts", attemptsRemaining: 0 };
  if (ended === "expired") return { kind: "denied", reason: "expired", attemptsRemaining: 0 };
  return { kind: "denied", reason: "no_pending_challenge", attemptsRemaining: 0 };
}

export interface SpeakableChallenge {
  id: string;
  code: string;
  language: string;
  gateDigit: number | null;
  callSid: string | null;
}

/** The code to read aloud, only while the challenge is pending and unexpired. */
export async function codeToSpeak(deps: ChallengeDeps, id: string): Promise<SpeakableChallenge | null> {
  const { database, keys, clock } = deps;
  const [row] = await database.rows<{
    code_sealed: string | null;
    language: string;
    gate_digit: number | null;
    call_sid: string | null;
  }>(sql`
    select code_sealed, language, gate_digit, call_sid from challenges
    where id = ${id} and status = 'pending' and expires_at > ${ts(clock.now())}`);
  if (!row?.code_sealed) return null;
  const code = unsealCode(keys, id, row.code_sealed);
  if (code === null) return null;
  return { id, code, language: row.language, gateDigit: row.gate_digit, callSid: row.call_sid };
}

/** The carrier accepted the call: remember its id and the first event. */
export async function recordCallPlaced(deps: ChallengeDeps, id: string, callSid: string, status: string): Promise<void> {
  const at = ts(deps.clock.now());
  await deps.database.rows(sql`
    with u as (
      update challenges set call_sid = ${callSid}, call_status = coalesce(call_status, ${status})
      where id = ${id} returning id
    )
    insert into call_events (challenge_id, call_sid, status, at)
    select id, ${callSid}, ${status}, ${at} from u
    on conflict do nothing`);
}

/** The carrier refused or could not be reached: the challenge ends and its code is wiped. */
export async function markFailed(deps: ChallengeDeps, id: string, failureCode: string): Promise<void> {
  const now = ts(deps.clock.now());
  await deps.database.rows(sql`
    update challenges set status = 'failed', failure_code = ${failureCode},
           code_mac = null, code_sealed = null, ended_at = ${now}
    where id = ${id} and status = 'pending'`);
}

export const CALL_STATUSES = [
  "queued",
  "initiated",
  "ringing",
  "in-progress",
  "completed",
  "busy",
  "no-answer",
  "failed",
  "canceled",
] as const;
export type CallStatus = (typeof CALL_STATUSES)[number];
const UNANSWERED: CallStatus[] = ["busy", "no-answer", "failed", "canceled"];

const rank = (column: ReturnType<typeof sql>) => sql`(case ${column}
  when 'queued' then 0 when 'initiated' then 1 when 'ringing' then 2 when 'in-progress' then 3
  when 'completed' then 4 when 'busy' then 4 when 'no-answer' then 4 when 'failed' then 4 when 'canceled' then 4
  else -1 end)`;

/**
 * Records a call progress event. Events only move the call forward: a replayed
 * or late event (ringing after completed) changes nothing. A call that was never
 * answered ends its challenge, since nobody heard the code.
 */
export async function recordCallEvent(
  deps: ChallengeDeps,
  event: { challengeId: string; callSid: string; status: CallStatus; answeredBy?: string },
): Promise<{ recorded: boolean }> {
  const now = ts(deps.clock.now());
  const endsChallenge = UNANSWERED.includes(event.status);
  const rows = await deps.database.rows(sql`
    with moved as (
      update challenges c set
        call_status = ${event.status},
        call_sid = coalesce(c.call_sid, ${event.callSid}),
        answered_by = coalesce(${event.answeredBy ?? null}, c.answered_by),
        status = case when ${endsChallenge}::boolean and c.status = 'pending' then 'failed' else c.status end,
        failure_code = case when ${endsChallenge}::boolean and c.status = 'pending' then ${`call-${event.status}`} else c.failure_code end,
        code_mac = case when ${endsChallenge}::boolean and c.status = 'pending' then null else c.code_mac end,
        code_sealed = case when ${endsChallenge}::boolean and c.status = 'pending' then null else c.code_sealed end,
        ended_at = case when ${endsChallenge}::boolean and c.status = 'pending' then ${now} else c.ended_at end
      where c.id = ${event.challengeId}
        and (c.call_sid is null or c.call_sid = ${event.callSid})
        and ${rank(sql`c.call_status`)} < ${rank(sql`${event.status}::text`)}
      returning c.id
    )
    insert into call_events (challenge_id, call_sid, status, at)
    select id, ${event.callSid}, ${event.status}, ${now} from moved
    on conflict do nothing
    returning id`);
  return { recorded: rows.length > 0 };
}

/** Remembers what answered the call (AnsweredBy) when the voice webhook reports it. */
export async function recordAnsweredBy(deps: ChallengeDeps, id: string, answeredBy: string): Promise<void> {
  await deps.database.rows(sql`update challenges set answered_by = ${answeredBy} where id = ${id}`);
}

export interface ChallengeView {
  id: string;
  number: string;
  status: ChallengeStatus;
  language: string;
  attemptsUsed: number;
  attemptsAllowed: number;
  createdAt: Date;
  expiresAt: Date;
  endedAt: Date | null;
  carrier: string;
  callSid: string | null;
  callStatus: string | null;
  answeredBy: string | null;
  failureCode: string | null;
  apiKeyName: string | null;
  callEvents: Array<{ status: string; at: Date }>;
}

/** A challenge as the backend may see it: never the code or its MAC. */
export async function getChallenge(deps: ChallengeDeps, id: string): Promise<ChallengeView | null> {
  const [row] = await deps.database.rows<Record<string, unknown>>(sql`
    select c.id, c.number, c.status, c.language, c.attempts, c.max_attempts, c.created_at, c.expires_at,
           c.ended_at, c.carrier, c.call_sid, c.call_status, c.answered_by, c.failure_code, c.api_key_name,
           coalesce((select json_agg(json_build_object('status', e.status, 'at', e.at) order by e.at, ${rank(sql`e.status`)}, e.id)
                     from call_events e where e.challenge_id = c.id), '[]'::json) as events
    from challenges c where c.id = ${id}`);
  if (!row) return null;
  const expiresAt = toDate(row.expires_at);
  const stored = row.status as ChallengeStatus;
  const events = (typeof row.events === "string" ? JSON.parse(row.events) : row.events) as Array<{ status: string; at: string }>;
  return {
    id: row.id as string,
    number: row.number as string,
    status: stored === "pending" && expiresAt <= deps.clock.now() ? "expired" : stored,
    language: row.language as string,
    attemptsUsed: Number(row.attempts),
    attemptsAllowed: Number(row.max_attempts),
    createdAt: toDate(row.created_at),
    expiresAt,
    endedAt: row.ended_at ? toDate(row.ended_at) : null,
    carrier: row.carrier as string,
    callSid: (row.call_sid as string | null) ?? null,
    callStatus: (row.call_status as string | null) ?? null,
    answeredBy: (row.answered_by as string | null) ?? null,
    failureCode: (row.failure_code as string | null) ?? null,
    apiKeyName: (row.api_key_name as string | null) ?? null,
    callEvents: events.map((e) => ({ status: e.status, at: new Date(e.at) })),
  };
}

function toDate(v: unknown): Date {
  return v instanceof Date ? v : new Date(String(v));
}

function isUniqueViolation(err: unknown): boolean {
  for (let e: unknown = err; e; e = (e as { cause?: unknown }).cause) {
    if ((e as { code?: string }).code === "23505") return true;
  }
  return false;
}
