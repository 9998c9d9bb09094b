import { z } from "zod";
import { CARRIERS, type CarrierName } from "../carriers/registry.js";
import { baseLanguage, LANGUAGES, resolveLanguage, speakingTag } from "../voice/phrases.js";
import { templateKeyProblem, templateProblem, type Templates } from "../voice/templates.js";
import { carrierName, parseVoice, sameVoice, voicesOfTag, type CarrierVoices, type Voice } from "../voice/voice-names.js";
import { LANGUAGE_TAGS, VOICES } from "../voice/voices.js";
import { ConfigError } from "./error.js";

/**
 * LANGUAGE in our spelling ("es_mx" → "es-MX"). A regional tag is spoken as itself, so one
 * without voices (es-AR) is refused rather than spoken in another region.
 */
export const languageTag = z.string().transform((l, ctx) => {
  const language = resolveLanguage(l);
  if (language !== undefined) return language;
  const base = baseLanguage(l.trim().replace(/_/g, "-"));
  const tags = LANGUAGE_TAGS.filter((t) => baseLanguage(t) === base);
  ctx.addIssue({
    code: "custom",
    message: tags.length
      ? `no voice here speaks it; set LANGUAGE to ${base} or one of ${tags.join(", ")}`
      : `must be one of ${LANGUAGES.join(", ")}, or a regional tag such as es-MX`,
  });
  return z.NEVER;
});

/**
 * VOICE_TEMPLATES (and a service's `templates`): a JSON object of texts by language or
 * tag, `{"en": "Your {org} code is {code}."}`, each checked by voice/templates.ts. A
 * refusal names the language as the issue's path, so the admin API can answer with
 * the field `settings.templates.<language>`.
 */
export const voiceTemplates = z.string().transform((json, ctx): Templates => {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch {
    value = undefined;
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    ctx.addIssue({ code: "custom", message: 'must be a JSON object of texts by language, such as {"en": "Your {org} code is {code}."}' });
    return z.NEVER;
  }
  for (const [language, text] of Object.entries(value)) {
    const problem = templateKeyProblem(language) ?? (typeof text === "string" ? templateProblem(text) : "must be a text");
    if (problem !== undefined) ctx.addIssue({ code: "custom", message: problem, path: [language] });
  }
  return value as Templates;
});

/**
 * VOICE, checked once at startup against the tag LANGUAGE is spoken in and against what
 * the chosen carrier's voice XML takes, and written as that carrier names it (Twilio
 * `Google.en-US-Neural2-A`, SignalWire `gcloud.en-US-Neural2-A`). A voice that does not
 * speak the language, or that the carrier lacks, would fail every call's <Say>: it is
 * refused here with what to set instead. Returns undefined when VOICE is unset.
 */
export function chooseVoice(voice: string | undefined, language: string, carrier: CarrierName | "simulator"): string | undefined {
  if (voice === undefined) return undefined;
  const tag = speakingTag(language);
  // The simulator is the Twilio plug-in pointed at a stand-in: it speaks TwiML.
  const plugin = CARRIERS[carrier === "simulator" ? "twilio" : carrier];
  const takes: CarrierVoices = plugin.voices;
  const offered = voicesOfTag(tag).filter((v) => carrierName(v, takes) !== undefined);
  const instead = `set VOICE to one of ${suggestions(offered, takes, tag)} or leave it unset for ${VOICES[tag]!.defaultVoice}`;

  const wanted = parseVoice(voice);
  if (!wanted) {
    throw new ConfigError(`VOICE: "${voice}" is not a voice name (Polly.<Name>, Google.<tag>-…, man, woman or alice); for ${tag} ${instead}`);
  }
  if (wanted.engine === "basic") {
    const tags = takes.basic[wanted.id] ?? [];
    if (tags.includes(tag)) return wanted.id;
    const speaks = tags.length
      ? `${wanted.id} speaks only ${tags.join(", ")} on ${plugin.title}, not ${tag} (LANGUAGE)`
      : `${plugin.title} documents no language for ${wanted.id}`;
    throw new ConfigError(`VOICE: ${speaks}; for ${tag} ${instead}`);
  }
  const known = voicesOfTag(tag).find((v) => sameVoice(v, wanted));
  if (!known) {
    const elsewhere = LANGUAGE_TAGS.filter((t) => voicesOfTag(t).some((v) => sameVoice(v, wanted)));
    if (elsewhere.length) {
      throw new ConfigError(`VOICE: ${voice} speaks ${elsewhere.join(", ")}, not ${tag} (LANGUAGE); ${instead}, or set LANGUAGE=${elsewhere[0]}`);
    }
    throw new ConfigError(`VOICE: ${voice} is not a voice src/voice/voices.ts lists for any language; for ${tag} ${instead}`);
  }
  const named = carrierName(known, takes);
  if (named === undefined) {
    const kind = known.engine === "polly" ? `${known.model} Polly` : "Google";
    throw new ConfigError(`VOICE: ${plugin.title} has no ${kind} voices; for ${tag} ${instead}`);
  }
  return named;
}

/** A few Polly voices, then one Google voice as an example of the family: enough to pick from, on one line. */
function suggestions(offered: Voice[], carrier: CarrierVoices, tag: string): string {
  const name = (v: Voice) => carrierName(v, carrier)!;
  const polly = offered.filter((v) => v.engine === "polly").map(name);
  const more = polly.length > SHOWN ? [`… (${polly.length - SHOWN} more Polly voices in src/voice/voices.ts)`] : [];
  const google = offered.find((v) => v.engine === "google");
  return [...polly.slice(0, SHOWN), ...more, ...(google ? [`${name(google)} (or another Google voice of ${tag})`] : [])].join(", ");
}

const SHOWN = 6;
