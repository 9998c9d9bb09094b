import { PHRASES } from "./phrases/index.js";
import { LANGUAGE_TAGS, VOICES } from "./voices.js";

export { PHRASES, type Phrases } from "./phrases/index.js";

/** The bare languages a request may name; each is spoken in its phrases' tag. */
export const LANGUAGES = Object.keys(PHRASES);

/**
 * Other spellings of a language or tag we speak, as requests write them: Polly names
 * Mandarin cmn-CN and Norwegian nb-NO, where most systems say zh-CN and no. Only the
 * same language in the same region: Hong Kong's Cantonese or Taiwan's Mandarin are not
 * spoken in another region's voice, so zh-HK and zh-TW are refused.
 */
const ALIASES: Readonly<Record<string, string>> = {
  "zh-cn": "cmn-CN",
  "cmn": "zh",
  "no": "nb",
  "no-no": "nb-NO",
};

/**
 * A language as a request or LANGUAGE gives it, in our spelling: "EN" → "en", "es_mx" →
 * "es-MX", "zh-CN" → "cmn-CN". Undefined for a language without phrases, or a tag
 * without voices (es-AR): such a tag is refused, not quietly spoken in another region.
 */
export function resolveLanguage(input: string): string | undefined {
  const wanted = input.trim().toLowerCase().replace(/_/g, "-");
  // Own keys only: "constructor" is `in` every object, and would pass for a language.
  if (Object.hasOwn(PHRASES, wanted)) return wanted;
  if (Object.hasOwn(ALIASES, wanted)) return ALIASES[wanted];
  return LANGUAGE_TAGS.find((tag) => tag.toLowerCase() === wanted);
}

/**
 * The tag a call is spoken in. A bare language takes the region LANGUAGE gives it
 * (LANGUAGE=es-MX: "es" is es-MX), else its usual one; an unknown value is English.
 */
export function speakingTag(language: string, configured?: string): string {
  const resolved = resolveLanguage(language);
  if (resolved === undefined) return PHRASES.en!.tag;
  if (!Object.hasOwn(PHRASES, resolved)) return resolved;
  const preferred = configured === undefined ? undefined : resolveLanguage(configured);
  if (preferred && preferred !== resolved && baseLanguage(preferred) === resolved) return preferred;
  return PHRASES[resolved]!.tag;
}

/** "es-MX" → "es", "cmn-CN" → "zh": the key of its phrases (for a tag we lack, its first subtag). */
export function baseLanguage(tag: string): string {
  const row = Object.hasOwn(VOICES, tag) ? VOICES[tag] : undefined;
  return row?.language ?? tag.split("-")[0]!.toLowerCase();
}
