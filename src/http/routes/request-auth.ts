import { createRoute, OpenAPIHono } from "@hono/zod-openapi";
import { z } from "zod";
import type { AppDeps, AppEnv } from "../env.js";
import { CarrierError } from "../../carriers/carrier.js";
import { markFailed, recordCallPlaced } from "../../otp/call-events.js";
import { issueChallenge } from "../../otp/issue.js";
import { withdrawChallenge } from "../../otp/withdraw.js";
import { refuseDestination } from "../../limits/destinations.js";
import { recordRefusal } from "../../limits/refusal-log.js";
import { maskNumber, parsePhone } from "../../phone.js";
import { languageForNumber } from "../../voice/number-language.js";
import { resolveLanguage, LANGUAGES } from "../../voice/phrases.js";
import { sentBody } from "../body.js";
import { carrierFailure } from "../carrier-failure.js";
import { errorResponses } from "../error-docs.js";
import { callPlaced } from "../drain.js";
import { AppError } from "../errors.js";
import { apiKeySecurity, bodyOf, jsonResponse, requestIdParam } from "../openapi-route.js";
import { requestAuthCreated, type RequestAuthCreated } from "../responses.js";
import { idempotencyKey, requestAuthBody } from "../schemas.js";

export const requestAuthRoute = createRoute({
  method: "post",
  path: "/request-auth",
  tags: ["Verification"],
  summary: "Call a number and read it a new code",
  description:
    "Creates a challenge in the key's service (one code for one number, of the service's `code_length`, valid `code_ttl_seconds`, `max_attempts` guesses) and asks the carrier to call. Without `language`, the call speaks the number's country's language if the service lists it in `languages`, else the service's `language`. A pending challenge for the same number in the service is superseded; its wrong guesses carry over. The 201 means the carrier accepted the call, not that anyone answered: follow it with GET /challenges/{id}. When the carrier refuses the call outright (400 `invalid_number` or `destination_not_allowed` with `carrier_code`, 503 `carrier_auth_failed` or `carrier_throttled`), nobody's phone rang: no challenge is kept and nothing counts toward the limits. In a form, encode `+` as `%2B`.",
  security: apiKeySecurity,
  request: {
    headers: z.object({
      // No example: the reference page would fill it in, and the first "Try it out" would use it up for every reader after.
      "Idempotency-Key": idempotencyKey.optional(),
      "X-Request-Id": requestIdParam,
    }),
    body: bodyOf(requestAuthBody, {
      e164: { summary: "A number in E.164", value: { number: "+14155550123" } },
      national: {
        summary: "A national number, in Spanish, with the end user's address",
        value: { number: "(415) 555-0124", language: "es", client_ip: "203.0.113.7" },
      },
    }),
  },
  responses: {
    201: jsonResponse(
      "The carrier accepted the call: the phone is ringing.",
      requestAuthCreated,
      {
        created: {
          summary: "A call placed",
          value: { id: "ch_w_pghrJuwBSBg7x0NbcBpA", number: "+14155550123", status: "pending", expires_at: "2026-11-23T00:05:45.167Z", attempts_allowed: 5 },
        },
      },
      { "Idempotent-Replayed": z.literal("true").optional().meta({ description: "This is the stored answer to an earlier request with the same Idempotency-Key; no second call was placed." }) },
    ),
    ...errorResponses([
      "invalid_request",
      "invalid_number",
      "destination_not_allowed",
      "unsupported_language",
      "unauthorized",
      "cross_origin",
      "forbidden",
      "idempotency_in_flight",
      "payload_too_large",
      "unsupported_media_type",
      "idempotency_key_reused",
      "attempts_exhausted",
      "rate_limited",
      "internal_error",
      "carrier_error",
      "service_unavailable",
      "shutting_down",
      "carrier_auth_failed",
      "carrier_throttled",
      "carrier_timeout",
    ]),
  },
});

export function requestAuthRoutes(deps: AppDeps) {
  const app = new OpenAPIHono<AppEnv>();
  app.openapi(requestAuthRoute, async (c) => {
    const body = sentBody(c) === "json" ? c.req.valid("json") : c.req.valid("form");
    const service = c.get("service");
    const parsed = parsePhone(body.number, deps.config.defaultCountry);
    if (!parsed.ok) throw new AppError("invalid_number", `number: ${parsed.reason}`);
    const number = parsed.phone.e164;
    const refused = refuseDestination(parsed.phone, service.destinations);
    if (refused) throw new AppError("destination_not_allowed", `number: ${refused}`);
    const language = body.language === undefined ? languageForNumber(parsed.phone, service.languages, service.language) : resolveLanguage(body.language);
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
      apiKeyName: c.get("apiKey").name,
      clientIp: body.client_ip,
    });
    // Counted for the service's statistics; failing to count it must not change the answer.
    const countRefusal = (limit: string) =>
      recordRefusal(deps.database, { serviceId: service.id, country: parsed.phone.country ?? "", limit, now: deps.clock.now() }).catch((err: unknown) =>
        c.get("log").error({ err }, "could not record the refusal for the statistics"),
      );
    if (issued.kind === "limited") {
      deps.metrics.limitRefusals.inc({ service: service.id, limit: issued.limit });
      await countRefusal(issued.limit);
      c.get("log").warn({ limit: issued.limit, to: maskNumber(number) }, "call refused by a limit");
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

    const log = c.get("log").child({ challenge: issued.id, to: maskNumber(number) });
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
      await recordCallPlaced(deps.otp, issued.id, call.callSid, call.status).catch((err) =>
        log.error({ err }, "could not record the placed call"),
      );
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
        await markFailed(deps.otp, issued.id, failureCode).catch((e) =>
          log.error({ err: e }, "could not mark the challenge failed"),
        );
      }
      throw carrierFailure(err, withdrawn ? undefined : issued.id, log);
    }

    const created: RequestAuthCreated = {
      id: issued.id,
      number,
      status: "pending",
      expires_at: issued.expiresAt.toISOString(),
      attempts_allowed: issued.maxAttempts - issued.attempts,
    };
    return c.json(created, 201);
  });
  return app;
}
