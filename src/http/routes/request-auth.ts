import { Hono } from "hono";
import type { AppDeps, AppEnv } from "../../app.js";
import { CarrierError } from "../../carriers/carrier.js";
import { issueChallenge, markFailed, recordCallPlaced } from "../../otp/challenges.js";
import { refuseDestination } from "../../limits/destinations.js";
import { maskNumber, parsePhone } from "../../phone.js";
import { resolveLanguage, LANGUAGES } from "../../voice/phrases.js";
import { readBody } from "../body.js";
import { AppError } from "../errors.js";
import { requestAuthBody } from "../schemas.js";

export function requestAuthRoutes(deps: AppDeps) {
  const app = new Hono<AppEnv>();
  app.post("/request-auth", async (c) => {
    const body = await readBody(c, requestAuthBody);
    const parsed = parsePhone(body.number, deps.config.defaultCountry);
    if (!parsed.ok) throw new AppError("invalid_number", `number: ${parsed.reason}`);
    const number = parsed.phone.e164;
    const refused = refuseDestination(parsed.phone, deps.config.destinations);
    if (refused) throw new AppError("destination_not_allowed", `number: ${refused}`);
    const language = resolveLanguage(body.language ?? deps.config.voice.language);
    if (!language) {
      throw new AppError("unsupported_language", `language: use one of ${LANGUAGES.join(", ")}`);
    }

    const issued = await issueChallenge(deps.otp, {
      number,
      language,
      gate: deps.config.voice.gate,
      carrier: deps.carrier.name,
      apiKeyName: c.get("apiKey").name,
      clientIp: body.client_ip,
    });
    if (issued.kind === "limited") {
      deps.metrics.limitRefusals.inc({ limit: issued.limit });
      c.get("log").warn({ limit: issued.limit, to: maskNumber(number) }, "call refused by a limit");
      throw new AppError(
        "rate_limited",
        issued.message,
        { limit: issued.limit, retry_after_seconds: issued.retryAfterSeconds },
        { "Retry-After": String(issued.retryAfterSeconds) },
      );
    }
    if (issued.kind === "attempts_exhausted") {
      deps.metrics.limitRefusals.inc({ limit: "attempts_exhausted" });
      const wait = Math.max(1, Math.ceil((issued.lockedUntil.getTime() - deps.clock.now().getTime()) / 1000));
      throw new AppError(
        "attempts_exhausted",
        "every code guess for this number is used up; a new call can be requested after Retry-After seconds",
        { retry_after_seconds: wait },
        { "Retry-After": String(wait) },
      );
    }

    const log = c.get("log").child({ challenge: issued.id, to: maskNumber(number) });
    const base = deps.publicBaseUrl();
    deps.metrics.callsRequested.inc({ carrier: deps.carrier.name });
    try {
      const call = await deps.carrier.placeCall({
        to: number,
        url: `${base}/call-2fa?c=${issued.id}`,
        statusCallback: `${base}/call-status?c=${issued.id}`,
        machineDetection: deps.config.voice.machineDetection,
      });
      deps.metrics.callsPlaced.inc({ carrier: deps.carrier.name });
      log.info({ callSid: call.callSid, carrier: deps.carrier.name }, "call placed");
      // The call is already ringing: failing to note its id must not turn into an error reply.
      await recordCallPlaced(deps.otp, issued.id, call.callSid, call.status).catch((err) =>
        log.error({ err }, "could not record the placed call"),
      );
    } catch (err) {
      if (!(err instanceof CarrierError)) throw err;
      deps.metrics.callsFailed.inc({ carrier: err.carrier, failure: err.failure });
      await markFailed(deps.otp, issued.id, `${err.failure}:${err.carrierCode}`).catch((e) =>
        log.error({ err: e }, "could not mark the challenge failed"),
      );
      log.warn({ carrier: err.carrier, failure: err.failure, carrierCode: err.carrierCode }, "carrier refused the call");
      throw new AppError(
        err.failure === "timeout" ? "carrier_timeout" : "carrier_error",
        `${err.carrier} ${err.failure === "timeout" ? "did not answer in time" : "refused the call"}: ${err.message}`,
        {
          carrier: err.carrier,
          carrier_code: err.carrierCode,
          carrier_status: err.carrierStatus,
          challenge_id: issued.id,
        },
      );
    }

    return c.json(
      {
        id: issued.id,
        number,
        status: "pending",
        expires_at: issued.expiresAt.toISOString(),
        attempts_allowed: issued.maxAttempts - issued.attempts,
      },
      201,
    );
  });
  return app;
}
