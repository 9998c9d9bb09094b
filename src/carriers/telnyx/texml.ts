import type { GatherStep, PauseStep, SayStep, VoiceScript } from "../../voice/script.types.js";

/**
 * A voice script as TeXML. The telnyx SDK has no TeXML builder, so this writes the few
 * verbs the script uses, escaping every text and attribute. It keeps to what Telnyx's
 * TeXML reference documents:
 * - <Say voice language>: text only. SSML inside <Say> is not documented for TeXML, so
 *   a digit is its own <Say> (read as a digit, never as part of a number) and a break
 *   becomes a <Pause> of whole seconds.
 * - <Gather action numDigits timeout input>: only <Say> and <Play> may be nested, so
 *   pauses inside it are left out (the separate <Say>s still part the digits). It has no
 *   method attribute: the action is requested with the TeXML application's method,
 *   which must be POST (see README, Telnyx).
 * - <Pause length> (1 to 180 s), <Hangup/>.
 * TeXML is also a Mustache template: "{{" in a text would be filled in by Telnyx, so it
 * is broken apart.
 */

const escape = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&apos;" })[c]!).replace(/\{(?=\{)/g, "{ ").replace(/\}(?=\})/g, "} ");

function element(name: string, attrs: Record<string, string | number | undefined>, inner?: string): string {
  const a = Object.entries(attrs)
    .filter((e): e is [string, string | number] => e[1] !== undefined)
    .map(([k, v]) => ` ${k}="${escape(String(v))}"`)
    .join("");
  return inner === undefined ? `<${name}${a}/>` : `<${name}${a}>${inner}</${name}>`;
}

const pause = (seconds: number) => element("Pause", { length: Math.min(180, Math.max(1, Math.round(seconds))) });

/** One <Say> per run of text and per digit; breaks as pauses where a pause may stand. */
function say(step: SayStep, pausesAllowed: boolean): string {
  const attrs = { language: step.language, voice: step.voice };
  const out: string[] = [];
  let text: string[] = [];
  const flush = () => {
    if (text.length) out.push(element("Say", attrs, escape(text.join(" "))));
    text = [];
  };
  for (const part of step.parts) {
    if ("text" in part) text.push(part.text);
    else if ("digit" in part) {
      flush();
      out.push(element("Say", attrs, escape(part.digit)));
    } else {
      flush();
      if (pausesAllowed) out.push(pause(part.breakMs / 1000));
    }
  }
  flush();
  return out.join("");
}

function simple(step: SayStep | PauseStep, inGather: boolean): string {
  if (step.kind === "say") return say(step, !inGather);
  return inGather ? "" : pause(step.seconds);
}

function gather(step: GatherStep): string {
  const inner = step.children.map((c) => simple(c, true)).join("");
  // Every key is an answer, # included: by default # ends a Gather without being a digit.
  return element("Gather", { action: step.action, numDigits: step.numDigits, timeout: step.timeoutSeconds, input: "dtmf", finishOnKey: "" }, inner);
}

export function renderTexml(script: VoiceScript): string {
  const verbs = script.map((step) => {
    switch (step.kind) {
      case "say":
      case "pause":
        return simple(step, false);
      case "gather":
        return gather(step);
      case "hangup":
        return "<Hangup/>";
    }
  });
  return `<?xml version="1.0" encoding="UTF-8"?><Response>${verbs.join("")}</Response>`;
}
