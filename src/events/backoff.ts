/**
 * When a failed delivery is tried again, and when we stop trying.
 *
 * The wait after the n-th failed attempt is drawn at random between 0 and
 * base × 3^(n-1), capped at 4 hours ("full jitter"). With the default base of 5 s the
 * ceilings run 5 s, 15 s, 45 s, 2¼ min, 6¾ min, 20 min, 1 h, 3 h, then 4 h each time,
 * and an event is given up once its next attempt would fall more than a day after the
 * event was written: about twenty attempts in all. An event first tried late (every
 * instance was down) or retried by hand after it failed still gets at least the attempts
 * whose longest waits add up to a day (13 with the default base) before it fails again.
 *
 * Why this shape: the short early waits catch a receiver that blinked (a deploy, a
 * restart) within a minute; the long later ones outlast an outage of hours without
 * hammering a receiver that is down; the 4-hour cap keeps a few attempts in the last
 * hours of the day, so a receiver fixed in the evening still gets the morning's events.
 * The jitter spreads the retries of many events, so a receiver coming back is not hit
 * by all of them in the same second. Past the day (issue 21's bound) the event stays in
 * the outbox as failed, where `voice-otp events retry` can send it again.
 */

/** An event still undelivered this long after it was written is marked failed. */
export const GIVE_UP_AFTER_MS = 24 * 3600_000;
/** No wait between two attempts is longer than this. */
export const MAX_WAIT_MS = 4 * 3600_000;

/** The longest wait after the attempts-th failed attempt (attempts counts from 1). */
export function waitCeilingMs(attempts: number, baseMs: number): number {
  return Math.min(MAX_WAIT_MS, baseMs * 3 ** Math.max(0, attempts - 1));
}

/** The fewest attempts an event gets: those whose longest waits add up to a day. */
export function minimumAttempts(baseMs: number): number {
  let n = 0;
  for (let waited = 0; waited < GIVE_UP_AFTER_MS; waited += waitCeilingMs(n, baseMs)) n++;
  return n;
}

/**
 * When to try again after the attempts-th attempt failed at `now`, or null when that
 * would fall past the day after `createdAt` and the event has had its minimum of
 * attempts: it is then given up.
 */
export function nextAttemptAt(attempts: number, baseMs: number, createdAt: Date, now: Date, random: () => number = Math.random): Date | null {
  const at = new Date(now.getTime() + Math.floor(random() * waitCeilingMs(attempts, baseMs)));
  const late = at.getTime() - createdAt.getTime() > GIVE_UP_AFTER_MS;
  return late && attempts >= minimumAttempts(baseMs) ? null : at;
}
