import type { CarrierRefusal, RefusalDetails } from "../carrier.js";

/**
 * What Telnyx's refusals of a create-call mean, in our words, from its API error codes
 * (developers.telnyx.com, "API error codes"). Telnyx has no API code for a destination
 * its account may not call: an outbound voice profile's destination list refuses the
 * call's SIP leg after the API accepted it (the D-codes), which reaches the service as
 * a failed call, not as a refusal here.
 */
const BY_CODE: Readonly<Record<string, CarrierRefusal>> = {
  "10002": "invalid_number", // Invalid phone number
  "10016": "invalid_number", // Phone number must be in +E.164 format
  "10009": "credentials", // Authentication failed
  "20002": "credentials", // API Key revoked
  "20006": "credentials", // Expired access token
  "10011": "throttled", // Too many requests
};

/** What the operator checks when Telnyx refuses the credentials. */
const CREDENTIALS = ["TELNYX_API_KEY"];

/** A Telnyx error object: `source.pointer` names the request field at fault ("/To"), or "/" for the request. */
export interface TelnyxErrorObject {
  code?: unknown;
  title?: unknown;
  detail?: unknown;
  source?: { pointer?: unknown };
}

/** Bounds on a wait read from the carrier's headers: at least a second, at most an hour. */
const waitSeconds = (value: string | null | undefined): number | undefined => {
  const n = Number(value);
  return value && Number.isFinite(n) ? Math.min(3600, Math.max(1, Math.ceil(n))) : undefined;
};

/**
 * A 4xx refusal of a create-call, in our words. A number code that points at another
 * field than To (our own From) is not the destination's fault. A 429's wait is read
 * from Retry-After, else from x-ratelimit-reset (seconds until the window resets).
 */
export function refusalOf(error: TelnyxErrorObject, status: number, headers: { get(name: string): string | null } | undefined): RefusalDetails {
  const code = String(error.code ?? "");
  let refusal = BY_CODE[code] ?? (status === 401 ? "credentials" : status === 429 ? "throttled" : "other");
  const pointer = typeof error.source?.pointer === "string" ? error.source.pointer.toLowerCase() : undefined;
  if (refusal === "invalid_number" && pointer !== undefined && pointer !== "/" && pointer !== "/to") refusal = "other";
  if (refusal === "credentials") return { refusal, variables: CREDENTIALS };
  if (refusal === "throttled") {
    return { refusal, retryAfterSeconds: waitSeconds(headers?.get("retry-after")) ?? waitSeconds(headers?.get("x-ratelimit-reset")) ?? 1 };
  }
  return { refusal };
}
