import type { CarrierError } from "../carriers/carrier.js";
import type { RequestLog } from "../logger.js";
import { AppError } from "./errors.js";

/**
 * What a carrier's failure to place a call becomes for the client, and for the log.
 * The carrier's folder has already said what its code means (CarrierError.refusal);
 * here are only our words. `challengeId` is the challenge kept for a call that may have
 * been placed; a refusal before any call leaves none.
 */
export function carrierFailure(err: CarrierError, challengeId: string | undefined, log: RequestLog): AppError {
  const carrier = { carrier: err.carrier, carrier_code: err.carrierCode, carrier_status: err.carrierStatus };
  const logged = { carrier: err.carrier, carrierCode: err.carrierCode, carrierStatus: err.carrierStatus };
  switch (err.refusal) {
    case "invalid_number":
      log.warn(logged, "the carrier refused the number");
      return new AppError("invalid_number", `number: ${err.carrier} refused to call it (${err.carrierCode}): ${err.message}`, carrier);
    case "destination_not_allowed":
      log.warn(logged, "the carrier account may not call this destination");
      return new AppError(
        "destination_not_allowed",
        `number: ${err.carrier} will not call it from this service's account (${err.carrierCode}): ${err.message}`,
        carrier,
      );
    case "credentials": {
      // Every call fails until an operator acts: loud, and saying what to look at.
      const variables = err.variables ?? [];
      log.error(
        { ...logged, variables },
        `${err.carrier} refused the service's credentials (${err.carrierCode}: ${err.message}): no call can be placed until ${variables.join(", ")} ${variables.length === 1 ? "is" : "are"} corrected`,
      );
      return new AppError(
        "carrier_auth_failed",
        `${err.carrier} refused this service's credentials, so no call can be placed; its operator must correct them (the service's log names the variables)`,
        carrier,
      );
    }
    case "throttled": {
      const wait = err.retryAfterSeconds ?? 1;
      log.warn({ ...logged, retryAfterSeconds: wait }, "the carrier throttled the call");
      return new AppError(
        "carrier_throttled",
        `${err.carrier} asks this service to slow down; no call was placed, retry after Retry-After seconds`,
        { ...carrier, retry_after_seconds: wait },
        { "Retry-After": String(wait) },
      );
    }
  }
  log.warn({ ...logged, failure: err.failure }, "carrier refused the call");
  const timedOut = err.failure === "timeout";
  return new AppError(
    timedOut ? "carrier_timeout" : "carrier_error",
    `${err.carrier} ${timedOut ? "did not answer in time" : err.refusal ? "refused the call" : "could not place the call"}: ${err.message}`,
    { ...carrier, challenge_id: challengeId },
  );
}
