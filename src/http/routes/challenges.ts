import { createRoute, OpenAPIHono } from "@hono/zod-openapi";
import { z } from "zod";
import type { AppDeps, AppEnv } from "../env.js";
import { getChallenge, type ChallengeView } from "../../otp/challenges.js";
import { errorResponses, keyRateLimitedExample } from "../error-docs.js";
import { AppError } from "../errors.js";
import { apiKeySecurity, jsonResponse, requestIdParam } from "../openapi-route.js";
import { challengeView, type ChallengeBody } from "../responses.js";
import { challengeId } from "../schemas.js";

const at = (s: number) => new Date(Date.UTC(2026, 10, 22, 23, 55, s)).toISOString();

/** Challenges as the routes show them: the examples of every route that answers with challenges. */
export const challengeExamples = {
  approved: {
    summary: "Answered by a person and approved",
    value: {
      id: "ch_w_pghrJuwBSBg7x0NbcBpA",
      service: "default",
      number: "+14155550123",
      status: "approved",
      language: "en",
      attempts_used: 1,
      attempts_allowed: 5,
      created_at: at(45),
      expires_at: "2026-11-23T00:05:45.000Z",
      ended_at: at(59),
      failure_code: null,
      api_key: "env:5f2b9c1d",
      call: {
        carrier: "twilio",
        sid: "CA5e1f0c9a8b7d6e5f4a3b2c1d0e9f8a7b",
        status: "completed",
        answered_by: "human",
        events: ["queued", "ringing", "in-progress", "completed"].map((status, i) => ({ status, at: at(45 + i * 3) })),
      },
      events: [
        { id: "msg_5f0c2a9e7b1d4c3a8e6f0b2d9c7a1e4f", type: "call.answered", state: "delivered", attempts: 1, last_status: 200, created_at: at(51), delivered_at: at(51) },
        { id: "msg_a81e3c7d2f904b6e9d1c5a7f3e2b8d06", type: "challenge.approved", state: "pending", attempts: 2, last_status: 503, created_at: at(59), delivered_at: null },
      ],
    },
  },
  busy: {
    summary: "The line was busy: the challenge failed and nobody heard the code",
    value: {
      id: "ch_Q2vY8kq0nW3xZ1a9bC4dEf",
      service: "svc_kQ3vX9mB2nR7tY1wZ4pL",
      number: "+14155550124",
      status: "failed",
      language: "es",
      attempts_used: 0,
      attempts_allowed: 5,
      created_at: at(10),
      expires_at: "2026-11-23T00:05:10.000Z",
      ended_at: at(16),
      failure_code: "call-busy",
      api_key: "billing-backend",
      call: {
        carrier: "signalwire",
        sid: "3b6f1c2e-6a7d-4e8f-9a0b-1c2d3e4f5a6b",
        status: "busy",
        answered_by: null,
        events: ["queued", "ringing", "busy"].map((status, i) => ({ status, at: at(10 + i * 2) })),
      },
      events: [],
    },
  },
} satisfies Record<string, { summary: string; value: ChallengeBody }>;

export const challengeRoute = createRoute({
  method: "get",
  path: "/challenges/{id}",
  tags: ["Verification"],
  summary: "A challenge's state and call history",
  description: "Never the code. A key sees its own service's challenges only: another service's id answers 404, like an unknown one.",
  security: apiKeySecurity,
  request: {
    // Any text: an id that is not one of ours is answered 404, like an unknown one.
    params: z.object({ id: z.string().meta({ param: { example: "ch_w_pghrJuwBSBg7x0NbcBpA" }, description: "A challenge id, as returned by /request-auth." }) }),
    headers: z.object({ "X-Request-Id": requestIdParam }),
  },
  responses: {
    200: jsonResponse("The challenge.", challengeView, challengeExamples),
    ...errorResponses(["unauthorized", "cross_origin", "forbidden", "not_found", "rate_limited", "internal_error", "service_unavailable", "shutting_down"], {
      rate_limited: keyRateLimitedExample,
    }),
  },
});

export function challengeRoutes(deps: AppDeps) {
  const app = new OpenAPIHono<AppEnv>();
  app.openapi(challengeRoute, async (c) => {
    const id = c.req.param("id") ?? "";
    const view = challengeId.safeParse(id).success ? await getChallenge(deps.otp, c.get("service").id, id) : null;
    if (!view) throw new AppError("not_found", "no challenge with this id");
    return c.json(challengeBody(view), 200);
  });
  return app;
}

/** A challenge as every route shows it (GET, the list, cancel): never the code. */
export function challengeBody(view: ChallengeView): ChallengeBody {
  return {
    id: view.id,
    service: view.serviceId,
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
    events: view.events.map((e) => ({
      id: e.id,
      type: e.type,
      state: e.state,
      attempts: e.attempts,
      last_status: e.lastStatus,
      created_at: e.createdAt.toISOString(),
      delivered_at: e.deliveredAt?.toISOString() ?? null,
    })),
  };
}
