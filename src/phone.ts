import { parsePhoneNumberFromString, type CountryCode, type NumberType } from "libphonenumber-js/max";

export interface PhoneNumber {
  e164: string;
  country?: string;
  type?: NumberType;
}

export type PhoneParse = { ok: true; phone: PhoneNumber } | { ok: false; reason: string };

/** Parses E.164 or a national number in defaultCountry; refuses what cannot be a real number. */
export function parsePhone(input: string, defaultCountry: string): PhoneParse {
  const trimmed = input.trim();
  if (!/^[+\d\s().-]{3,32}$/.test(trimmed)) {
    return { ok: false, reason: "use E.164 such as +14155550123, or a national number" };
  }
  const parsed = parsePhoneNumberFromString(trimmed, defaultCountry as CountryCode);
  if (!parsed || !parsed.isPossible()) return { ok: false, reason: "not a possible phone number" };
  // With full metadata a number is valid exactly when it has a type: one pattern walk, not two.
  const type = parsed.getType();
  if (!type) return { ok: false, reason: "not a valid phone number for its country" };
  return { ok: true, phone: { e164: parsed.number, country: parsed.country, type } };
}

/** For logs: enough to tell numbers apart, not enough to call one (+1415•••1234). */
export function maskNumber(e164: string): string {
  if (e164.length <= 8) return "•••";
  return `${e164.slice(0, 5)}•••${e164.slice(-4)}`;
}
