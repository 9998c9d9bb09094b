import { z } from "zod";
import type { Outcome } from "./types.js";

/**
 * SIMULATOR_OUTCOMES: what the simulated phone at each number does, so that a developer
 * can try a busy line, a carrier's refusal or a listener who presses nothing without a
 * carrier account. Read by `npm start` (the in-process simulator) and `npm run simulator`.
 */

export const OUTCOMES_SYNTAX =
  "NUMBER=OUTCOME entries separated by commas, e.g. +14155550101=busy,+14155550102=api-error:21211,+14155550103=answer:keys=-; " +
  "OUTCOME is answer[:RING_MS][:keys=KEYS], voicemail[:RING_MS], busy[:RING_MS], no-answer[:RING_MS], failed[:RING_MS], " +
  "api-error[:CARRIER_CODE], api-timeout or api-malformed; KEYS is one key per prompt that asks for one (0-9, * or #, " +
  "or - to press nothing there; once KEYS runs out nothing is pressed), or auto (the default: the digit a prompt names)";

/** The same, laid out for `voice-otp simulate --help`. */
export const OUTCOMES_HELP = `SIMULATOR_OUTCOMES scripts the phone at each number: NUMBER=OUTCOME entries
separated by commas, where OUTCOME is one of
  answer[:RING_MS][:keys=KEYS]   picks up; KEYS is one key per prompt that asks for
                                 one (0-9, * or #; - presses nothing there, and nothing
                                 is pressed once KEYS runs out); keys=auto, the
                                 default, presses the digit a prompt names
  voicemail[:RING_MS]            a machine picks up and presses nothing
  busy, no-answer, failed[:RING_MS]
  api-error[:CARRIER_CODE]       the create-call API refuses (default 21211)
  api-timeout, api-malformed     it never answers; it answers an HTML error page
e.g. +14155550101=busy,+14155550102=api-error:21211,+14155550103=answer:keys=-`;

const E164 = /^\+[1-9]\d{6,14}$/;
const MS = /^\d{1,7}$/;

class MalformedEntry extends Error {}

/** Throws an Error whose message names the entry, what is wrong with it, and the syntax. */
export function parseOutcomes(spec: string): Array<[string, Outcome]> {
  return spec
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean)
    .map((entry) => {
      try {
        return parseEntry(entry);
      } catch (err) {
        if (!(err instanceof MalformedEntry)) throw err;
        throw new Error(`"${entry}": ${err.message}; write ${OUTCOMES_SYNTAX}`);
      }
    });
}

/** The variable as the service's configuration parses it: malformed, the service does not start. */
export const outcomesVariable = z
  .string()
  .default("")
  .transform((spec, ctx) => {
    try {
      return parseOutcomes(spec);
    } catch (err) {
      ctx.addIssue({ code: "custom", message: (err as Error).message });
      return z.NEVER;
    }
  });

function parseEntry(entry: string): [string, Outcome] {
  const at = entry.indexOf("=");
  const number = entry.slice(0, Math.max(at, 0));
  if (!E164.test(number)) throw new MalformedEntry("it does not start with an E.164 number and =");
  const [kind = "", ...options] = entry.slice(at + 1).split(":");
  const atMostOne = () => {
    if (options.length > 1) throw new MalformedEntry(`${kind} takes one option at most`);
    return options[0];
  };
  const ringMs = (option: string | undefined) => {
    if (option === undefined) return {};
    if (!MS.test(option)) throw new MalformedEntry(`"${option}" is not a ring time in milliseconds`);
    return { ringMs: Number(option) };
  };
  switch (kind) {
    case "answer": {
      let outcome: Extract<Outcome, { kind: "answer" }> = { kind };
      for (const option of options) {
        if (option.startsWith("keys=")) outcome = { ...outcome, keys: parseKeys(option.slice("keys=".length)) };
        else outcome = { ...outcome, ...ringMs(option) };
      }
      return [number, outcome];
    }
    case "voicemail":
    case "busy":
    case "no-answer":
    case "failed":
      return [number, { kind, ...ringMs(atMostOne()) }];
    case "api-timeout":
    case "api-malformed":
      if (options.length) throw new MalformedEntry(`${kind} takes no option`);
      return [number, { kind }];
    case "api-error": {
      const option = atMostOne() ?? "21211";
      if (!/^\d{1,6}$/.test(option)) throw new MalformedEntry(`"${option}" is not a carrier error code such as 21211`);
      const code = Number(option);
      // The HTTP status the carrier answers that code with: authentication, its own failures, else a bad request.
      const status = code === 20003 ? 401 : code >= 20500 && code < 20600 ? 500 : 400;
      return [number, { kind, status, code, message: `simulated error ${code}` }];
    }
    default:
      throw new MalformedEntry(`"${kind}" is not an outcome`);
  }
}

/** One key per Gather, as the simulator presses them; "-" is a Gather left unanswered. */
function parseKeys(keys: string): "auto" | string[] {
  if (keys === "auto") return "auto";
  if (!/^[0-9*#-]*$/.test(keys)) throw new MalformedEntry(`keys "${keys}" may hold only 0-9, *, # and -`);
  return [...keys].map((k) => (k === "-" ? "" : k));
}
