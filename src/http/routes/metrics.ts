import { createHash, timingSafeEqual } from "node:crypto";
import { createRoute, OpenAPIHono } from "@hono/zod-openapi";
import { z } from "zod";
import type { AppDeps, AppEnv } from "../env.js";
import { errorResponses } from "../error-docs.js";
import { AppError } from "../errors.js";
import { withRequestId } from "../openapi-route.js";

const digest = (s: string) => createHash("sha256").update(s).digest();

export const metricsRoute = createRoute({
  method: "get",
  path: "/metrics",
  tags: ["Operations"],
  summary: "Prometheus metrics",
  description:
    "Prometheus text from this instance (sum the instances in Prometheus). Labels are bounded sets: never a number, a challenge id or a code. With METRICS_TOKEN set, scrapers send it as a Bearer token; without it the route is open.",
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

/** Prometheus scrape endpoint; with METRICS_TOKEN set, scrapers must send it as a Bearer token. */
export function metricsRoutes(deps: AppDeps) {
  const app = new OpenAPIHono<AppEnv>();
  const token = deps.config.metricsToken ? digest(deps.config.metricsToken) : null;
  app.openapi(metricsRoute, async (c) => {
    if (token) {
      const given = /^Bearer\s+(\S+)$/i.exec(c.req.header("authorization") ?? "")?.[1];
      if (!given || !timingSafeEqual(digest(given), token)) {
        throw new AppError("unauthorized", "send Authorization: Bearer <METRICS_TOKEN>", undefined, {
          "WWW-Authenticate": 'Bearer realm="voice-otp metrics"',
        });
      }
    }
    return c.body(await deps.metrics.registry.metrics(), 200, { "Content-Type": deps.metrics.registry.contentType });
  });
  return app;
}
