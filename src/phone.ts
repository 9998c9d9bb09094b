import { parsePhoneNumberFromString, type CountryCode, type NumberType } from "libphonenumber-js/max";

export interface PhoneNumber {
  e164: string;
  country?: string;
  type?: NumberType;
}

export type PhoneParse = { ok: true; phone: PhoneNumber } | { ok: false; reason: string };

/**
 * Numbers parsed lately, first in first out. A number is parsed when its call is
 * requested and again when its code is checked a minute later (and on every retry of
 * either): with full metadata a parse walks the country's patterns, about a tenth of a
 * validation's CPU. The results are plain data, the same for every caller.
 */
const RECENT_MAX = 10_000;
const recent = new Map<string, PhoneParse>();

/** Parses E.164 or a national number in defaultCountry; refuses what cannot be a real number. */
export function parsePhone(input: string, defaultCountry: string): PhoneParse {
  // Only what could be a number is remembered: a long string must not fill the memory.
  if (input.length > 40) return parseUncached(input, defaultCountry);
  const key = `${defaultCountry} ${input}`;
  let result = recent.get(key);
  if (!result) {
    result = Object.freeze(parseUncached(input, defaultCountry));
    if (recent.size >= RECENT_MAX) recent.delete(recent.keys().next().value!);
    recent.set(key, result);
  }
  return result;
}

function parseUncached(input: string, defaultCountry: string): PhoneParse {
  const trimmed = input.trim();
  if (!/^[+\d\s().-]{3,32}$/.test(trimmed)) {
    return { ok: false, reason: "use E.164 such as +14155550123, or a national number" };
  }
  const parsed = parsePhoneNumberFromString(trimmed, defaultCountry as CountryCode);
  if (!parsed || !parsed.isPossible()) return { ok: false, reason: "not a possible phone number" };
  // With full metadata a number is valid exactly when it has a type: one pattern walk, not two.
  const type = parsed.getType();
  if (!type) return { ok: false, reason: "not a valid phone number for its country" };
  return { ok: true, phone: Object.freeze({ e164: parsed.number, country: parsed.country, type }) };
}

/** For logs: enough to tell numbers apart, not enough to call one (+1415•••1234). */
export function maskNumber(e164: string): string {
  if (e164.length <= 8) return "•••";
  return `${e164.slice(0, 5)}•••${e164.slice(-4)}`;
}
