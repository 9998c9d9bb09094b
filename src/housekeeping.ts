import { sql } from "drizzle-orm";
import type { Logger } from "pino";
import type { Database } from "./db/open.js";
import type { Clock } from "./otp/clock.js";
import { enqueueEvents } from "./events/outbox.js";
import { expiredSql } from "./otp/rules.js";
import { deleteRetiredKeys } from "./tokens/keys.js";

/**
 * The periodic sweep. Each step is one idempotent statement, so several instances
 * may sweep at once: the second finds nothing left to do.
 */

export interface SweepResult {
  /** Pending challenges past their expiry, ended and their code material wiped. */
  expired: number;
  /** Ended challenges older than the retention, deleted with their call events. */
  purged: number;
  /** Request-rate windows that have closed. */
  windows: number;
}

const ts = (d: Date) => sql`${d.toISOString()}::timestamptz`;

export async function sweep(database: Database, now: Date, retentionHours: number): Promise<SweepResult> {
  // An expired code can no longer be read or accepted; this wipes it from the table too.
  const expired = await database.rows(sql`
    with expired as (
      update challenges set status = 'expired', code_mac = null, code_sealed = null, ended_at = expires_at
      where status = 'pending' and ${expiredSql(now)}
      returning id, service_id, number, status, attempts, expires_at),
    told as (${enqueueEvents(sql`expired s`, "challenge.expired", "expired", sql`s.expires_at`)})
    select id from expired`);
  // created_at bounds the scan by index; a challenge ends after it is created, so the
  // ended_at test alone decides. Retention is at least the limits' 24-hour window.
  const cutoff = ts(new Date(now.getTime() - retentionHours * 3600_000));
  const purged = await database.rows(sql`
    delete from challenges
    where created_at < ${cutoff} and status <> 'pending' and coalesce(ended_at, expires_at) < ${cutoff}
    returning id`);
  const windows = await database.rows(sql`
    delete from rate_windows where window_start < ${ts(new Date(now.getTime() - 120_000))} returning bucket`);
  // The spend cap reads the last 24 hourly rows; older ones count for nothing.
  await database.rows(sql`delete from call_counts where hour < ${ts(new Date(now.getTime() - 25 * 3600_000))}`);
  await database.rows(sql`delete from idempotency_keys where created_at < ${ts(new Date(now.getTime() - 24 * 3600_000))}`);
  // The statistics' refusals, kept as long as the challenges they sit beside: a day goes once all of it is past the retention.
  await database.rows(sql`delete from limit_refusals where day < ${cutoff} - interval '1 day'`);
  // Events delivered or given up on, kept as long as the challenges they report.
  await database.rows(sql`delete from events where state <> 'pending' and created_at < ${cutoff}`);
  // Token-signing keys retired long enough ago that no token of theirs still verifies.
  await deleteRetiredKeys(database, now);
  return { expired: expired.length, purged: purged.length, windows: windows.length };
}

export interface Housekeeper {
  stop(): Promise<void>;
}

/** Runs the sweep every intervalMs (jittered, so instances drift apart) until stopped. */
export function startHousekeeping(opts: {
  database: Database;
  clock: Clock;
  logger: Logger;
  retentionHours: number;
  intervalMs?: number;
}): Housekeeper {
  const interval = opts.intervalMs ?? 30_000;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let stopped = false;
  const schedule = () => {
    if (stopped) return;
    timer = setTimeout(tick, interval * (0.8 + Math.random() * 0.4));
    timer.unref();
  };
  const tick = () => {
    running = sweep(opts.database, opts.clock.now(), opts.retentionHours)
      .then((r) => {
        if (r.expired || r.purged) opts.logger.info(r, "housekeeping");
      })
      // A sweep that fails (database down) is retried at the next tick; nothing depends on it.
      .catch((err: Error) => opts.logger.warn({ err: err.message }, "housekeeping sweep failed; will retry"))
      .finally(schedule);
  };
  schedule();
  return {
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
  };
}
