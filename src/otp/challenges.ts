import { sql } from "drizzle-orm";
import { statement, type Database } from "../db/open.js";
import { batched, onePer, rowsByOrd } from "../db/batch.js";
import { rank } from "./call-events.js";
import { macCode, newChallengeId, newGateDigit, sealCode, generateCode, unsealCode, type CodeKeys } from "./codes.js";
import type { Clock } from "./clock.js";
import type { Limits } from "../config/index.js";
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

interface IssueRow {
  ord: number;
  o_outcome: string;
  o_limit: string | null;
  o_retry_at: Date | string | null;
  o_used: number;
}

/** One request of an issuing batch: everything but the limits, which the batch shares. */
interface IssueRequest {
  id: string;
  number: string;
  clientIp: string | null;
  codeMac: string;
  codeSealed: string;
  language: string;
  gateDigit: number | null;
  carrier: string;
  apiKeyName: string | null;
  now: Date;
  expiresAt: Date;
}

// Times travel as text[]: drizzle's postgres.js driver leaves timestamptz[] parameters unserialised.
const issueStatement = statement<IssueRow>(sql`
  select o_ord as ord, o_outcome, o_limit, o_retry_at, o_used from voice_otp_issue_challenges(
    ${p("ids")}::text[], ${p("numbers")}::text[], ${p("prefixes")}::text[], ${p("clientIps")}::text[],
    ${p("codeMacs")}::text[], ${p("codeSealeds")}::text[], ${p("languages")}::text[], ${p("gateDigits")}::int[],
    ${p("carriers")}::text[], ${p("apiKeyNames")}::text[], ${p("nows")}::text[]::timestamptz[], ${p("expiresAts")}::text[]::timestamptz[],
    ${p("maxAttempts")}::int, ${p("resendCooldown")}::int, ${p("perNumber10Min")}::int, ${p("perNumberDay")}::int,
    ${p("perPrefixHour")}::int, ${p("perIpHour")}::int, ${p("perDay")}::int, ${p("failedPerDay")}::int)`);

/** One call of the database function for every request of a batch: one transaction. */
async function issueBatch(deps: ChallengeDeps, requests: IssueRequest[]): Promise<IssueRow[]> {
  const { limits, otp } = deps;
  const rows = await rowsByOrd(requests, (sorted) =>
    issueStatement(deps.database, {
      ids: sorted.map((r) => r.id),
      numbers: sorted.map((r) => r.number),
      prefixes: sorted.map((r) => numberPrefix(r.number)),
      clientIps: sorted.map((r) => r.clientIp),
      codeMacs: sorted.map((r) => r.codeMac),
      codeSealeds: sorted.map((r) => r.codeSealed),
      languages: sorted.map((r) => r.language),
      gateDigits: sorted.map((r) => r.gateDigit),
      carriers: sorted.map((r) => r.carrier),
      apiKeyNames: sorted.map((r) => r.apiKeyName),
      nows: sorted.map((r) => r.now.toISOString()),
      expiresAts: sorted.map((r) => r.expiresAt.toISOString()),
      maxAttempts: otp.maxAttempts,
      resendCooldown: limits.resendCooldownSeconds,
      perNumber10Min: limits.callsPerNumberPer10Min,
      perNumberDay: limits.callsPerNumberPerDay,
      perPrefixHour: limits.callsPerPrefixPerHour,
      perIpHour: limits.callsPerIpPerHour,
      perDay: limits.callsPerDay,
      failedPerDay: limits.failedValidationsPerNumberPerDay,
    }),
  );
  return rows.map((row, i) => {
    if (!row) throw new Error(`voice_otp_issue_challenges returned no row for ${requests[i]!.id}`);
    return row;
  });
}

/** Times a request the spend cap's shards were too busy for goes again before it is refused. */
const BUSY_RETRIES = 8;

// Limits and code settings are the service's: one batcher per service's dependencies.
const issuers = onePer((deps: ChallengeDeps) => batched<IssueRequest, IssueRow>({ key: (r) => r.number, run: (rs) => issueBatch(deps, rs) }));

/**
 * Creates the pending challenge for a number, superseding the one it had, unless a
 * call limit refuses it. Requests that arrive together are issued by one call of the
 * database function in drizzle/0009_issue_challenges_in_batches.sql (its spend cap as
 * changed in 0010), which checks every limit under its locks, one request after
 * another (src/db/batch.ts). Wrong guesses spent on any unexpired, unapproved
 * challenge of the number carry over: a resend never refills the guessing budget.
 */
export async function issueChallenge(deps: ChallengeDeps, input: IssueInput): Promise<IssueResult> {
  const { keys, clock, otp, limits } = deps;
  const now = clock.now();
  const id = newChallengeId();
  const code = generateCode(otp.length);
  const expiresAt = new Date(now.getTime() + otp.ttlSeconds * 1000);
  const request: IssueRequest = {
    id,
    number: input.number,
    clientIp: input.clientIp ?? null,
    codeMac: macCode(keys, code),
    codeSealed: sealCode(keys, id, code),
    language: input.language,
    gateDigit: input.gate ? newGateDigit() : null,
    carrier: input.carrier,
    apiKeyName: input.apiKeyName ?? null,
    now,
    expiresAt,
  };
  // 'busy': the spend cap had room only in shard rows other batches held, which this
  // batch could not wait for out of order without risking a deadlock (drizzle/0010).
  // A later batch may take them in order.
  let row = await issuers(deps, request);
  for (let again = 0; row.o_outcome === "busy" && again < BUSY_RETRIES; again++) row = await issuers(deps, request);
  if (row.o_outcome === "busy") {
    return { kind: "limited", ...limitRefusal("calls_per_day", new Date(now.getTime() + 1000), limits, now) };
  }
  const used = Number(row.o_used);
  if (row.o_outcome === "issued") {
    return { kind: "issued", id, number: input.number, attempts: used, maxAttempts: otp.maxAttempts, expiresAt };
  }
  if (row.o_outcome === "attempts_exhausted") return { kind: "attempts_exhausted", lockedUntil: toDate(row.o_retry_at) };
  if (row.o_outcome === "limited" && row.o_limit && isCallLimit(row.o_limit)) {
    return { kind: "limited", ...limitRefusal(row.o_limit, toDate(row.o_retry_at), limits, now) };
  }
  throw new Error(`voice_otp_issue_challenges answered ${row.o_outcome}/${row.o_limit}`);
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
