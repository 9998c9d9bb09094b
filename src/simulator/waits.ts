import type { EventEmitter } from "node:events";
import type { CallRecord } from "./types.js";

/** Which call a test waits for: its sid, its number, or any test of the record. */
export type CallMatch = string | { sid: string } | { to: string } | ((call: CallRecord) => boolean);

const matches = (match: CallMatch, call: CallRecord) =>
  typeof match === "string"
    ? call.sid === match
    : typeof match === "function"
      ? match(call)
      : "sid" in match
        ? call.sid === match.sid
        : call.to === match.to;

/**
 * Resolves with what found() finds, checking now and on every "change" the simulator
 * emits (no polling); rejects with failure() after timeoutMs.
 */
export function waitUntil<T>(updates: EventEmitter, found: () => T | undefined, failure: () => string, timeoutMs: number) {
  return new Promise<T>((resolve, reject) => {
    const check = () => {
      const hit = found();
      if (hit === undefined) return;
      cleanup();
      resolve(hit);
    };
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(failure()));
    }, timeoutMs);
    const cleanup = () => {
      clearTimeout(timer);
      updates.off("change", check);
    };
    updates.on("change", check);
    check();
  });
}

/** The first call matching `match` once ready(call); the error lists the matching calls seen, for a failing test's log. */
export function waitForCall(
  updates: EventEmitter,
  records: CallRecord[],
  match: CallMatch,
  ready: (call: CallRecord) => boolean,
  what: string,
  timeoutMs: number,
) {
  return waitUntil(
    updates,
    () => records.find((c) => matches(match, c) && ready(c)),
    () => {
      const seen = records.filter((c) => matches(match, c)).map((c) => `${c.sid}: ${c.status}`);
      return `no ${what} call matched within ${timeoutMs} ms (matching calls: ${seen.join(", ") || "none"})`;
    },
    timeoutMs,
  );
}
