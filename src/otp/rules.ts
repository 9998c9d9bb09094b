import { sql } from "drizzle-orm";

/**
 * The challenge's own rules, each decided here and nowhere else: when a code has
 * expired, and how many guesses it has left.
 */

/** A code is good until its expiry instant, and not at that instant. */
export const isExpired = (expiresAt: Date, now: Date) => expiresAt.getTime() <= now.getTime();

/** The same rule, for a statement over many rows (the housekeeping sweep). */
export const expiredSql = (now: Date) => sql`expires_at <= ${now.toISOString()}::timestamptz`;

export interface GuessCount {
  attempts: number;
  maxAttempts: number;
}

/** A challenge takes maxAttempts wrong guesses, counting those carried over from the ones it replaced. */
export const guessesLeft = (c: GuessCount) => Math.max(0, c.maxAttempts - c.attempts);

export interface EarlierChallenge {
  status: string;
  attempts: number;
  expiresAt: Date;
}

/**
 * Wrong guesses carry over: a new challenge for a number starts with the most that any
 * of its unexpired, unapproved challenges has used, so a resend never refills the
 * budget. When that already spends it, no call is placed until those challenges expire.
 */
export function carriedGuesses(earlier: readonly EarlierChallenge[], maxAttempts: number, now: Date) {
  const live = earlier.filter((c) => c.status !== "approved" && !isExpired(c.expiresAt, now));
  const attempts = Math.max(0, ...live.map((c) => c.attempts));
  const spent = live.filter((c) => c.attempts >= maxAttempts).map((c) => c.expiresAt.getTime());
  return { attempts, exhaustedUntil: attempts >= maxAttempts ? new Date(Math.max(...spent)) : null };
}
