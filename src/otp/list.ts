import { sql, type SQL } from "drizzle-orm";
import { EVENTS_COLUMN, toView, VIEW_COLUMNS, type ChallengeRow, type ChallengeStatus, type ChallengeView } from "./challenges.js";
import type { ChallengeDeps } from "./deps.js";
import { expiredSql } from "./rules.js";

/**
 * A service's challenges, newest first, a page at a time. Pages are cut by keyset
 * (the last row's created_at and id) rather than by offset: a page costs the same
 * however deep it is, and challenges created meanwhile neither shift nor repeat
 * rows on later pages. challenges_service_created (service_id, created_at, id) serves
 * both the order and the cut.
 */

/** Where the next page starts: just after this row, in newest-first order. */
export interface Cursor {
  createdAt: Date;
  id: string;
}

export interface ListQuery {
  /** E.164, as stored. */
  number?: string;
  /** As the view shows it: a pending challenge past its expiry is listed as expired. */
  status?: ChallengeStatus;
  /** Created at or after. */
  since?: Date;
  /** Created before. */
  until?: Date;
  limit: number;
  after?: Cursor;
}

export interface ListPage {
  challenges: ChallengeView[];
  /** Where the next page starts; null on the last page. */
  next: Cursor | null;
}

const ts = (d: Date) => sql`${d.toISOString()}::timestamptz`;

/**
 * The cursor the API hands out: opaque to clients (base64url), but only a row's
 * position, so a forged one can show nothing the key could not list anyway.
 */
export const encodeCursor = (c: Cursor) => Buffer.from(`${c.createdAt.toISOString()} ${c.id}`).toString("base64url");

/** A cursor from encodeCursor, or null when the text is not one. */
export function decodeCursor(text: string): Cursor | null {
  if (!/^[\w-]{1,200}$/.test(text)) return null;
  const m = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z) ([\w-]{1,64})$/.exec(Buffer.from(text, "base64url").toString("utf8"));
  const createdAt = m ? new Date(m[1]!) : null;
  if (!m || !createdAt || Number.isNaN(createdAt.getTime())) return null;
  return { createdAt, id: m[2]! };
}

function statusIs(status: ChallengeStatus, now: Date): SQL {
  // The sweep ends expired challenges only every so often: until then the row still says pending.
  if (status === "pending") return sql`status = 'pending' and not (${expiredSql(now)})`;
  if (status === "expired") return sql`(status = 'expired' or (status = 'pending' and ${expiredSql(now)}))`;
  return sql`status = ${status}`;
}

/** One page of this service's challenges, with their call events: one statement. */
export async function listChallenges(deps: ChallengeDeps, serviceId: string, q: ListQuery): Promise<ListPage> {
  const now = deps.clock.now();
  const where: SQL[] = [sql`service_id = ${serviceId}`];
  if (q.number !== undefined) where.push(sql`number = ${q.number}`);
  if (q.status !== undefined) where.push(statusIs(q.status, now));
  if (q.since !== undefined) where.push(sql`created_at >= ${ts(q.since)}`);
  if (q.until !== undefined) where.push(sql`created_at < ${ts(q.until)}`);
  if (q.after !== undefined) where.push(sql`(created_at, id) < (${ts(q.after.createdAt)}, ${q.after.id}::text)`);
  // The page is cut first, then its events read for its rows alone; one row more than
  // asked for tells whether another page follows.
  const rows = await deps.database.rows<ChallengeRow>(sql`
    with page as (
      select ${VIEW_COLUMNS} from challenges c
      where ${sql.join(where, sql` and `)}
      order by c.created_at desc, c.id desc
      limit ${q.limit + 1})
    select c.*, ${EVENTS_COLUMN} from page c
    order by c.created_at desc, c.id desc`);
  const challenges = rows.slice(0, q.limit).map((r) => toView(r, now));
  const last = challenges.at(-1);
  return { challenges, next: rows.length > q.limit && last ? { createdAt: last.createdAt, id: last.id } : null };
}
