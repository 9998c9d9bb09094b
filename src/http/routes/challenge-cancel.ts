import { createRoute, OpenAPIHono } from "@hono/zod-openapi";
import { z } from "zod";
import type { AppDeps, AppEnv } from "../env.js";
import { cancelChallenge } from "../../otp/cancel.js";
import { errorResponses, keyRateLimitedExample } from "../error-docs.js";
import { AppError } from "../errors.js";
import { apiKeySecurity, jsonResponse, requestIdParam } from "../openapi-route.js";
import { challengeView } from "../responses.js";
import { challengeId } from "../schemas.js";
import { challengeBody, challengeExamples } from "./challenges.js";

const approved = challengeExamples.approved.value;

export const cancelRoute = createRoute({
  method: "post",
  path: "/challenges/{id}/cancel",
  tags: ["Verification"],
  summary: "End a pending challenge",
  description:
    "Ends a pending challenge of the key's service (the user gave up, or verified another way): its code is wiped, every guess at it is refused (`no_pending_challenge`), and a call still ringing hears that the code is no longer available. The call still counts toward the limits, and its wrong guesses toward the number's guessing budget. Canceling a canceled challenge answers the same 200; one that ended otherwise answers 409 `challenge_not_pending` and changes nothing. Takes no body.",
  security: apiKeySecurity,
  request: {
    params: z.object({ id: z.string().meta({ param: { example: "ch_w_pghrJuwBSBg7x0NbcBpA" }, description: "A challenge id, as returned by /request-auth." }) }),
    headers: z.object({ "X-Request-Id": requestIdParam }),
  },
  responses: {
    200: jsonResponse("The challenge, now (or already) canceled.", challengeView, {
      canceled: {
        summary: "Canceled while its call was ringing",
        value: {
          ...approved,
          status: "canceled",
          attempts_used: 0,
          call: { ...approved.call, status: "ringing", answered_by: null, events: approved.call.events.slice(0, 2) },
        },
      },
    }),
    ...errorResponses(["unauthorized", "cross_origin", "forbidden", "not_found", "challenge_not_pending", "rate_limited", "internal_error", "service_unavailable", "shutting_down"], {
      rate_limited: keyRateLimitedExample,
    }),
  },
});

export function challengeCancelRoutes(deps: AppDeps) {
  const app = new OpenAPIHono<AppEnv>();
  app.openapi(cancelRoute, async (c) => {
    const id = c.req.param("id") ?? "";
    const result = challengeId.safeParse(id).success ? await cancelChallenge(deps.otp, c.get("service").id, id) : { kind: "not_found" as const };
    if (result.kind === "not_found") throw new AppError("not_found", "no challenge with this id");
    if (result.kind === "not_pending") {
      const status = result.view.status;
      throw new AppError("challenge_not_pending", `the challenge is ${status}, not pending; nothing was changed`, { status });
    }
    c.get("log").info({ challenge: id }, "challenge canceled");
    return c.json(challengeBody(result.view), 200);
  });
  return app;
}
