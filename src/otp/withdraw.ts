import { sql } from "drizzle-orm";
import { giveBackCall } from "../limits/rules.js";
import { enqueueEvents } from "../events/outbox.js";
import type { ChallengeDeps } from "./deps.js";

/**
 * A call the carrier refused outright rang nobody and cost nothing, so its challenge
 * is withdrawn as if it had never been issued: the row goes, and with it the call's
 * place in every window counted over challenges (the resend cooldown, the number's,
 * the range's and the address's), and its spend caps' units are given back. One statement.
 *
 * Only a challenge with no call recorded and no wrong guess is withdrawn: a guess at
 * it must keep counting toward the number's failed-guess lock. Returns whether it was;
 * when not, the caller marks it failed instead.
 */
export async function withdrawChallenge(deps: ChallengeDeps, issued: { id: string; issuedAt: Date }, failureCode: string): Promise<boolean> {
  // The backend is still told: its challenge failed (the row it would read is gone).
  const [row] = await deps.database.rows<{ withdrawn: number | string }>(sql`
    with gone as (delete from challenges where id = ${issued.id} and call_sid is null and failures = 0
                  returning id, service_id, number, 'failed'::text as status, attempts),
         given as (${giveBackCall(issued.issuedAt, sql`(select service_id from gone)`, sql`exists (select 1 from gone)`)}),
         told as (${enqueueEvents(sql`gone s`, "challenge.failed", failureCode, deps.clock.now())})
    select count(*) as withdrawn from gone`);
  return Number(row?.withdrawn) > 0;
}
