import { createRoute, OpenAPIHono } from "@hono/zod-openapi";
import { z } from "zod";
import type { AppDeps, AppEnv } from "../env.js";
import { checkCode, type CheckResult } from "../../otp/check-code.js";
import { parsePhone } from "../../phone.js";
import { sentBody } from "../body.js";
import { errorResponses, sharedStatus, keyRateLimitedExample } from "../error-docs.js";
import { AppError } from "../errors.js";
import { apiKeySecurity, bodyOf, jsonResponse, requestIdParam } from "../openapi-route.js";
import { DENIED_MESSAGES, validateApproved, validateDenied } from "../responses.js";
import { judgeGuess } from "../judge-guess.js";
import { validateAuthBody } from "../schemas.js";
import type { ServiceSettings } from "../../services/settings.js";

/** A real token (a throwaway key) for https://otp.example.com, +14155550123, the default service, issued 2026-11-22T09:30:00Z. */
const EXAMPLE_TOKEN =
  "eyJhbGciOiJFZERTQSIsInR5cCI6IkpXVCIsImtpZCI6Im5fTzd5a2FTM0NWenNxbVR1ZjhHaXQ2STJXand5YkdjMnU2NGhESFFNLWsifQ.eyJpc3MiOiJodHRwczovL290cC5leGFtcGxlLmNvbSIsInN1YiI6IisxNDE1NTU1MDEyMyIsImF1ZCI6ImRlZmF1bHQiLCJpYXQiOjE3OTUzMzk4MDAsImV4cCI6MTc5NTM0MDEwMCwianRpIjoiY2hfd19wZ2hySnV3QlNCZzd4ME5iY0JwQSIsImFtciI6WyJwaG9uZS1jYWxsIl19.IxJKe51wsCgUFJfxp5DFEzA6P3jbBH0csBeYdMQ0F08whRQ8YhecL2UUWA9GHyMJbI8SMVHXESqX8CzdnaCABA";

export const validateAuthRoute = createRoute({
  method: "post",
  path: "/validate-auth",
  tags: ["Verification"],
  summary: "Check the code the user typed",
  description:
    "Checks a code against the number's latest challenge (or the challenge with this id). Each guess counts, and is judged on the challenge as it stands: concurrent guesses, on any number of instances, cannot exceed OTP_MAX_ATTEMPTS, and a right code is approved once, with a `verification_token` another service can check without calling back. A wrong code is an answer (403 with `reason`), not an error.",
  security: apiKeySecurity,
  request: {
    headers: z.object({ "X-Request-Id": requestIdParam }),
    body: bodyOf(validateAuthBody, {
      by_number: { summary: "By number", value: { number: "+14155550123", auth_code: "471903" } },
      by_id: { summary: "By challenge id", value: { id: "ch_w_pghrJuwBSBg7x0NbcBpA", auth_code: "047190" } },
    }),
  },
  responses: {
    200: jsonResponse("The code is right.", validateApproved, {
      approved: {
        summary: "Approved, with a verification token",
        value: {
          status: "approved",
          id: "ch_w_pghrJuwBSBg7x0NbcBpA",
          verification_token: EXAMPLE_TOKEN,
          verification_token_expires_at: "2026-11-22T09:35:00.000Z",
        },
      },
    }),
    403: sharedStatus(jsonResponse("The code is refused; `reason` says why.", validateDenied, {
      incorrect: {
        summary: "A wrong code, 4 guesses left",
        value: {
          status: "denied",
          reason: "incorrect",
          attempts_remaining: 4,
          challenge_id: "ch_w_pghrJuwBSBg7x0NbcBpA",
          error: { code: "incorrect", message: DENIED_MESSAGES.incorrect },
        },
      },
      expired: {
        summary: "The code expired",
        value: {
          status: "denied",
          reason: "expired",
          attempts_remaining: 0,
          challenge_id: "ch_w_pghrJuwBSBg7x0NbcBpA",
          error: { code: "expired", message: DENIED_MESSAGES.expired },
        },
      },
      no_pending_challenge: {
        summary: "No code was ever requested for this number",
        value: {
          status: "denied",
          reason: "no_pending_challenge",
          attempts_remaining: 0,
          error: { code: "no_pending_challenge", message: DENIED_MESSAGES.no_pending_challenge },
        },
      },
    }), ["cross_origin", "forbidden"]),
    ...errorResponses([
      "invalid_request",
      "invalid_number",
      "unauthorized",
      "payload_too_large",
      "unsupported_media_type",
      "rate_limited",
      "internal_error",
      "service_unavailable",
      "shutting_down",
    ], {
      invalid_request: { message: "auth_code: auth_code must be digits only", field: "auth_code" },
      rate_limited: keyRateLimitedExample,
    }),
  },
});

/** E.164 as the service stores it: what most backends send, since request-auth answers with it. */
const E164 = /^\+[1-9]\d{6,14}$/;

export function validateAuthRoutes(deps: AppDeps) {
  const app = new OpenAPIHono<AppEnv>();

  /**
   * A number in E.164 is looked up as it is: a challenge is stored only under a number
   * that parsed to exactly that string, so finding one proves the number valid, and
   * parsing it with full metadata, the costliest step of a validation, can wait. Only
   * when no challenge was ever issued to it does the parse run, to tell an invalid
   * number (400) from one never called, and to retry under the canonical form when the
   * two differ (a trunk 0 after the country code, say).
   */
  async function checkByNumber(service: ServiceSettings, number: string, guess: string): Promise<CheckResult> {
    if (E164.test(number)) {
      const result = await checkCode(deps.otp, service, { number }, guess);
      if (!(result.kind === "denied" && result.reason === "no_pending_challenge" && result.unknown)) return result;
    }
    const parsed = parsePhone(number, deps.config.defaultCountry);
    if (!parsed.ok) throw new AppError("invalid_number", `number: ${parsed.reason}`);
    if (parsed.phone.e164 === number) return { kind: "denied", reason: "no_pending_challenge", attemptsRemaining: 0, unknown: true };
    return checkCode(deps.otp, service, { number: parsed.phone.e164 }, guess);
  }

  app.openapi(validateAuthRoute, async (c) => {
    const body = sentBody(c) === "json" ? c.req.valid("json") : c.req.valid("form");
    const service = c.get("service");
    const judged = await judgeGuess(c, deps, () =>
      body.id !== undefined ? checkCode(deps.otp, service, { id: body.id }, body.auth_code) : checkByNumber(service, body.number!, body.auth_code),
    );
    if (!judged.approved) return c.json(judged.denied, 403);
    const { id, verification_token, verification_token_expires_at } = judged;
    return c.json({ status: "approved" as const, id, verification_token, verification_token_expires_at }, 200);
  });
  return app;
}
