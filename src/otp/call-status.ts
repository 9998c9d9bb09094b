/**
 * A call's progress in our words, the ones the API shows; each carrier maps its own
 * words to these (src/carriers/<name>/). They were taken from Twilio's, which came
 * first. A module of its own, with no imports: the carriers and the domain both use it.
 */

export const CALL_STATUSES = ["queued", "initiated", "ringing", "in-progress", "completed", "busy", "no-answer", "failed", "canceled"] as const;
export type CallStatus = (typeof CALL_STATUSES)[number];

/** How far along a call is: events only move it forward. Every way a call ends ranks alike. */
export const PROGRESS: Readonly<Record<CallStatus, number>> = {
  queued: 0,
  initiated: 1,
  ringing: 2,
  "in-progress": 3,
  completed: 4,
  busy: 4,
  "no-answer": 4,
  failed: 4,
  canceled: 4,
};
export const progress = (status: string | null) => (status !== null && status in PROGRESS ? PROGRESS[status as CallStatus] : -1);

/** Orders statuses by how far along a call they are. */
export const byProgress = (a: string, b: string) => progress(a) - progress(b);
