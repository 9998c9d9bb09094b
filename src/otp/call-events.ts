import { sql } from "drizzle-orm";
import { PROGRESS, progress, type CallStatus } from "./call-status.js";
import { enqueueEvents } from "../events/outbox.js";
import type { ChallengeDeps } from "./deps.js";

/** What the carrier reports of a challenge's call: the call it placed, and its progress. */

export { CALL_STATUSES, byProgress, type CallStatus } from "./call-status.js";

/** The same ranking for the statement that moves a stored call forward: generated from PROGRESS. */
const progressSql = sql.raw(
  `(case challenges.call_status ${Object.entries(PROGRESS).map(([s, n]) => `when '${s}' then ${n}`).join(" ")} else -1 end)`,
);

/** A call that ends so was never answered: nobody heard the code. */
const UNANSWERED = new Set<string>(["busy", "no-answer", "failed", "canceled"]);

const ts = (d: Date) => sql`${d.toISOString()}::timestamptz`;

/** The carrier accepted the call: remember its id and the first event (one statement). */
export async function recordCallPlaced(deps: ChallengeDeps, id: string, callSid: string, status: string): Promise<void> {
  await deps.database.rows(sql`
    with placed as (
      update challenges set call_sid = ${callSid}, call_status = coalesce(call_status, ${status}) where id = ${id} returning id)
    insert into call_events (challenge_id, call_sid, status, at)
    select id, ${callSid}, ${status}, ${ts(deps.clock.now())} from placed
    on conflict do nothing`);
}

/**
 * Records a call progress event, in one statement. Events only move the call forward,
 * and only for the call placed for this challenge: a replayed or late event (ringing
 * after completed) changes nothing. A call that was never answered ends its challenge,
 * since nobody heard the code; any ended call wipes the sealed copy it was read from.
 */
export async function recordCallEvent(
  deps: ChallengeDeps,
  event: { challengeId: string; callSid: string; status: CallStatus; answeredBy?: string },
): Promise<{ recorded: boolean; serviceId?: string }> {
  const at = ts(deps.clock.now());
  const ends = UNANSWERED.has(event.status);
  // Once the call is over nobody needs to hear the code again: its sealed copy goes, ours or
  // the caller's, whether or not the challenge ends. The MAC stays for /validate-auth.
  const over = progress(event.status) === PROGRESS.completed;
  // The backend hears that the call was answered, or that it never was (and why).
  const told = event.status === "in-progress" ? enqueueEvents(sql`moved s`, "call.answered", null, deps.clock.now())
    : ends ? enqueueEvents(sql`moved s`, "call.unanswered", event.status, deps.clock.now()) : undefined;
  const rows = await deps.database.rows(sql`
    with moved as (
      update challenges set call_status = ${event.status}, call_sid = ${event.callSid},
             answered_by = coalesce(${event.answeredBy ?? null}, answered_by)
             ${over ? sql`, code_sealed = null` : sql``}
             ${ends ? sql`, status = case when status = 'pending' then 'failed' else status end,
                 failure_code = case when status = 'pending' then ${`call-${event.status}`} else failure_code end,
                 code_mac = case when status = 'pending' then null else code_mac end,
                 ended_at = case when status = 'pending' then ${at} else ended_at end` : sql``}
      where id = ${event.challengeId} and (call_sid is null or call_sid = ${event.callSid}) and ${progressSql} < ${progress(event.status)}
      returning id, service_id, number, status, attempts)
    ${told ? sql`, told as (${told})` : sql``}
    insert into call_events (challenge_id, call_sid, status, at)
    select id, ${event.callSid}, ${event.status}, ${at} from moved
    on conflict do nothing
    returning (select service_id from moved) as service_id`);
  const [row] = rows as Array<{ service_id: string }>;
  return row ? { recorded: true, serviceId: row.service_id } : { recorded: false };
}

/** The carrier refused or could not be reached: the challenge ends and its code is wiped. */
export async function markFailed(deps: ChallengeDeps, id: string, failureCode: string): Promise<void> {
  await deps.database.rows(sql`
    with failed as (
      update challenges set status = 'failed', failure_code = ${failureCode},
             code_mac = null, code_sealed = null, ended_at = ${ts(deps.clock.now())}
      where id = ${id} and status = 'pending'
      returning id, service_id, number, status, attempts)
    ${enqueueEvents(sql`failed s`, "challenge.failed", failureCode, deps.clock.now())}`);
}

/** Of these challenges, those whose call may still ask for its code: pending, and the call not ended. */
export async function callsStillOn(deps: ChallengeDeps, ids: string[]): Promise<string[]> {
  if (ids.length === 0) return [];
  const rows = await deps.database.rows<{ id: string }>(sql`
    select id from challenges
    where id in (${sql.join(ids.map((id) => sql`${id}`), sql`, `)}) and status = 'pending' and ${progressSql} < ${PROGRESS.completed}`);
  return rows.map((r) => r.id);
}

/**
 * A machine or a fax answered and heard no code: remembers what answered (when the voice
 * webhook says) and tells the backend, in one statement.
 */
export async function recordMachine(deps: ChallengeDeps, id: string, answeredBy: string | undefined): Promise<void> {
  await deps.database.rows(sql`
    with machine as (
      update challenges set answered_by = coalesce(${answeredBy ?? null}, answered_by) where id = ${id}
      returning id, service_id, number, status, attempts, answered_by)
    ${enqueueEvents(sql`machine s`, "call.machine", sql`s.answered_by`, deps.clock.now())}`);
}

/** What answered the call, as the carrier last reported it (a status callback may have told it first). */
export async function recordedAnsweredBy(deps: ChallengeDeps, id: string): Promise<string | null> {
  const [row] = await deps.database.rows<{ answered_by: string | null }>(sql`select answered_by from challenges where id = ${id}`);
  return row?.answered_by ?? null;
}
