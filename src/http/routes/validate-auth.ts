import { Hono } from "hono";
import type { AppDeps, AppEnv } from "../../app.js";
import { checkCode } from "../../otp/challenges.js";
import { parsePhone } from "../../phone.js";
import { readBody } from "../body.js";
import { keyRateLimited } from "../auth.js";
import { AppError } from "../errors.js";
import { validateAuthBody } from "../schemas.js";

const DENIED_MESSAGES = {
  incorrect: "the code is not right",
  expired: "the code has expired; request a new call",
  no_pending_challenge: "there is no code waiting for this number; request a call first",
  too_many_attempts: "too many wrong codes; request a new call later",
  locked: "too many wrong codes for this number in the last 24 hours; validation is locked until they age out",
} as const;

export function validateAuthRoutes(deps: AppDeps) {
  const app = new Hono<AppEnv>();
  app.post("/validate-auth", async (c) => {
    const body = await readBody(c, validateAuthBody);
    let target: { number: string } | { id: string };
    if (body.id !== undefined) {
      target = { id: body.id };
    } else {
      const parsed = parsePhone(body.number!, deps.config.defaultCountry);
      if (!parsed.ok) throw new AppError("invalid_number", `number: ${parsed.reason}`);
      target = { number: parsed.phone.e164 };
    }
    const admission = c.get("apiKey").admission;
    const result = await checkCode(deps.otp, target, body.auth_code, admission);
    if (result.kind === "rate_limited") throw keyRateLimited(deps, admission, result.retryAfterSeconds);
    deps.metrics.validations.inc({ result: result.kind === "approved" ? "approved" : result.reason });
    if (result.kind === "approved") {
      c.get("log").info({ challenge: result.id }, "code approved");
      return c.json({ status: "approved", id: result.id }, 200);
    }
    c.get("log").info({ reason: result.reason }, "code denied");
    return c.json(
      {
        status: "denied",
        reason: result.reason,
        attempts_remaining: result.attemptsRemaining,
        error: { code: result.reason, message: DENIED_MESSAGES[result.reason] },
      },
      403,
    );
  });
  return app;
}
