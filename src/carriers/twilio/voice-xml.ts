import type { GatherStep, PauseStep, SayStep, VoiceScript } from "../../voice/script.types.js";

// The Twilio and SignalWire builders are the same twilio-node code at two ages; these
// are the few methods both have, so one renderer serves both.
export interface SayNode {
  addText(text: string): unknown;
  sayAs(attributes: Record<string, string>, words: string): unknown;
}
interface VerbContainer {
  say(attributes: Record<string, string>, text?: string): SayNode;
  pause(attributes: Record<string, number>): unknown;
}
export interface ResponseBuilder extends VerbContainer {
  gather(attributes: Record<string, string | number>): VerbContainer;
  redirect(attributes: Record<string, string>, url: string): unknown;
  hangup(): unknown;
  toString(): string;
}

/** Renders a script with the SDK's own builder; `addBreak` papers over break() vs break_(). */
export function renderVoiceXml(
  response: ResponseBuilder,
  script: VoiceScript,
  addBreak: (say: SayNode, ms: number) => void,
): string {
  const say = (into: VerbContainer, step: SayStep) => {
    const node = into.say({ language: step.language, ...(step.voice ? { voice: step.voice } : {}) });
    step.parts.forEach((part, i) => {
      if ("text" in part) node.addText(i > 0 ? ` ${part.text}` : part.text);
      else if ("digit" in part) node.sayAs({ "interpret-as": "digits" }, part.digit);
      else addBreak(node, part.breakMs);
    });
  };
  const simple = (into: VerbContainer, step: SayStep | PauseStep) =>
    step.kind === "say" ? say(into, step) : into.pause({ length: step.seconds });
  const gather = (step: GatherStep) => {
    const g = response.gather({
      action: step.action,
      method: step.method,
      numDigits: step.numDigits,
      timeout: step.timeoutSeconds,
      input: "dtmf",
      // Every key is an answer, # included: by default # ends a Gather without being a digit.
      finishOnKey: "",
    });
    for (const child of step.children) simple(g, child);
  };

  for (const step of script) {
    switch (step.kind) {
      case "say":
      case "pause":
        simple(response, step);
        break;
      case "gather":
        gather(step);
        break;
      case "hangup":
        response.hangup();
        break;
    }
  }
  return response.toString();
}
