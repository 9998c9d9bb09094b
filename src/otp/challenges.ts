import { sql } from "drizzle-orm";
import { statement, type Database } from "../db/open.js";
import { macCode, newChallengeId, newGateDigit, sealCode, generateCode, unsealCode, type CodeKeys } from "./codes.js";
import type { Clock } from "./clock.js";
import type { Limits } from "../config.js";
import { isCallLimit, limitRefusal, numberPrefix, type LimitRefusal } from "../limits/call-limits.js";

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

const p = (name: string) => sql.placeholder(name);

const issueStatement = statement<{ o_outcome: string; o_limit: string | null; o_retry_at: Date | string | null; o_used: number }>(sql`
  select * from voice_otp_issue_challenge(
    ${p("id")}, ${p("number")}, ${p("prefix")}, ${p("clientIp")}, ${p("codeMac")}, ${p("codeSealed")}, ${p("language")},
    ${p("gateDigit")}, ${p("maxAttempts")}, ${p("carrier")}, ${p("apiKeyName")}, ${p("now")}, ${p("expiresAt")}, ${p("hour")},
    ${p("resendCooldown")}, ${p("perNumber10Min")}, ${p("perNumberDay")}, ${p("perPrefixHour")}, ${p("perIpHour")},
    ${p("perDay")}, ${p("failedPerDay")})`);

/**
 * Creates the pending challenge for a number, superseding the one it had, unless a
 * call limit refuses it: one statement, one round trip (the database function in
 * drizzle/0006_issue_challenge_function.sql checks every limit under its locks).
 * Wrong guesses spent on any unexpired, unapproved challenge of the number carry
 * over: a resend never refills the guessing budget.
 */
export async function issueChallenge(deps: ChallengeDeps, input: IssueInput): Promise<IssueResult> {
  const { database, keys, clock, otp, limits } = deps;
  for (let attempt = 0; ; attempt++) {
    const now = clock.now();
    const id = newChallengeId();
    const code = generateCode(otp.length);
    const expiresAt = new Date(now.getTime() + otp.ttlSeconds * 1000);
    try {
      const [row] = await issueStatement(database, {
        id,
        number: input.number,
        prefix: numberPrefix(input.number),
        clientIp: input.clientIp ?? null,
        codeMac: macCode(keys, code),
        codeSealed: sealCode(keys, id, code),
        language: input.language,
        gateDigit: input.gate ? newGateDigit() : null,
        maxAttempts: otp.maxAttempts,
        carrier: input.carrier,
        apiKeyName: input.apiKeyName ?? null,
        now: now.toISOString(),
        expiresAt: expiresAt.toISOString(),
        hour: new Date(Math.floor(now.getTime() / 3_600_000) * 3_600_000).toISOString(),
        resendCooldown: limits.resendCooldownSeconds,
        perNumber10Min: limits.callsPerNumberPer10Min,
        perNumberDay: limits.callsPerNumberPerDay,
        perPrefixHour: limits.callsPerPrefixPerHour,
        perIpHour: limits.callsPerIpPerHour,
        perDay: limits.callsPerDay,
        failedPerDay: limits.failedValidationsPerNumberPerDay,
      });
      if (!row) throw new Error("voice_otp_issue_challenge returned no row");
      const used = Number(row.o_used);
      if (row.o_outcome === "issued") {
        return { kind: "issued", id, number: input.number, attempts: used, maxAttempts: otp.maxAttempts, expiresAt };
      }
      if (row.o_outcome === "attempts_exhausted") return { kind: "attempts_exhausted", lockedUntil: toDate(row.o_retry_at) };
      if (row.o_outcome === "limited" && row.o_limit && isCallLimit(row.o_limit)) {
        return { kind: "limited", ...limitRefusal(row.o_limit, toDate(row.o_retry_at), limits, now) };
      }
      throw new Error(`voice_otp_issue_challenge answered ${row.o_outcome}/${row.o_limit}`);
    } catch (err) {
      // The one-pending-per-number index backs the locks up; a deadlock between lock
      // holders (only possible through a hash collision) is broken by PostgreSQL. Both
      // are safe to run again, a bounded number of times.
      if (isRetryable(err) && attempt < 20) continue;
      throw err;
    }
  }
}

