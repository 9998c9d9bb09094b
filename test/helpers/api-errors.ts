import type { Outcome } from "../../src/simulator/index.js";

/** Create-call errors exactly as the carrier reports them, to script with Simulator.setOutcome. */
export const API_ERRORS = {
  invalidNumber: { kind: "api-error", status: 400, code: 21211, message: "The 'To' number is not a valid phone number." },
  authentication: { kind: "api-error", status: 401, code: 20003, message: "Authenticate" },
  serverError: { kind: "api-error", status: 500, code: 20500, message: "An internal server error has occurred" },
} as const satisfies Record<string, Outcome>;
