import { timingSafeEqual } from "node:crypto";
import { sql } from "drizzle-orm";
import { FAILED_VALIDATIONS, failedGuesses, hasReached } from "../limits/rules.js";
import type { ChallengeDeps } from "./challenges.js";
import { macCode } from "./codes.js";
import { guessesLeft, isExpired } from "./rules.js";

export type CheckResult =
  | { kind: "approved"; id: string }
  | { kind: "denied"; reason: "incorrect"; attemptsRemaining: number; id: string }
  | { kind: "denied"; reason: "expired" | "too_many_attempts" | "locked"; attemptsRemaining: 0 }
  /** unknown: no challenge was ever issued to this number or id (none is kept, at least). */
  | { kind: "denied"; reason: "no_pending_challenge"; attemptsRemaining: 0; unknown?: true };

interface PendingRow {
  id: string;
  code_mac: string | null;
  attempts: number;
  failures: number;
  max_attempts: number;
  expires_at: Date | string;
  /** The number's wrong guesses over 24 hours on its other challenges. */
  others: number | string;
}

const ts = (d: Date) => sql`${d.toISOString()}::timestamptz`;

/**
 * Checks a guess against the number's pending challenge (or the challenge with this
 * id), in one transaction: the challenge's row is locked, the guess judged here, and
 * the attempt, the verdict and the wiped code written before the lock is let go. So
 * concurrent guesses are judged one after another: they cannot pass the maximum, and
 * a right code is approved once. Besides the challenge's own maximum, the number's
 * wrong guesses over 24 hours are capped (the failed-guess lock, FAILED_VALIDATIONS):
 * only the pending challenge takes guesses, so the other challenges' failures cannot
 * change while its row is locked.
 */
export async function checkCode(deps: ChallengeDeps, target: { number: string } | { id: string }, guess: string): Promise<CheckResult> {
  const { database, keys, clock, limits } = deps;
  const now = clock.now();
  const which = "id" in target ? sql`c.id = ${target.id}` : sql`c.number = ${target.number}`;
  return database.transaction(async (tx): Promise<CheckResult> => {
    const [c] = await tx<PendingRow>(sql`
      select c.id, c.code_mac, c.attempts, c.failures, c.max_attempts, c.expires_at,
             ${failedGuesses(sql`c.number`, now, sql`c.id`)} as others
      from challenges c where ${which} and c.status = 'pending' for update of c`);
    if (!c) return whyNothingPending(await tx<{ status: string }>(sql`select status from challenges c where ${which} order by created_at desc limit 1`));

    const end = (status: string, counted: boolean) => tx(sql`
      update challenges set status = ${status}, code_mac = null, code_sealed = null, ended_at = ${ts(now)}
             ${counted ? sql`, attempts = attempts + 1, failures = failures + 1` : sql``}
      where id = ${c.id}`);
    if (isExpired(new Date(c.expires_at), now)) {
      await end("expired", false);
      return { kind: "denied", reason: "expired", attemptsRemaining: 0 };
    }
    const failures = Number(c.others) + c.failures;
    if (hasReached(FAILED_VALIDATIONS, failures, limits)) return { kind: "denied", reason: "locked", attemptsRemaining: 0 };
    // Constant time: both are MACs of our own making, but a timing difference must not tell how much of one matched.
    if (c.code_mac && timingSafeEqual(Buffer.from(macCode(keys, guess)), Buffer.from(c.code_mac))) {
      await end("approved", false);
      return { kind: "approved", id: c.id };
    }
    const after = { attempts: c.attempts + 1, maxAttempts: c.max_attempts };
    if (guessesLeft(after) === 0) await end("too_many_attempts", true);
    else await tx(sql`update challenges set attempts = attempts + 1, failures = failures + 1 where id = ${c.id}`);
    const lockIn = FAILED_VALIDATIONS.max(limits) - failures - 1;
    return { kind: "denied", reason: "incorrect", attemptsRemaining: Math.max(0, Math.min(guessesLeft(after), lockIn)), id: c.id };
  });
}

/** Why a guess found nothing to check, from the latest challenge of that number or id. */
function whyNothingPending([latest]: Array<{ status: string }>): CheckResult {
  if (latest?.status === "too_many_attempts") return { kind: "denied", reason: "too_many_attempts", attemptsRemaining: 0 };
  if (latest?.status === "expired") return { kind: "denied", reason: "expired", attemptsRemaining: 0 };
  return { kind: "denied", reason: "no_pending_challenge", attemptsRemaining: 0, ...(latest ? {} : { unknown: true as const }) };
}
