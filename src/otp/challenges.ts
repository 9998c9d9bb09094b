import { sql } from "drizzle-orm";
import { byProgress } from "./call-status.js";
import { unsealCode } from "./codes.js";
import type { ChallengeDeps } from "./deps.js";
import { isExpired } from "./rules.js";

/**
 * A challenge: one code for one number. This module reads challenges; issue.ts
 * creates them, check-code.ts judges guesses, call-events.ts follows the call,
 * cancel.ts ends one on the backend's request and list.ts pages through them.
 */

export type ChallengeStatus = "pending" | "approved" | "expired" | "superseded" | "failed" | "too_many_attempts" | "canceled";

export interface SpeakableChallenge {
  id: string;
  serviceId: string;
  code: string;
  language: string;
  gateDigit: number | null;
  callSid: string | null;
}

/** The code to read aloud, only while the challenge is pending and unexpired. */
export async function codeToSpeak(deps: ChallengeDeps, id: string): Promise<SpeakableChallenge | null> {
  const [row] = await deps.database.rows<{
    service_id: string;
    code_sealed: string | null;
    language: string;
    gate_digit: number | null;
    call_sid: string | null;
    expires_at: Date | string;
  }>(sql`select service_id, code_sealed, language, gate_digit, call_sid, expires_at from challenges where id = ${id} and status = 'pending'`);
  if (!row?.code_sealed || isExpired(new Date(row.expires_at), deps.clock.now())) return null;
  const code = unsealCode(deps.keys, id, row.code_sealed);
  if (code === null) return null;
  return { id, serviceId: row.service_id, code, language: row.language, gateDigit: row.gate_digit, callSid: row.call_sid };
}

export interface ChallengeView {
  id: string;
  serviceId: string;
  number: string;
  status: ChallengeStatus;
  language: string;
  attemptsUsed: number;
  attemptsAllowed: number;
  createdAt: Date;
  expiresAt: Date;
  endedAt: Date | null;
  carrier: string;
  callSid: string | null;
  callStatus: string | null;
  answeredBy: string | null;
  failureCode: string | null;
  apiKeyName: string | null;
  callEvents: Array<{ status: string; at: Date }>;
  /** The events written for the backend about it (the outbox), and how their delivery went. */
  events: EventDelivery[];
}

export interface EventDelivery {
  id: string;
  type: string;
  state: "pending" | "delivered" | "failed";
  attempts: number;
  lastStatus: number | null;
  createdAt: Date;
  deliveredAt: Date | null;
}

/** A challenges row as the views read it (VIEW_COLUMNS), with its call events as JSON. */
export interface ChallengeRow {
  id: string;
  service_id: string;
  number: string;
  status: ChallengeStatus;
  language: string;
  attempts: number;
  max_attempts: number;
  created_at: Date | string;
  expires_at: Date | string;
  ended_at: Date | string | null;
  carrier: string;
  call_sid: string | null;
  call_status: string | null;
  answered_by: string | null;
  failure_code: string | null;
  api_key_name: string | null;
  events: string | Array<{ id: number; status: string; at: string }>;
  deliveries: string | Array<{ id: string; type: string; state: EventDelivery["state"]; attempts: number; last_status: number | null; created_at: string; delivered_at: string | null }>;
}

/** The columns of `c` (challenges) a view shows: never the code or its MAC. */
export const VIEW_COLUMNS = sql`c.id, c.service_id, c.number, c.status, c.language, c.attempts, c.max_attempts, c.created_at, c.expires_at,
           c.ended_at, c.carrier, c.call_sid, c.call_status, c.answered_by, c.failure_code, c.api_key_name`;

/**
 * The call events of `c` as one JSON array, [] when it has none; and beside them, as
 * `deliveries`, the outbox events written about it with their delivery state (never
 * their body, which the backend receives by webhook).
 */
export const EVENTS_COLUMN = sql`coalesce((select json_agg(json_build_object('id', e.id, 'status', e.status, 'at', e.at))
                     from call_events e where e.challenge_id = c.id), '[]'::json) as events,
           coalesce((select json_agg(json_build_object('id', o.id, 'type', o.type, 'state', o.state, 'attempts', o.attempts,
                       'last_status', o.last_status, 'created_at', o.created_at, 'delivered_at', o.delivered_at) order by o.created_at, o.id)
                     from events o where o.challenge_id = c.id), '[]'::json) as deliveries`;

/** A challenge of this service as the backend may see it: never the code or its MAC. Another service's is not found. */
export async function getChallenge(deps: ChallengeDeps, serviceId: string, id: string): Promise<ChallengeView | null> {
  const [row] = await deps.database.rows<ChallengeRow>(sql`
    select ${VIEW_COLUMNS}, ${EVENTS_COLUMN}
    from challenges c where c.id = ${id} and c.service_id = ${serviceId}`);
  return row ? toView(row, deps.clock.now()) : null;
}

/** A row as the view shows it: a pending challenge past its expiry reads as expired (the sweep has yet to end it). */
export function toView(row: ChallengeRow, now: Date): ChallengeView {
  const expiresAt = new Date(row.expires_at);
  const events = typeof row.events === "string" ? (JSON.parse(row.events) as Exclude<ChallengeRow["events"], string>) : row.events;
  const deliveries = typeof row.deliveries === "string" ? (JSON.parse(row.deliveries) as Exclude<ChallengeRow["deliveries"], string>) : row.deliveries;
  return {
    id: row.id,
    serviceId: row.service_id,
    number: row.number,
    status: row.status === "pending" && isExpired(expiresAt, now) ? "expired" : row.status,
    language: row.language,
    attemptsUsed: Number(row.attempts),
    attemptsAllowed: Number(row.max_attempts),
    createdAt: new Date(row.created_at),
    expiresAt,
    endedAt: row.ended_at ? new Date(row.ended_at) : null,
    carrier: row.carrier,
    callSid: row.call_sid,
    callStatus: row.call_status,
    answeredBy: row.answered_by,
    failureCode: row.failure_code,
    apiKeyName: row.api_key_name,
    callEvents: events
      .map((e) => ({ id: e.id, status: e.status, at: new Date(e.at) }))
      .sort((a, b) => a.at.getTime() - b.at.getTime() || byProgress(a.status, b.status) || a.id - b.id)
      .map(({ status, at }) => ({ status, at })),
    events: deliveries.map((d) => ({
      id: d.id,
      type: d.type,
      state: d.state,
      attempts: Number(d.attempts),
      lastStatus: d.last_status === null ? null : Number(d.last_status),
      createdAt: new Date(d.created_at),
      deliveredAt: d.delivered_at === null ? null : new Date(d.delivered_at),
    })),
  };
}
