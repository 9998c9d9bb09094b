import { baseLanguage, LANGUAGES, resolveLanguage } from "./phrases.js";
import { LANGUAGE_TAGS } from "./voices.js";

/**
 * A service's own words for the sentence that reads the code, per language: "Your {org}
 * code is {code}." The rest of the call (greeting, gate, "again", the offer to repeat,
 * the machine and unavailable messages) keeps the language's phrases, so a template
 * cannot leave the listener without the code or without the second reading.
 *
 * A template is checked when it is saved (VOICE_TEMPLATES at start-up, a service's
 * `templates` through the admin API), never at call time: a call that cannot be read
 * would fail while someone waits for their code.
 */

export type Templates = Readonly<Record<string, string>>;

/** Long enough for two sentences, short enough to keep the code near the start of the call. */
export const TEMPLATE_MAX_LENGTH = 300;

const PLACEHOLDER = /\{[^{}]*\}/g;

/** Why `text` cannot be a template, or undefined when it can. */
export function templateProblem(text: string): string | undefined {
  if (text.length > TEMPLATE_MAX_LENGTH) return `must be at most ${TEMPLATE_MAX_LENGTH} characters (it has ${text.length})`;
  // Refused rather than escaped: the text is read as written, so markup could only be a
  // mistake or an attempt to reach the voice XML (the renderers escape it regardless).
  if (/[<>]/.test(text)) return "must hold no markup: < and > are not read aloud (the text is spoken as written)";
  if (/[\p{Cc}\p{Cs}]/u.test(text)) return "must hold no control characters (a line break, a tab) or broken characters";
  const placeholders = text.match(PLACEHOLDER) ?? [];
  const unknown = placeholders.find((p) => p !== "{code}" && p !== "{org}");
  if (unknown !== undefined) return `${unknown} is not a placeholder; use {code} for the digits and {org} for the name`;
  if (/[{}]/.test(text.replace(PLACEHOLDER, ""))) return "braces are for {code} and {org} only";
  const codes = placeholders.filter((p) => p === "{code}").length;
  if (codes !== 1) {
    const held = codes === 0 ? "holds no {code}" : `holds {code} ${codes} times`;
    return `${held}: it must hold it exactly once, where the digits are read (the call reads them a second time itself)`;
  }
  if (placeholders.filter((p) => p === "{org}").length > 1) return "may hold {org} once at most";
  return undefined;
}

/** Why `key` cannot name a template's language, or undefined when it can. */
export function templateKeyProblem(key: string): string | undefined {
  if (LANGUAGES.includes(key) || LANGUAGE_TAGS.includes(key)) return undefined;
  const known = resolveLanguage(key);
  if (known !== undefined) return `write this language ${known}`;
  return `not a language calls are spoken in; use one of ${LANGUAGES.join(", ")}, or a tag such as es-MX`;
}

/** The template for a call spoken in `tag`: the tag's own, else its language's ("es-MX", then "es"). */
export function templateFor(templates: Templates | undefined, tag: string): string | undefined {
  if (!templates) return undefined;
  const own = (key: string) => (Object.hasOwn(templates, key) ? templates[key] : undefined);
  return own(tag) ?? own(baseLanguage(tag));
}

/**
 * The words before and after the code, {org} filled in. The template is cut at {code}
 * before the name goes in, so a name that holds "{code}" is read as it is written.
 */
export function splitTemplate(template: string, org: string): { before: string; after: string } {
  const at = template.indexOf("{code}");
  const fill = (part: string) => part.replace("{org}", () => org).trim();
  return { before: fill(template.slice(0, at)), after: fill(template.slice(at + "{code}".length)) };
}
