import type { CarrierRefusal, RefusalDetails } from "../carrier.js";

/**
 * What Twilio's refusals of a create-call mean, in our words, from its error dictionary
 * (twilio.com/docs/api/errors/<code>). SignalWire's LaML API answers with the same
 * codes for the same faults (21210, 21212, 21217, 21219 in its own error list), so its
 * adapter uses this table too. Codes that name our own request (21201 no To, 21205 the
 * URL) or our caller ID (21210, 21212) are not the destination's fault and stay "other".
 */
const BY_CODE: Readonly<Record<string, CarrierRefusal>> = {
  // The number is not a phone number, or no route reaches it.
  "21211": "invalid_number", // Invalid 'To' Phone Number
  "21214": "invalid_number", // 'To' phone number cannot be reached
  "21217": "invalid_number", // Phone number does not appear to be valid
  // The same faults as <Dial> reports them, should the API answer with them.
  "13223": "invalid_number", // Dial: Invalid phone number format
  "13224": "invalid_number", // Dial: Twilio does not support calling this number or the number is invalid
  "13226": "invalid_number", // Dial: Invalid country code
  // A real number the account may not call: its permissions, not the number, are at fault.
  "21215": "destination_not_allowed", // Geo Permission configuration is not permitting call
  "13227": "destination_not_allowed", // the same, from <Dial>
  "21216": "destination_not_allowed", // Call blocked by Twilio (high fraud risk, regulation)
  "21202": "destination_not_allowed", // 'To' number is a premium number
  "21203": "destination_not_allowed", // International calling not enabled
  "21219": "destination_not_allowed", // 'To' phone number not verified (trial accounts call verified numbers only)
  "20003": "credentials", // Authenticate
  "20429": "throttled", // Too Many Requests
};

/**
 * Twilio does not say how long to wait after 20429: its dictionary says the request was
 * never processed and is safe to retry "after a short period of time", and the SDK's
 * RestException keeps no response header to read one from.
 */
const THROTTLED_RETRY_SECONDS = 1;

/**
 * A 4xx refusal of a create-call, in our words. `credentials` are the variables the
 * operator must check, which differ between Twilio and SignalWire.
 */
export function refusalOf(code: string, status: number, credentials: readonly string[]): RefusalDetails {
  const refusal = BY_CODE[code] ?? (status === 401 ? "credentials" : status === 429 ? "throttled" : "other");
  if (refusal === "credentials") return { refusal, variables: credentials };
  if (refusal === "throttled") return { refusal, retryAfterSeconds: THROTTLED_RETRY_SECONDS };
  return { refusal };
}
