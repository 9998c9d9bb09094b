import type { PhoneNumber } from "../phone.js";

export interface DestinationPolicy {
  allowedCountries: readonly string[];
  blockedPrefixes: readonly string[];
}

// A code is read to a person: lines that bill the caller (premium rate, shared cost),
// reach no one (pager, voicemail access) or forward anywhere (personal numbers, UAN)
// are refused. VoIP lines belong to people and stay callable.
const PERSONAL_LINES = new Set(["MOBILE", "FIXED_LINE", "FIXED_LINE_OR_MOBILE", "VOIP"]);
const TYPE_NAMES: Record<string, string> = {
  PREMIUM_RATE: "a premium-rate number",
  SHARED_COST: "a shared-cost number",
  TOLL_FREE: "a toll-free number",
  PERSONAL_NUMBER: "a personal (forwarding) number",
  PAGER: "a pager",
  UAN: "a universal access number",
  VOICEMAIL: "a voicemail access number",
};

/** Why this number must not be called, or null when it may be. */
export function refuseDestination(phone: PhoneNumber, policy: DestinationPolicy): string | null {
  const blocked = policy.blockedPrefixes.find((p) => phone.e164.startsWith(p));
  if (blocked) return `numbers starting ${blocked} are blocked (BLOCKED_PREFIXES)`;
  if (!phone.country || !policy.allowedCountries.includes(phone.country)) {
    return `calls to ${phone.country ?? "this region"} are not allowed (ALLOWED_COUNTRIES is ${policy.allowedCountries.join(",")})`;
  }
  if (phone.type && !PERSONAL_LINES.has(phone.type)) {
    return `this is ${TYPE_NAMES[phone.type] ?? `a ${phone.type.toLowerCase().replace(/_/g, "-")} number`}; only personal lines are called`;
  }
  return null;
}
