import { sql, type SQL } from "drizzle-orm";
import type { Database } from "../db/open.js";

/**
 * The outbox's statements for delivery. An instance claims an event by setting a lease
 * (claimed_until) on it; while the lease runs no other instance claims it, and every
 * outcome is written only by the holder of that very lease. An instance that dies
 * holding one leaves the event to whoever claims it after the lease: at least once.
 */

export interface ClaimedEvent {
  id: string;
  serviceId: string;
  type: string;
  /** The exact bytes to send, the same on every attempt. */
  body: string;
  /** Attempts so far, this one included. */
  attempts: number;
  createdAt: Date;
  /** The lease this instance holds. */
  claimedUntil: Date;
}

const ts = (d: Date) => sql`${d.toISOString()}::timestamptz`;

/**
 * Claims up to `limit` due events, at most `perEndpoint` minus those already in flight
 * (`busy`) for each service, in one statement. Each service with due events gets its
 * share first, oldest first within it, so one service's backlog does not keep another's
 * events waiting. SKIP LOCKED: two instances claiming at the same moment take different
 * rows instead of waiting for each other.
 */
export async function claimDue(
  database: Database,
  opts: { now: Date; until: Date; limit: number; perEndpoint: number; busy: ReadonlyMap<string, number> },
): Promise<ClaimedEvent[]> {
  const now = ts(opts.now);
  const due = sql`state = 'pending' and next_attempt_at <= ${now} and (claimed_until is null or claimed_until <= ${now})`;
  // As text, then jsonb: postgres.js would send a string given for a jsonb parameter as a JSON string.
  const busy = JSON.stringify(Object.fromEntries(opts.busy));
  const inFlight = (service: SQL) => sql`coalesce((${busy}::text::jsonb ->> ${service})::int, 0)`;
  // Window functions cannot share a query level with FOR UPDATE, hence the ranking in a
  // step of its own over the rows the lateral subqueries locked.
  const rows = await database.rows<{ id: string; service_id: string; type: string; body: string; attempts: number; created_at: string | Date }>(sql`
    with services as (
      select distinct service_id from events where ${due} and ${inFlight(sql`service_id`)} < ${opts.perEndpoint}
    ), locked as (
      select e.id, e.service_id, e.next_attempt_at from services s cross join lateral (
        select id, service_id, next_attempt_at from events
        where service_id = s.service_id and ${due}
        order by next_attempt_at
        limit ${opts.perEndpoint}
        for update skip locked) e
    ), ranked as (
      select id, next_attempt_at,
             ${inFlight(sql`service_id`)} + row_number() over (partition by service_id order by next_attempt_at, id) as slot
      from locked
    ), chosen as (
      select id from ranked where slot <= ${opts.perEndpoint} order by slot, next_attempt_at, id limit ${opts.limit}
    )
    update events set claimed_until = ${ts(opts.until)}, attempts = events.attempts + 1
    from chosen where events.id = chosen.id
    returning events.id, events.service_id, events.type, events.body, events.attempts, events.created_at`);
  return rows.map((r) => ({
    id: r.id,
    serviceId: r.service_id,
    type: r.type,
    body: r.body,
    attempts: Number(r.attempts),
    createdAt: new Date(r.created_at),
    claimedUntil: opts.until,
  }));
}

/** How a claimed event's attempt ends. */
export type Settlement =
  | { state: "delivered"; at: Date; status: number }
  /** attempted: false when nothing was sent (no endpoint), so the attempt is not counted. */
  | { state: "failed"; at: Date; status: number | null; error: string; attempted: boolean }
  | { state: "retry"; next: Date; status: number | null; error: string };

/**
 * Writes the outcome, if this instance still holds the event's lease. False: the lease
 * ran out and another instance claimed the event (or an operator retried it), whose
 * outcome then counts instead.
 */
export async function settle(database: Database, event: ClaimedEvent, s: Settlement): Promise<boolean> {
  const set =
    s.state === "delivered"
      ? sql`state = 'delivered', delivered_at = ${ts(s.at)}, last_status = ${s.status}, last_error = null`
      : s.state === "failed"
        ? sql`state = 'failed', last_status = ${s.status}, last_error = ${s.error}${s.attempted ? sql`` : sql`, attempts = attempts - 1`}`
        : sql`next_attempt_at = ${ts(s.next)}, last_status = ${s.status}, last_error = ${s.error}`;
  const rows = await database.rows(sql`
    update events set ${set}, claimed_until = null
    where id = ${event.id} and state = 'pending' and claimed_until = ${ts(event.claimedUntil)}
    returning id`);
  return rows.length > 0;
}

/** Events waiting for delivery, by service. */
export async function countPending(database: Database): Promise<Map<string, number>> {
  const rows = await database.rows<{ service_id: string; n: number | string }>(
    sql`select service_id, count(*) as n from events where state = 'pending' group by service_id`,
  );
  return new Map(rows.map((r) => [r.service_id, Number(r.n)]));
}
