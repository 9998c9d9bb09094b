import { sql, type SQL } from "drizzle-orm";

/**
 * Events for the backend, written to the outbox (the `events` table) by the very
 * statement that makes the change they report: an event exists if and only if its change
 * committed, and a process that dies after the commit leaves it for delivery on restart.
 * Only events the service's endpoint wants are written, so a deployment without event
 * webhooks writes none.
 */

export const EVENT_TYPES = [
  "call.answered",
  "call.unanswered",
  "call.machine",
  "challenge.approved",
  "challenge.expired",
  "challenge.too_many_attempts",
  "challenge.locked",
  "challenge.canceled",
  "challenge.failed",
] as const;

export type EventType = (typeof EVENT_TYPES)[number];

export const isEventType = (t: string): t is EventType => (EVENT_TYPES as readonly string[]).includes(t);

/**
 * An INSERT of one event per row of `rows`, a relation (usually a CTE's name, aliased `s`)
 * with the challenge's id, service_id, number, status and attempts. `type`, `reason` and
 * `at` are expressions over it (or constants); a row whose type is null gets no event. The
 * body never holds the code: the challenge's columns named here are all it reads.
 */
export function enqueueEvents(rows: SQL, eventType: EventType | SQL, eventReason: string | null | SQL, at: Date | SQL): SQL {
  // A statement that changes many rows at their own instants passes a column for `at`.
  const when = at instanceof Date ? sql`${at.toISOString()}::timestamptz` : at;
  const type = typeof eventType === "string" ? sql`${eventType}::text` : eventType;
  const reason = eventReason === null || typeof eventReason === "string" ? sql`${eventReason}::text` : eventReason;
  return sql`
    insert into events (id, service_id, challenge_id, type, body, next_attempt_at, created_at)
    select 'msg_' || replace(gen_random_uuid()::text, '-', ''), s.service_id, s.id, ${type},
           json_build_object('type', ${type}, 'timestamp', to_char(${when} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'), 'data', json_build_object(
             'challenge_id', s.id, 'service', s.service_id, 'number', s.number, 'status', s.status,
             'reason', ${reason}, 'attempts_used', s.attempts))::text,
           ${when}, ${when}
    from ${rows}
    join webhook_endpoints e on e.service_id = s.service_id and e.disabled_at is null
    where ${type} is not null and (e.event_types is null or ${type} = any(e.event_types))`;
}
