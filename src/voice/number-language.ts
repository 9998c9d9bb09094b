/**
 * A caller who names no language is spoken to in the language of the number being
 * called, when the service allows that language: a code read in English to a phone in
 * Montréal or Mexico City is harder to catch than one read in the callee's own language.
 * Where the number does not say clearly, the service's own fallback is kept.
 */
import { baseLanguage } from "./phrases.js";

const EN_US = ["en-US", "en"];
const EN_GB = ["en-GB", "en"];
const EN = ["en"];
const ES = ["es"];
const FR_FR = ["fr-FR", "fr"];
const FR_CA = ["fr-CA", "fr"];
const FR = ["fr"];
const DE = ["de"];
const PT = ["pt"];
const AR = ["ar"];
const NL = ["nl"];
const SV = ["sv"];
const IT = ["it"];
const RO = ["ro"];

/**
 * The languages a number's region is spoken in, regional tag first, then its base.
 * A region's tag is given only where voices.ts has that region (es-AR has none, so
 * Argentina is plain "es"). A key is a region as libphonenumber names it, or a region and
 * a North American area code where the region alone does not say (Quebec in Canada).
 * Exported so that a test can check every entry against resolveLanguage.
 */
// A country with more than one official language among ours is left to the fallback
// unless one clearly dominates: so Belgium, Luxembourg, Cameroon are absent, Switzerland
// is German. Hong Kong, Macau and Taiwan are absent too: we speak Mandarin and Cantonese
// only as mainland China does (cmn-CN, yue-CN).
// prettier-ignore
export const NUMBER_LANGUAGES: Readonly<Record<string, readonly string[]>> = {
  // English
  US: EN_US, GU: EN_US, VI: EN_US, AS: EN_US, MP: EN_US,
  GB: EN_GB, GG: EN_GB, JE: EN_GB, IM: EN_GB,
  AU: ["en-AU", "en"], IN: ["en-IN", "en"], IE: ["en-IE", "en"],
  NZ: ["en-NZ", "en"], ZA: ["en-ZA", "en"], SG: ["en-SG", "en"],
  // The English-speaking rest of the North American plan, whose numbers look like the US's.
  AG: EN, AI: EN, BB: EN, BM: EN, BS: EN, DM: EN, GD: EN, JM: EN, KN: EN, KY: EN,
  LC: EN, MS: EN, TC: EN, TT: EN, VC: EN, VG: EN,
  // Canada: English, but French in Quebec, which only the area code tells.
  CA: EN,
  "CA 263": FR_CA, "CA 354": FR_CA, "CA 367": FR_CA, "CA 418": FR_CA, "CA 438": FR_CA,
  "CA 450": FR_CA, "CA 468": FR_CA, "CA 514": FR_CA, "CA 579": FR_CA, "CA 581": FR_CA,
  "CA 819": FR_CA, "CA 873": FR_CA,
  // Spanish. Puerto Rico has English too, but Spanish is what most of it speaks.
  ES: ["es-ES", "es"], MX: ["es-MX", "es"],
  AR: ES, BO: ES, CL: ES, CO: ES, CR: ES, CU: ES, DO: ES, EC: ES, GT: ES, HN: ES,
  NI: ES, PA: ES, PE: ES, PR: ES, PY: ES, SV: ES, UY: ES, VE: ES,
  // French. The overseas departments and territories are France, with their own regions.
  FR: FR_FR, GP: FR_FR, MQ: FR_FR, GF: FR_FR, RE: FR_FR, YT: FR_FR, PM: FR_FR,
  BL: FR_FR, MF: FR_FR, NC: FR_FR, PF: FR_FR, WF: FR_FR,
  MC: FR, SN: FR, CI: FR, ML: FR, BF: FR, NE: FR, GN: FR, BJ: FR, TG: FR,
  CD: FR, CG: FR, GA: FR, HT: FR,
  // German
  DE: ["de-DE", "de"], AT: ["de-AT", "de"], CH: ["de-CH", "de"], LI: DE,
  // Portuguese
  BR: ["pt-BR", "pt"], PT: ["pt-PT", "pt"],
  AO: PT, MZ: PT, CV: PT, GW: PT, ST: PT,
  // Arabic: the Emirates in their Gulf voice, the rest of the Arab League in Modern Standard Arabic.
  AE: ["ar-AE", "ar"],
  SA: AR, EG: AR, DZ: AR, MA: AR, TN: AR, LY: AR, SD: AR, IQ: AR, SY: AR, JO: AR, LB: AR,
  PS: AR, KW: AR, QA: AR, BH: AR, OM: AR, YE: AR, MR: AR,
  // The rest, one country each (or with their small neighbours).
  IT: ["it-IT", "it"], SM: IT, VA: IT,
  NL: ["nl-NL", "nl"], SR: NL,
  DK: ["da-DK", "da"], SE: ["sv-SE", "sv"], AX: SV, NO: ["nb-NO", "nb"], SJ: ["nb"], FI: ["fi-FI", "fi"], IS: ["is-IS", "is"],
  PL: ["pl-PL", "pl"], CZ: ["cs-CZ", "cs"], RO: ["ro-RO", "ro"], MD: RO, RU: ["ru-RU", "ru"], TR: ["tr-TR", "tr"],
  AD: ["ca"], JP: ["ja-JP", "ja"], KR: ["ko-KR", "ko"], CN: ["cmn-CN", "zh"],
};

/** The language a call to this number is spoken in when the request names none. */
export function languageForNumber(phone: { e164: string; country?: string }, allowed: readonly string[], fallback: string): string {
  const candidates = candidatesFor(phone);
  if (!candidates) return fallback;
  // An exact match anywhere in the list wins over a sibling of its first entry: for a
  // Quebec number the service's bare "fr" (spoken in its configured region) beats fr-FR.
  const exact = candidates.find((candidate) => allowed.includes(candidate));
  if (exact !== undefined) return exact;
  for (const candidate of candidates) {
    const sibling = allowed.find((value) => baseLanguage(value) === baseLanguage(candidate));
    if (sibling !== undefined) return sibling;
  }
  return fallback;
}

function candidatesFor(phone: { e164: string; country?: string }): readonly string[] | undefined {
  const { country, e164 } = phone;
  if (!country) return undefined;
  // Own keys only: "constructor" would otherwise be found on every object.
  const areaKey = e164.startsWith("+1") ? `${country} ${e164.slice(2, 5)}` : undefined;
  if (areaKey !== undefined && Object.hasOwn(NUMBER_LANGUAGES, areaKey)) return NUMBER_LANGUAGES[areaKey];
  return Object.hasOwn(NUMBER_LANGUAGES, country) ? NUMBER_LANGUAGES[country] : undefined;
}
