import { baseLanguage, PHRASES, speakingTag, type Phrases } from "./phrases.js";
import type { GatherStep, PauseStep, SayStep, SpeechPart, VoiceScript } from "./script.types.js";
import { splitTemplate, templateFor, type Templates } from "./templates.js";
import { VOICES } from "./voices.js";

export interface VoiceSettings {
  orgName: string;
  /** The configured language (LANGUAGE); VOICE applies to calls in its tag, other tags use their default voice. */
  language: string;
  /** VOICE as the carrier names it (config/voice.ts checked it against the language and the carrier). */
  voice?: string;
  /** The service's own sentence around the code, by language or tag (templates.ts checked each when it was saved). */
  templates?: Templates;
}

/** Where the call goes next: absolute URLs built by the webhook route (opaque id, never the code). */
export interface NextUrls {
  afterGate: string;
  afterCode: string;
}

// SSML <break> and <say-as> work with Polly and Google voices, not the basic ones (Twilio error 13513).
const ssmlCapable = (voice: string) => /^(polly|google|gcloud)\./i.test(voice);

const MAX_REPEATS = 3;

/** `language` is the call's, as stored: a bare language ("es") or a tag ("es-MX"). */
function speaker(settings: VoiceSettings, language: string) {
  const tag = speakingTag(language, settings.language);
  const p: Phrases = PHRASES[baseLanguage(tag)]!;
  const voice = settings.voice && tag === speakingTag(settings.language) ? settings.voice : VOICES[tag]!.defaultVoice;
  const say = (parts: SpeechPart[]): SayStep => ({ kind: "say", parts, language: tag, voice });
  const text = (t: string) => say([{ text: t }]);
  return { p, tag, voice, say, text };
}

/** The digits, one at a time with a pause after each, so a person can write them down. */
function readDigits(settings: VoiceSettings, language: string, code: string): Array<SayStep | PauseStep> {
  const { say, voice } = speaker(settings, language);
  const digits = [...code];
  if (ssmlCapable(voice)) {
    return [say(digits.flatMap((d): SpeechPart[] => [{ digit: d }, { breakMs: 700 }]))];
  }
  return digits.flatMap((d) => [say([{ text: `${d}.` }]), { kind: "pause", seconds: 1 } as PauseStep]);
}

/** The first thing the listener hears: the code straight away, or the gate when VOICE_GATE is on. */
export function openingScript(
  settings: VoiceSettings,
  call: { language: string; code: string; gateDigit: number | null },
  next: NextUrls,
): VoiceScript {
  const { p, text } = speaker(settings, call.language);
  if (call.gateDigit === null) {
    return [text(p.greeting(settings.orgName)), { kind: "pause", seconds: 1 }, ...codeScript(settings, call, next, 0)];
  }
  return gateScript(settings, call.language, call.gateDigit, next, true);
}

/** Asks for a key chosen at random per call: a voicemail greeting cannot press it, so no code lands on a recording. */
export function gateScript(
  settings: VoiceSettings,
  language: string,
  gateDigit: number,
  next: NextUrls,
  greet: boolean,
): VoiceScript {
  const { p, text } = speaker(settings, language);
  const gather: GatherStep = {
    kind: "gather",
    action: next.afterGate,
    method: "POST",
    numDigits: 1,
    timeoutSeconds: 8,
    children: [...(greet ? [text(p.greeting(settings.orgName))] : []), text(p.pressToHear(gateDigit))],
  };
  return [gather, text(p.noKey), { kind: "hangup" }];
}

// A part of a template with nothing to pronounce (a lone full stop) is not worth a <Say>.
const pronounceable = (t: string) => /[\p{L}\p{N}]/u.test(t);

/** The sentence that reads the code the first time: the service's template for the language, or "Your code is: …". */
function codeSentence(settings: VoiceSettings, call: { language: string; code: string }): Array<SayStep | PauseStep> {
  const { p, tag, text } = speaker(settings, call.language);
  const digits = readDigits(settings, call.language, call.code);
  const template = templateFor(settings.templates, tag);
  if (template === undefined) return [text(p.codeIs), ...digits];
  const { before, after } = splitTemplate(template, settings.orgName);
  return [...(pronounceable(before) ? [text(before)] : []), ...digits, ...(pronounceable(after) ? [text(after)] : [])];
}

/** The code twice, then an offer to hear it again; a key press comes back to afterCode. */
export function codeScript(
  settings: VoiceSettings,
  call: { language: string; code: string },
  next: NextUrls,
  repeatsSoFar: number,
): VoiceScript {
  const { p, text } = speaker(settings, call.language);
  const reading: Array<SayStep | PauseStep> = [
    ...codeSentence(settings, call),
    text(p.again),
    ...readDigits(settings, call.language, call.code),
  ];
  if (repeatsSoFar >= MAX_REPEATS) return [...reading, text(p.goodbye), { kind: "hangup" }];
  return [
    {
      kind: "gather",
      action: next.afterCode,
      method: "POST",
      numDigits: 1,
      timeoutSeconds: 5,
      children: [...reading, text(p.pressToRepeat)],
    },
    text(p.goodbye),
    { kind: "hangup" },
  ];
}

/** For a challenge that has ended: no code, a short apology. */
export function unavailableScript(settings: VoiceSettings, language: string): VoiceScript {
  const { p, text } = speaker(settings, language);
  return [text(p.unavailable), { kind: "hangup" }];
}

/** An answering machine picked up: leave no code on the recording. */
export function machineScript(settings: VoiceSettings, language: string): VoiceScript {
  const { p, text } = speaker(settings, language);
  return [text(p.machine(settings.orgName)), { kind: "hangup" }];
}

export function noKeyScript(settings: VoiceSettings, language: string): VoiceScript {
  const { p, text } = speaker(settings, language);
  return [text(p.noKey), { kind: "hangup" }];
}
