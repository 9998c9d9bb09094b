import { maskNumber } from "../phone.js";
import type { CallRecord } from "./types.js";

/** Which call a "the phone heard" line is about. */
export interface HeardOn {
  /** The challenge, when the voice URL names one as voice-otp's do (`?c=<id>`). */
  challenge?: string;
  /** The number called, masked as the service's own log lines mask it. */
  to: string;
}

/**
 * The line the simulated phone writes once a call ends. It carries what was said,
 * the code included: reading it is how a developer tries the service without a phone,
 * and it is written only outside production (the service passes no logger there). The
 * challenge id tells concurrent calls apart; the number is masked like every log line.
 */
export function heardLine(call: CallRecord): { line: string; on: HeardOn } {
  const challenge = challengeOf(call);
  const on: HeardOn = { ...(challenge ? { challenge } : {}), to: maskNumber(call.to) };
  const about = [challenge && `challenge ${challenge}`, on.to].filter(Boolean).join(", ");
  return { line: `the phone heard (${about}): ${call.heard.join(" ") || "(nothing)"}`, on };
}

/** The challenge a call is for, when its voice URL names one as voice-otp's do (`?c=<id>`). */
export function challengeOf(call: Pick<CallRecord, "url">): string | undefined {
  return (URL.canParse(call.url) && new URL(call.url).searchParams.get("c")) || undefined;
}
