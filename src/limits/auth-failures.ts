/**
 * Failed authentications per client address per minute (AUTH_FAILURES in rules.ts),
 * counted in this instance's memory in fixed one-minute windows. Not in the database:
 * its point is that a stream of bogus keys costs no query, and a write per failure
 * would be one. Each instance thus allows up to the limit on its own. The table holds at
 * most MAX_ADDRESSES windows; past that the oldest is dropped.
 */

const MAX_ADDRESSES = 10_000;

export interface AuthFailures {
  /** Seconds until this address may try again, or null when it is under the limit. */
  refusal(address: string, now: Date): number | null;
  /** Counts one failed authentication from this address. */
  fail(address: string, now: Date): void;
}

export function authFailures(perMinute: number): AuthFailures {
  const windows = new Map<string, { start: number; count: number }>();
  const windowOf = (now: Date) => Math.floor(now.getTime() / 60_000) * 60_000;
  return {
    refusal(address, now) {
      const w = windows.get(address);
      const start = windowOf(now);
      if (!w || w.start !== start || w.count < perMinute) return null;
      return Math.max(1, Math.ceil((start + 60_000 - now.getTime()) / 1000));
    },
    fail(address, now) {
      const start = windowOf(now);
      const w = windows.get(address);
      if (w && w.start === start) {
        w.count++;
        return;
      }
      windows.delete(address);
      if (windows.size >= MAX_ADDRESSES) windows.delete(windows.keys().next().value!);
      windows.set(address, { start, count: 1 });
    },
  };
}
