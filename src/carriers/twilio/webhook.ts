import type { CallStatus } from "../../otp/call-status.js";
import type { AnsweringVerdict, CallEvent, WebhookRequest } from "../carrier.js";

/**
 * Reading Twilio's webhooks, which SignalWire's LaML copies field for field: CallSid,
 * CallStatus, AnsweredBy, Digits, as a form (POST) or in the query string (GET).
 */

/** Twilio's call statuses, in our words (ours were taken from Twilio's, so each is its own). */
const STATUSES: Record<string, CallStatus> = {
  queued: "queued",
  initiated: "initiated",
  ringing: "ringing",
  "in-progress": "in-progress",
  completed: "completed",
  busy: "busy",
  "no-answer": "no-answer",
  failed: "failed",
  canceled: "canceled",
};

export const callStatusOf = (word: string): CallStatus | undefined => (Object.hasOwn(STATUSES, word) ? STATUSES[word] : undefined);

/** AnsweredBy: human, machine_start, machine_end_beep / _silence / _other, fax, unknown. */
export function answeringVerdict(detail: string): AnsweringVerdict {
  if (detail === "human") return "human";
  if (detail.startsWith("machine")) return "machine";
  if (detail === "fax") return "fax";
  return "unknown";
}

/** A field of the request: the form of a POST, the query string of a GET; the first of repeated values. */
export function fieldReader(req: WebhookRequest): (name: string) => string | undefined {
  if (req.method === "GET") {
    const query = URL.canParse(req.url) ? new URL(req.url).searchParams : new URLSearchParams();
    return (name) => query.get(name) ?? undefined;
  }
  return (name) => {
    const v = Object.hasOwn(req.params, name) ? req.params[name] : undefined;
    return Array.isArray(v) ? v[0] : v;
  };
}

export function parseTwimlWebhook(req: WebhookRequest): CallEvent {
  const field = fieldReader(req);
  const event: CallEvent = {};
  // A call id is printable ASCII (Twilio's CA…, SignalWire's UUID, Telnyx's v3:…); anything
  // else no carrier sent, and is read as no call id rather than stored.
  const callId = field("CallSid");
  if (callId && /^[\x21-\x7e]{1,128}$/.test(callId)) event.callId = callId;
  const status = field("CallStatus");
  if (status && callStatusOf(status)) event.status = callStatusOf(status);
  // Kept as the carrier wrote it (the API shows it), when it looks like one of its words.
  const answeredBy = field("AnsweredBy");
  if (answeredBy && /^[a-z_]{1,32}$/.test(answeredBy)) event.answeredBy = { verdict: answeringVerdict(answeredBy), detail: answeredBy };
  const digits = field("Digits");
  if (digits !== undefined) event.digits = digits;
  return event;
}
