import type { CallStatus } from "../../otp/call-status.js";
import type { AnsweringVerdict, CallEvent, WebhookRequest } from "../carrier.js";

/**
 * Reading TeXML webhooks: form posts with TwiML's field names (CallSid, CallStatus,
 * AnsweredBy, Digits), per Telnyx's TeXML calls API description.
 */

/** TeXML's CallStatus words, in ours. `dtmf` (a key pressed mid-call) is no progress. */
const STATUSES: Record<string, CallStatus> = {
  queued: "queued",
  initiated: "initiated",
  ringing: "ringing",
  "in-progress": "in-progress",
  completed: "completed",
  busy: "busy",
  "no-answer": "no-answer",
  canceled: "canceled",
  failed: "failed",
};

export const callStatusOf = (word: string): CallStatus | undefined => (Object.hasOwn(STATUSES, word) ? STATUSES[word] : undefined);

/**
 * AnsweredBy: human, machine_start, machine_end_beep / _silence / _other, fax, unknown
 * (the AMD callback), and plain `machine` (the synchronous-mode guide).
 */
export function answeringVerdict(detail: string): AnsweringVerdict {
  if (detail === "human") return "human";
  if (detail === "machine" || detail.startsWith("machine_")) return "machine";
  if (detail === "fax") return "fax";
  return "unknown";
}

export function parseTexmlWebhook(req: WebhookRequest): CallEvent {
  const fields = req.method === "GET" && URL.canParse(req.url) ? Object.fromEntries(new URL(req.url).searchParams) : req.params;
  const field = (name: string) => {
    const v = Object.hasOwn(fields, name) ? fields[name] : undefined;
    return Array.isArray(v) ? v[0] : v;
  };
  const event: CallEvent = {};
  const callId = field("CallSid");
  if (callId) event.callId = callId;
  const status = field("CallStatus");
  if (status && callStatusOf(status)) event.status = callStatusOf(status);
  const answeredBy = field("AnsweredBy");
  if (answeredBy && /^[a-z_]{1,32}$/.test(answeredBy)) event.answeredBy = { verdict: answeringVerdict(answeredBy), detail: answeredBy };
  const digits = field("Digits");
  if (digits !== undefined) event.digits = digits;
  return event;
}
