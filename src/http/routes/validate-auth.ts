import { Hono } from "hono";
import { z } from "zod";
import type { AppDeps, AppEnv } from "../../app.js";
import { checkCode } from "../../otp/check-code.js";
import { parsePhone } from "../../phone.js";
import { readBody } from "../body.js";
import { errorResponses, keyRateLimitedExample } from "../error-docs.js";
import { AppError } from "../errors.js";
import { apiKeySecurity, bodyOf, declareRoute, jsonResponse, requestIdParam, serveRoute } from "../openapi-route.js";
import { DENIED_MESSAGES, validateApproved, validateDenied } from "../responses.js";
import { validateAuthBody } from "../schemas.js";

export const validateAuthRoute = declareRoute({
  method: "post",
  path: "/validate-auth",
  tags: ["Verification"],
  summary: "Check the code the user typed",
  description:
    "Checks a code against the number's latest challenge (or the challenge with this id). Each guess counts, in one atomic statement: concurrent guesses cannot exceed OTP_MAX_ATTEMPTS, and a right code is approved once. A wrong code is an answer (403 with `reason`), not an error.",
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
      approved: { summary: "Approved", value: { status: "approved", id: "ch_w_pghrJuwBSBg7x0NbcBpA" } },
    }),
    403: jsonResponse("The code is refused; `reason` says why.", validateDenied, {
      incorrect: {
        summary: "A wrong code, 4 guesses left",
        value: { status: "denied", reason: "incorrect", attempts_remaining: 4, error: { code: "incorrect", message: DENIED_MESSAGES.incorrect } },
      },
      expired: {
        summary: "The code expired",
        value: { status: "denied", reason: "expired", attempts_remaining: 0, error: { code: "expired", message: DENIED_MESSAGES.expired } },
      },
      no_pending_challenge: {
        summary: "No code waiting for this number",
        value: {
          status: "denied",
          reason: "no_pending_challenge",
          attempts_remaining: 0,
          error: { code: "no_pending_challenge", message: DENIED_MESSAGES.no_pending_challenge },
        },
      },
    }),
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

export function validateAuthRoutes(deps: AppDeps) {
  const app = new Hono<AppEnv>();
  serveRoute(app, validateAuthRoute, async (c) => {
    const body = await readBody(c, validateAuthBody);
    let target: { number: string } | { id: string };
    if (body.id !== undefined) {
      target = { id: body.id };
    } else {
      const parsed = parsePhone(body.number!, deps.config.defaultCountry);
      if (!parsed.ok) throw new AppError("invalid_number", `number: ${parsed.reason}`);
      target = { number: parsed.phone.e164 };
    }
    const result = await checkCode(deps.otp, target, body.auth_code);
    deps.metrics.validations.inc({ result: result.kind === "approved" ? "approved" : result.reason });
    if (result.kind === "approved") {
      c.get("log").info({ challenge: result.id }, "code approved");
      return c.json({ status: "approved" as const, id: result.id }, 200);
    }
    c.get("log").info({ reason: result.reason }, "code denied");
    return c.json(
      {
        status: "denied" as const,
        reason: result.reason,
        attempts_remaining: result.attemptsRemaining,
        error: { code: result.reason, message: DENIED_MESSAGES[result.reason] },
      },
      403,
    );
  });
  return app;
}
