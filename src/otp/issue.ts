import { sql } from "drizzle-orm";
import type { Limits } from "../config/index.js";
import type { Transaction } from "../db/open.js";
import {
  CALL_LIMITS,
  CALLS_PER_DAY,
  hasReached,
  isSpent,
  limitRefusal,
  numberPrefix,
  SERVICE_CALLS_PER_DAY,
  spentCap,
  takeCall,
  type CallSubject,
  type LimitRefusal,
  type LimitRule,
} from "../limits/rules.js";
import { enqueueEvents } from "../events/outbox.js";
import { generateCode, macCode, newChallengeId, newGateDigit, sealCode } from "./codes.js";
import type { ChallengeDeps, ServiceRules } from "./deps.js";
import { carriedGuesses, isExpired } from "./rules.js";

export type IssueResult =
  | { kind: "issued"; id: string; serviceId: string; number: string; attempts: number; maxAttempts: number; issuedAt: Date; expiresAt: Date }
  /** Every guess for this number is spent; no call may be placed until lockedUntil. */
  | { kind: "attempts_exhausted"; lockedUntil: Date }
  /** An abuse limit refuses the call. */
  | ({ kind: "limited" } & LimitRefusal);

export interface IssueInput {
  service: ServiceRules;
  number: string;
  /** The number's country (ISO 3166-1 alpha-2), kept for statistics. */
  country?: string;
  language: string;
  gate: boolean;
  carrier: string;
  apiKeyName?: string;
  /** The end user's address as the backend reported it. */
  clientIp?: string;
  /** The caller's own code (digits), kept exactly as one made here would be; undefined: one is made. */
  code?: string;
}

const ts = (d: Date) => sql`${d.toISOString()}::timestamptz`;

interface Earlier {
  id: string;
  status: string;
  attempts: number;
  expires_at: string;
}

/**
 * Creates the pending challenge for a number, superseding the one it had, unless a
 * limit or the guessing budget refuses it. One transaction, two round trips:
 *
 * 1. transaction-scoped advisory locks on the number's prefix (which covers the
 *    number), then on the end-user address: always in this order, so two requests
 *    never wait for each other in a circle, and requests that compete for a limit
 *    count one after another on every instance;
 * 2. sent with them, the limits' counts and the number's open challenges, read in one
 *    statement and judged here;
 * 3. in one write: the superseded challenge ended, the new one inserted, a unit of the
 *    spend cap taken, and COMMIT (a spent cap fails its statement: all rolls back).
 */
