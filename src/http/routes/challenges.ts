import { Hono } from "hono";
import type { AppDeps, AppEnv } from "../../app.js";
import { getChallenge } from "../../otp/challenges.js";
import { AppError } from "../errors.js";

export function challengeRoutes(deps: AppDeps) {
  const app = new Hono<AppEnv>();
  app.get("/challenges/:id", async (c) => {
    const id = c.req.param("id");
    const view = /^[\w-]{1,64}$/.test(id) ? await getChallenge(deps.otp, id) : null;
    if (!view) throw new AppError("not_found", "no challenge with this id");
    return c.json({
      id: view.id,
      number: view.number,
      status: view.status,
      language: view.language,
      attempts_used: view.attemptsUsed,
      attempts_allowed: view.attemptsAllowed,
      created_at: view.createdAt.toISOString(),
      expires_at: view.expiresAt.toISOString(),
      ended_at: view.endedAt?.toISOString() ?? null,
      failure_code: view.failureCode,
      api_key: view.apiKeyName,
      call: {
        carrier: view.carrier,
        sid: view.callSid,
        status: view.callStatus,
        answered_by: view.answeredBy,
        events: view.callEvents.map((e) => ({ status: e.status, at: e.at.toISOString() })),
      },
    });
  });
  return app;
}
