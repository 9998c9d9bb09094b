import { sql, type SQL } from "drizzle-orm";
import { statement } from "../db/open.js";
import { batched, onePer, rowsByOrd } from "../db/batch.js";
import { lockedInIdOrder } from "./row-locks.js";
import type { Database } from "../db/open.js";
import type { ChallengeDeps } from "./challenges.js";

/**
 * What the carrier reports of a challenge's call: the call it placed, and its progress
 * from status callbacks. Reports that arrive together are written by one statement,
 * one row each (src/db/batch.ts): a call that rings is written three times (issued,
 * placed, ringing), and most of that work is fixed per statement.
 */

export const CALL_STATUSES = [
  "queued",
  "initiated",
  "ringing",
  "in-progress",
  "completed",
  "busy",
  "no-answer",
  "failed",
  "canceled",
] as const;
export type CallStatus = (typeof CALL_STATUSES)[number];
/** A call that ends so was never answered: nobody heard the code. */
const UNANSWERED: CallStatus[] = ["busy", "no-answer", "failed", "canceled"];

/** How far along a call is: events only move it forward. */
export const rank = (column: SQL) => sql`(case ${column}
  when 'queued' then 0 when 'initiated' then 1 when 'ringing' then 2 when 'in-progress' then 3
  when 'completed' then 4 when 'busy' then 4 when 'no-answer' then 4 when 'failed' then 4 when 'canceled' then 4
  else -1 end)`;

const p = (name: string) => sql.placeholder(name);

interface Placed {
  id: string;
  callSid: string;
  status: string;
  at: Date;
}

// Times travel as text[]: drizzle's postgres.js driver leaves timestamptz[] parameters unserialised.
const placedStatement = statement<{ ord: number }>(sql`
  with i as (
    select t.id, t.call_sid, t.status, t.at, t.ord::int as ord
    from unnest(${p("ids")}::text[], ${p("callSids")}::text[], ${p("statuses")}::text[], ${p("ats")}::text[]::timestamptz[])
      with ordinality as t(id, call_sid, status, at, ord)
  ), locked as (${lockedInIdOrder(sql`select id from i`)}
  ), u as (
    update challenges c set call_sid = i.call_sid, call_status = coalesce(c.call_status, i.status)
    from i join locked on locked.id = i.id where c.id = i.id
    returning c.id, i.call_sid, i.status, i.at, i.ord
  ), noted as (
    -- Runs whether or not the query reads it, as every data-modifying WITH does.
    insert into call_events (challenge_id, call_sid, status, at)
    select id, call_sid, status, at from u
    on conflict do nothing
  )
  select ord from u`);

const placers = onePer((database: Database) =>
  batched<Placed, undefined>({
    key: (r) => r.id,
    run: async (records) => {
      await rowsByOrd(records, (sorted) =>
        placedStatement(database, {
          ids: sorted.map((r) => r.id),
          callSids: sorted.map((r) => r.callSid),
          statuses: sorted.map((r) => r.status),
          ats: sorted.map((r) => r.at.toISOString()),
        }),
      );
      return records.map(() => undefined);
    },
  }),
);

/** The carrier accepted the call: remember its id and the first event. */
export async function recordCallPlaced(deps: ChallengeDeps, id: string, callSid: string, status: string): Promise<void> {
  await placers(deps.database, { id, callSid, status, at: deps.clock.now() });
}

interface CallEvent {
  challengeId: string;
  callSid: string;
  status: CallStatus;
  answeredBy?: string;
  at: Date;
}

const eventStatement = statement<{ ord: number }>(sql`
  with i as (
    select t.id, t.call_sid, t.status, t.answered_by, t.at, t.ord::int as ord,
           t.status in (${sql.join(UNANSWERED.map((s) => sql.raw(`'${s}'`)), sql`, `)}) as ends
    from unnest(${p("ids")}::text[], ${p("callSids")}::text[], ${p("statuses")}::text[], ${p("answeredBys")}::text[],
                ${p("ats")}::text[]::timestamptz[])
      with ordinality as t(id, call_sid, status, answered_by, at, ord)
  ), locked as (${lockedInIdOrder(sql`select id from i`)}
  ), moved as (
    update challenges c set
      call_status = i.status,
      call_sid = coalesce(c.call_sid, i.call_sid),
      answered_by = coalesce(i.answered_by, c.answered_by),
      status = case when i.ends and c.status = 'pending' then 'failed' else c.status end,
      failure_code = case when i.ends and c.status = 'pending' then 'call-' || i.status else c.failure_code end,
      code_mac = case when i.ends and c.status = 'pending' then null else c.code_mac end,
      code_sealed = case when i.ends and c.status = 'pending' then null else c.code_sealed end,
      ended_at = case when i.ends and c.status = 'pending' then i.at else c.ended_at end
    from i join locked on locked.id = i.id
    where c.id = i.id
      and (c.call_sid is null or c.call_sid = i.call_sid)
      and ${rank(sql`c.call_status`)} < ${rank(sql`i.status`)}
    returning c.id, i.call_sid, i.status, i.at, i.ord
  ), recorded as (
    insert into call_events (challenge_id, call_sid, status, at)
    select id, call_sid, status, at from moved
    on conflict do nothing
    returning challenge_id
  )
  select moved.ord from moved join recorded on recorded.challenge_id = moved.id`);

const recorders = onePer((database: Database) =>
  batched<CallEvent, boolean>({
    key: (e) => e.challengeId,
    run: async (events) =>
      (
        await rowsByOrd(events, (sorted) =>
          eventStatement(database, {
            ids: sorted.map((e) => e.challengeId),
            callSids: sorted.map((e) => e.callSid),
            statuses: sorted.map((e) => e.status),
            answeredBys: sorted.map((e) => e.answeredBy ?? null),
            ats: sorted.map((e) => e.at.toISOString()),
          }),
        )
      ).map((row) => row !== undefined),
  }),
);

/**
 * Records a call progress event. Events only move the call forward: a replayed
 * or late event (ringing after completed) changes nothing. A call that was never
 * answered ends its challenge, since nobody heard the code.
 */
export async function recordCallEvent(
  deps: ChallengeDeps,
  event: { challengeId: string; callSid: string; status: CallStatus; answeredBy?: string },
): Promise<{ recorded: boolean }> {
  return { recorded: await recorders(deps.database, { ...event, at: deps.clock.now() }) };
}

/** The carrier refused or could not be reached: the challenge ends and its code is wiped. */
export async function markFailed(deps: ChallengeDeps, id: string, failureCode: string): Promise<void> {
  const now = deps.clock.now().toISOString();
  await deps.database.rows(sql`
    update challenges set status = 'failed', failure_code = ${failureCode},
           code_mac = null, code_sealed = null, ended_at = ${now}::timestamptz
    where id = ${id} and status = 'pending'`);
}

/** Remembers what answered the call (AnsweredBy) when the voice webhook reports it. */
export async function recordAnsweredBy(deps: ChallengeDeps, id: string, answeredBy: string): Promise<void> {
  await deps.database.rows(sql`update challenges set answered_by = ${answeredBy} where id = ${id}`);
}
