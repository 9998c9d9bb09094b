import { sql } from "drizzle-orm";
import { progress, type CallStatus } from "./call-status.js";
import type { ChallengeDeps } from "./challenges.js";

/** What the carrier reports of a challenge's call: the call it placed, and its progress. */

export { CALL_STATUSES, byProgress, type CallStatus } from "./call-status.js";

/** A call that ends so was never answered: nobody heard the code. */
const UNANSWERED = new Set<string>(["busy", "no-answer", "failed", "canceled"]);

const ts = (d: Date) => sql`${d.toISOString()}::timestamptz`;

/** The carrier accepted the call: remember its id and the first event. */
export async function recordCallPlaced(deps: ChallengeDeps, id: string, callSid: string, status: string): Promise<void> {
  const at = deps.clock.now();
  await deps.database.transaction(async (tx) => {
    await tx(sql`update challenges set call_sid = ${callSid}, call_status = coalesce(call_status, ${status}) where id = ${id}`);
    await tx(sql`
      insert into call_events (challenge_id, call_sid, status, at) values (${id}, ${callSid}, ${status}, ${ts(at)})
      on conflict do nothing`);
  });
}

/**
 * Records a call progress event. Events only move the call forward, and only for the
 * call placed for this challenge: a replayed or late event (ringing after completed)
 * changes nothing. A call that was never answered ends its challenge, since nobody
 * heard the code.
 */
export async function recordCallEvent(
  deps: ChallengeDeps,
  event: { challengeId: string; callSid: string; status: CallStatus; answeredBy?: string },
): Promise<{ recorded: boolean }> {
  const at = deps.clock.now();
  const recorded = await deps.database.transaction(async (tx) => {
    const [c] = await tx<{ status: string; call_sid: string | null; call_status: string | null }>(sql`
      select status, call_sid, call_status from challenges where id = ${event.challengeId} for update`);
    if (!c || (c.call_sid !== null && c.call_sid !== event.callSid) || progress(c.call_status) >= progress(event.status)) return false;
    const ends = UNANSWERED.has(event.status) && c.status === "pending";
    await tx(sql`
      update challenges set call_status = ${event.status}, call_sid = ${event.callSid},
             answered_by = coalesce(${event.answeredBy ?? null}, answered_by)
             ${ends ? sql`, status = 'failed', failure_code = ${`call-${event.status}`}, code_mac = null, code_sealed = null, ended_at = ${ts(at)}` : sql``}
      where id = ${event.challengeId}`);
    const inserted = await tx(sql`
      insert into call_events (challenge_id, call_sid, status, at) values (${event.challengeId}, ${event.callSid}, ${event.status}, ${ts(at)})
      on conflict do nothing returning id`);
    return inserted.length > 0;
  });
  return { recorded };
}

/** The carrier refused or could not be reached: the challenge ends and its code is wiped. */
export async function markFailed(deps: ChallengeDeps, id: string, failureCode: string): Promise<void> {
  await deps.database.rows(sql`
    update challenges set status = 'failed', failure_code = ${failureCode},
           code_mac = null, code_sealed = null, ended_at = ${ts(deps.clock.now())}
    where id = ${id} and status = 'pending'`);
}

/** Remembers what answered the call (AnsweredBy) when the voice webhook reports it. */
export async function recordAnsweredBy(deps: ChallengeDeps, id: string, answeredBy: string): Promise<void> {
  await deps.database.rows(sql`update challenges set answered_by = ${answeredBy} where id = ${id}`);
}

/**
 * What answered the call, as an earlier webhook reported it (the carrier's word), if one
 * did: some carriers (Telnyx) report the machine-detection verdict in a status callback
 * before they fetch the voice document, not in that request.
 */
export async function recordedAnsweredBy(deps: ChallengeDeps, id: string): Promise<string | null> {
  const [row] = await deps.database.rows<{ answered_by: string | null }>(sql`select answered_by from challenges where id = ${id}`);
  return row?.answered_by ?? null;
}
