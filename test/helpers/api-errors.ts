import type { Flavor, Outcome } from "../../src/simulator/index.js";

/** Create-call errors exactly as Twilio (and SignalWire's copy of its API) reports them, to script with Simulator.setOutcome. */
export const API_ERRORS = {
  invalidNumber: { kind: "api-error", status: 400, code: 21211, message: "The 'To' number is not a valid phone number." },
  authentication: { kind: "api-error", status: 401, code: 20003, message: "Authenticate" },
  serverError: { kind: "api-error", status: 500, code: 20500, message: "An internal server error has occurred" },
} as const satisfies Record<string, Outcome>;

/** The same refusals as Telnyx reports them (its API error codes). */
export const TELNYX_API_ERRORS = {
  invalidNumber: { kind: "api-error", status: 422, code: 10002, message: "The phone number is invalid." },
  authentication: { kind: "api-error", status: 401, code: 10009, message: "The required authentication headers were either invalid or not included in the request." },
  serverError: { kind: "api-error", status: 500, code: 10007, message: "An unexpected error occured." },
} as const satisfies Record<string, Outcome>;

/** The carrier's own create-call refusals. */
export const apiErrors = (flavor: Flavor) => (flavor === "telnyx" ? TELNYX_API_ERRORS : API_ERRORS);

/** A create-call refusal as the carrier words it, and what it means in ours (undefined: the call may have been placed). */
export interface Refusal {
  label: string;
  outcome: Extract<Outcome, { kind: "api-error" }>;
  refusal: "invalid_number" | "destination_not_allowed" | "credentials" | "throttled" | "other" | undefined;
  retryAfterSeconds?: number;
}

const fail = (status: number, code: number, message: string, more: { field?: string; headers?: Record<string, string> } = {}) =>
  ({ kind: "api-error", status, code, message, ...more }) as const;

/** Twilio's refusals (SignalWire's LaML API answers with the same codes), worded as its dictionary words them. */
const LAML_REFUSALS: Refusal[] = [
  { label: "21211 invalid To", outcome: API_ERRORS.invalidNumber, refusal: "invalid_number" },
  { label: "21214 unreachable", outcome: fail(400, 21214, "'To' phone number cannot be reached"), refusal: "invalid_number" },
  { label: "21217 not valid", outcome: fail(400, 21217, "Phone number does not appear to be valid"), refusal: "invalid_number" },
  { label: "13224 unsupported", outcome: fail(400, 13224, "Twilio does not support calling this number or the number is invalid"), refusal: "invalid_number" },
  {
    label: "21215 geographic permission",
    outcome: fail(400, 21215, "Account not authorized to call +12125550140. Perhaps you need to enable some international permissions"),
    refusal: "destination_not_allowed",
  },
  { label: "13227 geographic permission", outcome: fail(400, 13227, "Geo Permission configuration is not permitting call"), refusal: "destination_not_allowed" },
  { label: "21216 blocked", outcome: fail(400, 21216, "Call blocked by Twilio blocklist"), refusal: "destination_not_allowed" },
  { label: "21219 trial account", outcome: fail(400, 21219, "'To' phone number not verified"), refusal: "destination_not_allowed" },
  { label: "20003 credentials", outcome: API_ERRORS.authentication, refusal: "credentials" },
  { label: "20429 throttled", outcome: fail(429, 20429, "Too Many Requests"), refusal: "throttled", retryAfterSeconds: 1 },
  { label: "21210 caller ID not verified", outcome: fail(400, 21210, "The source phone number provided, +15005550006, is not yet verified for your account."), refusal: "other" },
  { label: "20500 server error", outcome: API_ERRORS.serverError, refusal: undefined },
];

/** Telnyx's refusals: its API error codes, with the field at fault and its rate-limit headers. */
const TELNYX_REFUSALS: Refusal[] = [
  { label: "10002 invalid number", outcome: TELNYX_API_ERRORS.invalidNumber, refusal: "invalid_number" },
  {
    label: "10016 To not E.164",
    outcome: fail(422, 10016, "The specified phone number parameter must be in +E.164 format.", { field: "To" }),
    refusal: "invalid_number",
  },
  {
    label: "10016 From not E.164 (our caller ID, not the number)",
    outcome: fail(422, 10016, "The specified phone number parameter must be in +E.164 format.", { field: "From" }),
    refusal: "other",
  },
  { label: "10009 credentials", outcome: TELNYX_API_ERRORS.authentication, refusal: "credentials" },
  { label: "20002 revoked key", outcome: fail(401, 20002, "API Key revoked"), refusal: "credentials" },
  {
    label: "10011 throttled (x-ratelimit-reset)",
    outcome: fail(429, 10011, "You have exceeded the maximum number of allowed requests.", { headers: { "x-ratelimit-reset": "7" } }),
    refusal: "throttled",
    retryAfterSeconds: 7,
  },
  {
    label: "10011 throttled (Retry-After)",
    outcome: fail(429, 10011, "You have exceeded the maximum number of allowed requests.", { headers: { "retry-after": "3", "x-ratelimit-reset": "40" } }),
    refusal: "throttled",
    retryAfterSeconds: 3,
  },
  { label: "10015 bad request", outcome: fail(400, 10015, "The request failed because it was not well-formed."), refusal: "other" },
  { label: "10007 server error", outcome: TELNYX_API_ERRORS.serverError, refusal: undefined },
];

/** Every refusal the tests script for a carrier, with its meaning in our words. */
export const refusalsOf = (flavor: Flavor): Refusal[] => (flavor === "telnyx" ? TELNYX_REFUSALS : LAML_REFUSALS);
