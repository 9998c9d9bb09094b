import { CarrierError } from "../carriers/carrier.js";
import { refuseDestination } from "../limits/destinations.js";
import { recordRefusal } from "../limits/refusal-log.js";
import type { RequestLog } from "../logger.js";
import { markFailed, recordCallPlaced } from "../otp/call-events.js";
import { issueChallenge } from "../otp/issue.js";
import { withdrawChallenge } from "../otp/withdraw.js";
import { maskNumber, parsePhone } from "../phone.js";
import type { ServiceSettings } from "../services/settings.js";
import { languageForNumber } from "../voice/number-language.js";
import { LANGUAGES, resolveLanguage } from "../voice/phrases.js";
import { carrierFailure } from "./carrier-failure.js";
import { callPlaced } from "./drain.js";
import type { AppDeps } from "./env.js";
import { AppError } from "./errors.js";
import type { RequestAuthCreated } from "./responses.js";

/**
 * Placing one verification call, whoever asks: POST /request-auth for a key's service, or
 * an auth system's hook (Supabase's Send SMS hook) for the service it is set up for. Every
 * check, limit and refusal is the same for both; a refusal is thrown as an AppError from
 * the catalogue, which each caller answers in its own shape.
 */

export interface CallRequest {
  service: ServiceSettings;
  /** As the caller wrote it: E.164, or national in DEFAULT_COUNTRY. */
  number: string;
  language?: string;
  clientIp?: string;
  /** The caller's own code; undefined: one is made. Never logged. */
  code?: string;
  /** Recorded on the challenge: the key's name, or the hook that asked. */
  apiKeyName: string;
  log: RequestLog;
}

export async function placeVerificationCall(deps: AppDeps, request: CallRequest): Promise<RequestAuthCreated> {
  const { service } = request;
  const parsed = parsePhone(request.number, deps.config.defaultCountry);
  if (!parsed.ok) throw new AppError("invalid_number", `number: ${parsed.reason}`);
  const number = parsed.phone.e164;
  const refused = refuseDestination(parsed.phone, service.destinations);
  if (refused) throw new AppError("destination_not_allowed", `number: ${refused}`);
  const language = request.language === undefined ? languageForNumber(parsed.phone, service.languages, service.language) : resolveLanguage(request.language);
  if (!language) {
    throw new AppError("unsupported_language", `language: use one of ${LANGUAGES.join(", ")}`);
  }

  const issued = await issueChallenge(deps.otp, {
    service,
    number,
    country: parsed.phone.country,
    language,
    gate: service.gate,
    carrier: deps.carrier.name,
    apiKeyName: request.apiKeyName,
    clientIp: request.clientIp,
    code: request.code,
  });
  // Counted for the service's statistics; failing to count it must not change the answer.
  const countRefusal = (limit: string) =>
    recordRefusal(deps.database, { serviceId: service.id, country: parsed.phone.country ?? "", limit, now: deps.clock.now() }).catch((err: unknown) =>
      request.log.error({ err }, "could not record the refusal for the statistics"),
    );
  if (issued.kind === "limited") {
    deps.metrics.limitRefusals.inc({ service: service.id, limit: issued.limit });
    await countRefusal(issued.limit);
    request.log.warn({ limit: issued.limit, to: maskNumber(number) }, "call refused by a limit");
    throw new AppError(
      "rate_limited",
      issued.message,
      { limit: issued.limit, retry_after_seconds: issued.retryAfterSeconds },
      { "Retry-After": String(issued.retryAfterSeconds) },
    );
  }
  if (issued.kind === "attempts_exhausted") {
    deps.metrics.limitRefusals.inc({ service: service.id, limit: "attempts_exhausted" });
    await countRefusal("attempts_exhausted");
    const wait = Math.max(1, Math.ceil((issued.lockedUntil.getTime() - deps.clock.now().getTime()) / 1000));
    throw new AppError(
      "attempts_exhausted",
      "every code guess for this number is used up; a new call can be requested after Retry-After seconds",
      { retry_after_seconds: wait },
      { "Retry-After": String(wait) },
    );
  }

  const log = request.log.child({ challenge: issued.id, to: maskNumber(number) });
  const base = deps.publicBaseUrl();
  deps.metrics.callsRequested.inc({ service: service.id, carrier: deps.carrier.name });
  try {
    const call = await deps.carrier.placeCall({
      to: number,
      url: `${base}/call-2fa?c=${issued.id}`,
      statusCallback: `${base}/call-status?c=${issued.id}`,
      machineDetection: service.machineDetection,
    });
    deps.metrics.callsPlaced.inc({ service: service.id, carrier: deps.carrier.name });
    log.info({ callSid: call.callSid, carrier: deps.carrier.name }, "call placed");
    callPlaced(deps.lifecycle, issued.id, service.otp.ttlSeconds * 1000);
    // The call is already ringing: failing to note its id must not turn into an error reply.
    await recordCallPlaced(deps.otp, issued.id, call.callSid, call.status).catch((err) => log.error({ err }, "could not record the placed call"));
  } catch (err) {
    if (!(err instanceof CarrierError)) throw err;
    deps.metrics.callsFailed.inc({ service: service.id, carrier: err.carrier, failure: err.failure });
    // Refused outright, the call rang nobody: it must not hold the number back (the
    // cooldown) nor use up a limit. Anything else may have rung, so it keeps counting.
    const failureCode = `${err.failure}:${err.carrierCode}`;
    const withdrawn =
      err.refusal !== undefined &&
      (await withdrawChallenge(deps.otp, issued, failureCode).catch((e) => {
        log.error({ err: e }, "could not withdraw the refused challenge");
        return false;
      }));
    if (!withdrawn) {
      await markFailed(deps.otp, issued.id, failureCode).catch((e) => log.error({ err: e }, "could not mark the challenge failed"));
    }
    throw carrierFailure(err, withdrawn ? undefined : issued.id, log);
  }

  return {
    id: issued.id,
    number,
    status: "pending",
    expires_at: issued.expiresAt.toISOString(),
    attempts_allowed: issued.maxAttempts - issued.attempts,
  };
}
