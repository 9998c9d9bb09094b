import { sql } from "drizzle-orm";
import type { Database } from "../db/open.js";

/**
 * The outbox as an operator sees it (`voice-otp events list` and `events retry`): what was
 * sent, what is waiting, what failed and why, and sending a failed event once more.
 */

export type EventState = "pending" | "delivered" | "failed";

export interface StoredEvent {
  id: string;
  serviceId: string;
  challengeId: string | null;
  type: string;
  state: EventState;
  attempts: number;
  lastStatus: number | null;
  lastError: string | null;
  createdAt: Date;
  nextAttemptAt: Date;
  deliveredAt: Date | null;
}

interface Row {
  id: string;
  service_id: string;
  challenge_id: string | null;
  type: string;
  state: EventState;
  attempts: number;
  last_status: number | null;
  last_error: string | null;
  created_at: string | Date;
  next_attempt_at: string | Date;
  delivered_at: string | Date | null;
  claimed_until?: string | Date | null;
}

const COLUMNS = sql`id, service_id, challenge_id, type, state, attempts, last_status, last_error, created_at, next_attempt_at, delivered_at`;
const ts = (d: Date) => sql`${d.toISOString()}::timestamptz`;

const fromRow = (r: Row): StoredEvent => ({
  id: r.id,
  serviceId: r.service_id,
  challengeId: r.challenge_id,
  type: r.type,
  state: r.state,
  attempts: Number(r.attempts),
  lastStatus: r.last_status === null ? null : Number(r.last_status),
  lastError: r.last_error,
  createdAt: new Date(r.created_at),
  nextAttemptAt: new Date(r.next_attempt_at),
  deliveredAt: r.delivered_at === null ? null : new Date(r.delivered_at),
});

/** The newest events first: all of them, or one state's, or one service's. */
export async function listEvents(database: Database, query: { state?: EventState; serviceId?: string; limit: number }): Promise<StoredEvent[]> {
  const where = [
    query.state ? sql`state = ${query.state}` : undefined,
    query.serviceId ? sql`service_id = ${query.serviceId}` : undefined,
  ].filter((w) => w !== undefined);
  const rows = await database.rows<Row>(sql`
    select ${COLUMNS} from events ${where.length ? sql`where ${sql.join(where, sql` and `)}` : sql``}
    order by created_at desc, id desc limit ${query.limit}`);
  return rows.map(fromRow);
}

export type RetryResult =
  | { kind: "retried"; event: StoredEvent }
  | { kind: "not_found" }
  | { kind: "delivered"; event: StoredEvent }
  /** An instance is sending it at this moment: a second sender now would deliver it twice at once. */
  | { kind: "in_flight"; until: Date };

/**
 * Sends a failed or pending event at the next turn of any instance's dispatcher: due now,
 * unclaimed, and a failed one with its attempts back to 0, so it gets the whole backoff
 * schedule again. Its id (the receiver's deduplication key) stays the same.
 */
export async function retryEvent(database: Database, id: string, now: Date): Promise<RetryResult> {
  const [row] = await database.rows<Row>(sql`
    update events set state = 'pending', next_attempt_at = ${ts(now)}, claimed_until = null,
      attempts = case when state = 'failed' then 0 else attempts end
    where id = ${id} and state in ('pending', 'failed') and (claimed_until is null or claimed_until <= ${ts(now)})
    returning ${COLUMNS}`);
  if (row) return { kind: "retried", event: fromRow(row) };
  const [found] = await database.rows<Row>(sql`select ${COLUMNS}, claimed_until from events where id = ${id}`);
  if (!found) return { kind: "not_found" };
  if (found.state === "delivered") return { kind: "delivered", event: fromRow(found) };
  return { kind: "in_flight", until: found.claimed_until ? new Date(found.claimed_until) : now };
}

/** One UTC day of a service's events, by how their delivery stands. */
export interface DeliveryDay {
  /** YYYY-MM-DD. */
  day: string;
  delivered: number;
  /** Pending after at least one failed attempt: the receiver is failing, the retries go on. */
  retrying: number;
  /** Given up after a day of retries. */
  failed: number;
}

const DAY_MS = 86_400_000;

/**
 * A service's events created in a range, counted per UTC day by delivery state (every day
 * of the range, quiet ones too, so a chart shows them as zeros), and the newest ones whose
 * delivery is failing: given up, or pending after a failed attempt.
 */
export async function deliveries(
  database: Database,
  serviceId: string,
  range: { since: Date; until: Date; failingLimit: number },
): Promise<{ days: DeliveryDay[]; failing: StoredEvent[] }> {
  const within = sql`service_id = ${serviceId} and created_at >= ${ts(range.since)} and created_at < ${ts(range.until)}`;
  const failingNow = sql`(state = 'failed' or (state = 'pending' and attempts > 0))`;
  const [counts, failing] = await Promise.all([
    database.rows<{ day: string; delivered: string | number; retrying: string | number; failed: string | number }>(sql`
      select to_char(created_at at time zone 'UTC', 'YYYY-MM-DD') as day,
             count(*) filter (where state = 'delivered') as delivered,
             count(*) filter (where state = 'pending' and attempts > 0) as retrying,
             count(*) filter (where state = 'failed') as failed
      from events where ${within} group by 1`),
    database.rows<Row>(sql`
      select ${COLUMNS} from events where ${within} and ${failingNow}
      order by created_at desc, id desc limit ${range.failingLimit}`),
  ]);
  const byDay = new Map(counts.map((r) => [r.day, r]));
  const days: DeliveryDay[] = [];
  for (let d = Math.floor(range.since.getTime() / DAY_MS) * DAY_MS; d < range.until.getTime(); d += DAY_MS) {
    const day = new Date(d).toISOString().slice(0, 10);
    const r = byDay.get(day);
    days.push({ day, delivered: Number(r?.delivered ?? 0), retrying: Number(r?.retrying ?? 0), failed: Number(r?.failed ?? 0) });
  }
  return { days, failing: failing.map(fromRow) };
}
