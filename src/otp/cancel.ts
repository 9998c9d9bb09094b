import { sql } from "drizzle-orm";
import { getChallenge, type ChallengeView } from "./challenges.js";
import { enqueueEvents } from "../events/outbox.js";
import type { ChallengeDeps } from "./deps.js";
import { expiredSql } from "./rules.js";

export type CancelResult =
  /** Ended now, or by an earlier cancel (canceling twice is harmless). */
  | { kind: "canceled"; view: ChallengeView }
  /** It had ended otherwise (approved, expired, failed...): nothing changed. */
  | { kind: "not_pending"; view: ChallengeView }
  /** No such challenge in this service. */
  | { kind: "not_found" };

const ts = (d: Date) => sql`${d.toISOString()}::timestamptz`;

/**
 * Ends a pending challenge of this service at the backend's request (the user gave up,
 * or signed in another way): its code material is wiped, so a call still ringing
 * hears that the code is no longer available (codeToSpeak reads pending challenges
 * only) and every guess is refused. One statement, applied only while the challenge
 * is pending and unexpired: a verdict or a resend racing with it wins or loses whole.
 *
 * The row stays: the call was placed and keeps counting toward the limits, and its
 * wrong guesses keep counting toward the number's budget (a cancel and a resend must
 * not refill it: carriedGuesses counts a canceled challenge like any other unapproved one).
 */
export async function cancelChallenge(deps: ChallengeDeps, serviceId: string, id: string): Promise<CancelResult> {
  const now = deps.clock.now();
  await deps.database.rows(sql`
    with canceled as (
      update challenges set status = 'canceled', code_mac = null, code_sealed = null, ended_at = ${ts(now)}
      where id = ${id} and service_id = ${serviceId} and status = 'pending' and not (${expiredSql(now)})
      returning id, service_id, number, status, attempts)
    ${enqueueEvents(sql`canceled s`, "challenge.canceled", null, now)}`);
  const view = await getChallenge(deps, serviceId, id);
  if (!view) return { kind: "not_found" };
  return { kind: view.status === "canceled" ? "canceled" : "not_pending", view };
}
