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
