import { sql } from "drizzle-orm";
import type { Rows } from "../db/open.js";
import { CALL_LIMITS, hasReached, hourOf, limitRefusal, numberPrefix, type CallLimit, type CallSubject, type LimitRefusal } from "../limits/rules.js";
import type { ChallengeDeps } from "./challenges.js";
import { generateCode, macCode, newChallengeId, newGateDigit, sealCode } from "./codes.js";
import { carriedGuesses, isExpired } from "./rules.js";

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

const ts = (d: Date) => sql`${d.toISOString()}::timestamptz`;

/** Rolls the issuing transaction back with the refusal it found (the spend cap's, after the insert). */
class Refused extends Error {
  constructor(readonly result: IssueResult) {
    super("refused");
  }
}

/**
 * Creates the pending challenge for a number, superseding the one it had, unless a
 * limit or the guessing budget refuses it. One transaction: lock, count, write.
 *
 * Locks are transaction-scoped advisory locks, always taken in one order: the number's
 * prefix (which covers the number), the end-user address, then the deployment's spend
 * cap. Requests that compete for a limit therefore count one after another on every
 * instance, and two transactions never wait for each other in a circle. The spend cap's
 * lock orders every call of the deployment, so it is taken last, just before commit.
 */
export async function issueChallenge(deps: ChallengeDeps, input: IssueInput): Promise<IssueResult> {
  const { database, keys, clock, otp, limits } = deps;
  const now = clock.now();
  const subject: CallSubject = { number: input.number, prefix: numberPrefix(input.number), clientIp: input.clientIp ?? null, now };
  try {
    return await database.transaction(async (tx) => {
      await tx(sql`select pg_advisory_xact_lock(hashtextextended(${`voice-otp:prefix:${subject.prefix}`}, 0))${
        subject.clientIp === null ? sql`` : sql`, pg_advisory_xact_lock(hashtextextended(${`voice-otp:address:${subject.clientIp}`}, 0))`
      }`);
      const refusal = await firstRefusal(tx, CALL_LIMITS.filter((rule) => rule.counts !== "deployment"), deps, subject);
      if (refusal) return refusal;

      // Codes live a day at most (OTP_TTL_SECONDS), so an unexpired challenge is a day old at most.
      const earlier = await tx<{ id: string; status: string; attempts: number; expires_at: Date | string }>(sql`
        select id, status, attempts, expires_at from challenges
        where number = ${input.number}
          and (status = 'pending' or (status <> 'approved' and created_at > ${ts(now)} - interval '1 day'))`);
      const carried = carriedGuesses(
        earlier.map((c) => ({ ...c, expiresAt: new Date(c.expires_at) })),
        otp.maxAttempts,
        now,
      );
      if (carried.exhaustedUntil) return { kind: "attempts_exhausted" as const, lockedUntil: carried.exhaustedUntil };

      for (const pending of earlier.filter((c) => c.status === "pending")) {
        await tx(sql`
          update challenges set status = ${isExpired(new Date(pending.expires_at), now) ? "expired" : "superseded"},
                 code_mac = null, code_sealed = null, ended_at = ${ts(now)}
          where id = ${pending.id}`);
      }
      const id = newChallengeId();
      const code = generateCode(otp.length);
      const expiresAt = new Date(now.getTime() + otp.ttlSeconds * 1000);
      await tx(sql`
        insert into challenges (id, number, number_prefix, client_ip, status, code_mac, code_sealed, language, gate_digit,
                                attempts, max_attempts, carrier, api_key_name, created_at, expires_at)
        values (${id}, ${input.number}, ${subject.prefix}, ${subject.clientIp}, 'pending', ${macCode(keys, code)},
                ${sealCode(keys, id, code)}, ${input.language}, ${input.gate ? newGateDigit() : null}, ${carried.attempts},
                ${otp.maxAttempts}, ${input.carrier}, ${input.apiKeyName ?? null}, ${ts(now)}, ${ts(expiresAt)})`);

      await tx(sql`select pg_advisory_xact_lock(hashtextextended('voice-otp:spend', 0))`);
      const spent = await firstRefusal(tx, CALL_LIMITS.filter((rule) => rule.counts === "deployment"), deps, subject);
      if (spent) throw new Refused(spent);
      await tx(sql`
        insert into call_counts (hour, calls) values (${ts(hourOf(now))}, 1)
        on conflict (hour) do update set calls = call_counts.calls + 1`);
      return { kind: "issued" as const, id, number: input.number, attempts: carried.attempts, maxAttempts: otp.maxAttempts, expiresAt };
    });
  } catch (err) {
    if (err instanceof Refused) return err.result;
    throw err;
  }
}

/** Counts every rule that applies in one statement; the first (in table order) that has reached its max refuses. */
async function firstRefusal(tx: Rows, rules: readonly CallLimit[], deps: ChallengeDeps, s: CallSubject): Promise<IssueResult | null> {
  const counted = rules.flatMap((rule) => {
    const count = rule.count(s, deps.limits);
    return count ? [{ rule, count }] : [];
  });
  if (counted.length === 0) return null;
  const [row] = await tx<Record<string, string | number>>(
    sql`select ${sql.join(counted.map((c, i) => sql`${c.count} as ${sql.identifier(`c${i}`)}`), sql`, `)}`,
  );
  const reached = counted.find((c, i) => hasReached(c.rule, Number(row![`c${i}`]), deps.limits));
  if (!reached) return null;
  const [frees] = await tx<{ at: Date | string | null }>(sql`select ${reached.rule.freesAt(s, deps.limits)} as at`);
  // A refusal with nothing to age out cannot happen while counts only grow; an hour is a safe answer.
  const at = frees?.at ? new Date(frees.at) : new Date(s.now.getTime() + 3600_000);
  return { kind: "limited", ...limitRefusal(reached.rule, at, deps.limits, s.now) };
}
