import { createRoute, OpenAPIHono } from "@hono/zod-openapi";
import { z } from "zod";
import type { AppDeps, AppEnv } from "../env.js";
import { sentBody } from "../body.js";
import { errorResponses } from "../error-docs.js";
import { AppError } from "../errors.js";
import { apiKeySecurity, bodyOf, jsonResponse, requestIdParam } from "../openapi-route.js";
import { placeVerificationCall } from "../place-call.js";
import { requestAuthCreated, type RequestAuthCreated } from "../responses.js";
import { idempotencyKey, requestAuthBody } from "../schemas.js";

export const requestAuthRoute = createRoute({
  method: "post",
  path: "/request-auth",
  tags: ["Verification"],
  summary: "Call a number and read it a new code",
  description:
    "Creates a challenge in the key's service (one code for one number, of the service's `code_length`, valid `code_ttl_seconds`, `max_attempts` guesses) and asks the carrier to call. Without `language`, the call speaks the number's country's language if the service lists it in `languages`, else the service's `language`. A pending challenge for the same number in the service is superseded; its wrong guesses carry over. The 201 means the carrier accepted the call, not that anyone answered: follow it with GET /challenges/{id}. When the carrier refuses the call outright (400 `invalid_number` or `destination_not_allowed` with `carrier_code`, 503 `carrier_auth_failed` or `carrier_throttled`), nobody's phone rang: no challenge is kept and nothing counts toward the limits. With `code` (a service with `allow_custom_code` only), the call reads your code instead of one made here; it is never echoed, in this answer or anywhere else. In a form, encode `+` as `%2B`.",
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
      own_code: {
        summary: "Your own code, made by your sign-in system (a service with allow_custom_code)",
        value: { number: "+14155550125", code: "482913" },
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
      "custom_code_not_allowed",
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
    // Refused before anything is read or counted: a key that may not choose the code learns nothing else.
    if (body.code !== undefined && !service.allowCustomCode) {
      throw new AppError(
        "custom_code_not_allowed",
        "code: this service makes its own codes; to send yours, set allow_custom_code=true on the service (ALLOW_CUSTOM_CODE=true for the default service), or leave code out",
      );
    }
    const created: RequestAuthCreated = await placeVerificationCall(deps, {
      service,
      number: body.number,
      language: body.language,
      clientIp: body.client_ip,
      code: body.code,
      apiKeyName: c.get("apiKey").name,
      log: c.get("log"),
    });
    return c.json(created, 201);
  });
  return app;
}