export async function issueChallenge(deps: ChallengeDeps, input: IssueInput): Promise<IssueResult> {
  const { database, keys, clock } = deps;
  const { otp, limits } = input.service;
  const now = clock.now();
  const subject: CallSubject = { service: input.service.id, number: input.number, prefix: numberPrefix(input.number), clientIp: input.clientIp ?? null, now };
  const outcome = await database.transaction(async (tx): Promise<IssueResult> => {
    const locked = tx(sql`select pg_advisory_xact_lock(hashtextextended(${`voice-otp:prefix:${subject.prefix}`}, 0))${
      subject.clientIp === null ? sql`` : sql`, pg_advisory_xact_lock(hashtextextended(${`voice-otp:address:${subject.clientIp}`}, 0))`
    }`);
    const counted = CALL_LIMITS.flatMap((rule) => {
      const count = rule.count(subject, limits);
      return count ? [{ rule, count }] : [];
    });
    // Codes live a day at most (OTP_TTL_SECONDS), so an unexpired challenge is a day old at most.
    // Sent with the locks, in one write: the server runs it once they are held, and its
    // snapshot then holds everything their previous holders committed.
    const [, [row]] = await Promise.all([locked, tx<Record<string, unknown> & { earlier: string | Earlier[] }>(sql`
      select ${sql.join([...counted.map((c, i) => sql`${c.count} as ${sql.identifier(`c${i}`)}`), sql``], sql`, `)}
        coalesce((select json_agg(json_build_object('id', id, 'status', status, 'attempts', attempts, 'expires_at', expires_at))
                  from challenges where service_id = ${subject.service} and number = ${input.number}
                    and (status = 'pending' or (status <> 'approved' and created_at > ${ts(now)} - interval '1 day'))), '[]'::json) as earlier`)]);
    const reached = counted.find((c, i) => hasReached(c.rule, Number(row![`c${i}`]), limits));
    if (reached) return refusal(reached.rule, (await tx<{ at: string | null }>(sql`select ${reached.rule.freesAt(subject, limits)} as at`))[0]?.at, limits, now);

    const earlier = (typeof row!.earlier === "string" ? JSON.parse(row!.earlier) : row!.earlier) as Earlier[];
    const carried = carriedGuesses(earlier.map((c) => ({ ...c, expiresAt: new Date(c.expires_at) })), otp.maxAttempts, now);
    if (carried.exhaustedUntil) return { kind: "attempts_exhausted", lockedUntil: carried.exhaustedUntil };

    // The pending challenge ends before the new one is inserted (one pending per number).
    // One the sweep had not reached yet ends as expired, and the backend is told so.
    const superseded = earlier
      .filter((c) => c.status === "pending")
      .map((c) => {
        const expired = isExpired(new Date(c.expires_at), now);
        const ended = sql`
          update challenges set status = ${expired ? "expired" : "superseded"},
                 code_mac = null, code_sealed = null, ended_at = ${ts(now)}
          where id = ${c.id}`;
        return tx(expired ? sql`with ended as (${ended} returning id, service_id, number, status, attempts) ${enqueueEvents(sql`ended s`, "challenge.expired", "expired", now)}` : ended);
      });
    const id = newChallengeId();
    const code = input.code ?? generateCode(otp.length);
    const expiresAt = new Date(now.getTime() + otp.ttlSeconds * 1000);
    const inserted = tx(sql`
      insert into challenges (id, service_id, number, country, number_prefix, client_ip, status, code_mac, code_sealed, language, gate_digit,
                              attempts, max_attempts, carrier, api_key_name, created_at, expires_at)
      values (${id}, ${subject.service}, ${input.number}, ${input.country ?? null}, ${subject.prefix}, ${subject.clientIp}, 'pending', ${macCode(keys, code)},
              ${sealCode(keys, id, code)}, ${input.language}, ${input.gate ? newGateDigit() : null}, ${carried.attempts},
              ${otp.maxAttempts}, ${input.carrier}, ${input.apiKeyName ?? null}, ${ts(now)}, ${ts(expiresAt)})`);
    // The spend caps' units last, sent with COMMIT: their hour rows are locked only while the
    // server finishes. When a cap has no unit left the statement fails, and everything rolls back.
    await Promise.all([...superseded, inserted, tx.commitWith(takeCall(subject, deps.limits, limits))]);
    return { kind: "issued", id, serviceId: subject.service, number: input.number, attempts: carried.attempts, maxAttempts: otp.maxAttempts, issuedAt: now, expiresAt };
  }).catch((err: unknown) => {
    if (!isSpent(err)) throw err;
    return "spent" as const;
  });
  if (outcome !== "spent") return outcome;
  const [used] = await database.rows<{ deployment: string | number }>(spentCap(subject));
  const [cap, capLimits] = hasReached(CALLS_PER_DAY, Number(used?.deployment), deps.limits) ? [CALLS_PER_DAY, deps.limits] : [SERVICE_CALLS_PER_DAY, limits];
  const [frees] = await database.rows<{ at: string | null }>(sql`select ${cap.freesAt(subject, capLimits)} as at`);
  return refusal(cap, frees?.at, capLimits, now);
}

function refusal(rule: LimitRule, freesAt: string | Date | null | undefined, limits: Limits, now: Date): IssueResult {
  // A refusal with nothing to age out cannot happen while counts only grow; an hour is a safe answer.
  const at = freesAt ? new Date(freesAt) : new Date(now.getTime() + 3600_000);
  return { kind: "limited", ...limitRefusal(rule, at, limits, now) };
}