export interface SpeakableChallenge {
  id: string;
  code: string;
  language: string;
  gateDigit: number | null;
  callSid: string | null;
}

const speakStatement = statement<{ code_sealed: string | null; language: string; gate_digit: number | null; call_sid: string | null }>(sql`
  select code_sealed, language, gate_digit, call_sid from challenges
  where id = ${p("id")} and status = 'pending' and expires_at > ${p("now")}::timestamptz`);

/** The code to read aloud, only while the challenge is pending and unexpired. */
export async function codeToSpeak(deps: ChallengeDeps, id: string): Promise<SpeakableChallenge | null> {
  const { database, keys, clock } = deps;
  const [row] = await speakStatement(database, { id, now: clock.now().toISOString() });
  if (!row?.code_sealed) return null;
  const code = unsealCode(keys, id, row.code_sealed);
  if (code === null) return null;
  return { id, code, language: row.language, gateDigit: row.gate_digit, callSid: row.call_sid };
}

const placedStatement = statement(sql`
  with u as (
    update challenges set call_sid = ${p("callSid")}, call_status = coalesce(call_status, ${p("status")})
    where id = ${p("id")} returning id
  )
  insert into call_events (challenge_id, call_sid, status, at)
  select id, ${p("callSid")}, ${p("status")}, ${p("at")}::timestamptz from u
  on conflict do nothing`);

/** The carrier accepted the call: remember its id and the first event. */
export async function recordCallPlaced(deps: ChallengeDeps, id: string, callSid: string, status: string): Promise<void> {
  await placedStatement(deps.database, { id, callSid, status, at: deps.clock.now().toISOString() });
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

const eventStatement = statement(sql`
  with moved as (
    update challenges c set
      call_status = ${p("status")},
      call_sid = coalesce(c.call_sid, ${p("callSid")}),
      answered_by = coalesce(${p("answeredBy")}, c.answered_by),
      status = case when ${p("ends")}::boolean and c.status = 'pending' then 'failed' else c.status end,
      failure_code = case when ${p("ends")}::boolean and c.status = 'pending' then ${p("failureCode")} else c.failure_code end,
      code_mac = case when ${p("ends")}::boolean and c.status = 'pending' then null else c.code_mac end,
      code_sealed = case when ${p("ends")}::boolean and c.status = 'pending' then null else c.code_sealed end,
      ended_at = case when ${p("ends")}::boolean and c.status = 'pending' then ${p("now")}::timestamptz else c.ended_at end
    where c.id = ${p("id")}
      and (c.call_sid is null or c.call_sid = ${p("callSid")})
      and ${rank(sql`c.call_status`)} < ${rank(sql`${p("status")}::text`)}
    returning c.id
  )
  insert into call_events (challenge_id, call_sid, status, at)
  select id, ${p("callSid")}, ${p("status")}, ${p("now")}::timestamptz from moved
  on conflict do nothing
  returning id`);

/**
 * Records a call progress event. Events only move the call forward: a replayed
 * or late event (ringing after completed) changes nothing. A call that was never
 * answered ends its challenge, since nobody heard the code.
 */
export async function recordCallEvent(
  deps: ChallengeDeps,
  event: { challengeId: string; callSid: string; status: CallStatus; answeredBy?: string },
): Promise<{ recorded: boolean }> {
  const rows = await eventStatement(deps.database, {
    id: event.challengeId,
    callSid: event.callSid,
    status: event.status,
    answeredBy: event.answeredBy ?? null,
    ends: UNANSWERED.includes(event.status),
    failureCode: `call-${event.status}`,
    now: deps.clock.now().toISOString(),
  });
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

/** A unique violation or a deadlock: the statement may run again. */
export function isRetryable(err: unknown): boolean {
  for (let e: unknown = err; e; e = (e as { cause?: unknown }).cause) {
    const code = (e as { code?: string }).code;
    if (code === "23505" || code === "40P01") return true;
  }
  return false;
}
