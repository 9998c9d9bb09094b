import { createRoute, OpenAPIHono } from "@hono/zod-openapi";
import { z } from "zod";
import type { AppDeps, AppEnv } from "../env.js";
import { errorResponses } from "../error-docs.js";
import { bearerAuth } from "hono/bearer-auth";
import { refusal } from "../auth.js";
import { withRequestId } from "../openapi-route.js";

export const metricsRoute = createRoute({
  method: "get",
  path: "/metrics",
  tags: ["Operations"],
  summary: "Prometheus metrics",
  description:
    "Prometheus text from this instance (sum the instances in Prometheus). Labels are bounded sets: never a number, a challenge id or a code. With METRICS_TOKEN set (required in production), scrapers send it as a Bearer token; without it the route is open.",
  security: [{ metricsToken: [] }, {}],
  responses: {
    200: {
      description: "Prometheus text exposition format 0.0.4 (`text/plain; version=0.0.4; charset=utf-8`).",
      headers: withRequestId(),
      content: {
        "text/plain": {
          schema: z.string(),
          example: '# HELP voice_otp_calls_placed_total Calls the carrier accepted\n# TYPE voice_otp_calls_placed_total counter\nvoice_otp_calls_placed_total{carrier="twilio"} 42\n',
        },
      },
    },
    ...errorResponses(["unauthorized"], { unauthorized: { message: "send Authorization: Bearer <METRICS_TOKEN>" } }),
  },
});

/** Prometheus scrape endpoint; with METRICS_TOKEN set, Hono's bearerAuth asks scrapers for it. */
export function metricsRoutes(deps: AppDeps) {
  const app = new OpenAPIHono<AppEnv>();
  const token = deps.config.metricsToken;
  if (token) {
    const refuse = refusal("send Authorization: Bearer <METRICS_TOKEN>");
    // On GET only: another method is answered 405 like on every route, token or not.
    app.on(
      "GET",
      "/metrics",
      bearerAuth({
        token,
        realm: "voice-otp metrics",
        noAuthenticationHeader: { message: refuse },
        invalidAuthenticationHeader: { message: refuse, wwwAuthenticateHeader: 'Bearer realm="voice-otp metrics"' },
        invalidToken: { message: refuse },
      }),
    );
  }
  app.openapi(metricsRoute, async (c) =>
    c.body(await deps.metrics.registry.metrics(), 200, { "Content-Type": deps.metrics.registry.contentType }),
  );
  return app;
}
