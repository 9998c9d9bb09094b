import { createRoute, OpenAPIHono } from "@hono/zod-openapi";
import type { AppDeps, AppEnv } from "../env.js";
import { errorResponses } from "../error-docs.js";
import { AppError } from "../errors.js";
import { jsonResponse, publicRoute } from "../openapi-route.js";
import { healthBody, readyBody } from "../responses.js";

export const healthRoute = createRoute({
  method: "get",
  path: "/healthz",
  tags: ["Operations"],
  summary: "Liveness",
  description: "200 while the process serves HTTP. No key needed.",
  security: publicRoute,
  responses: {
    200: jsonResponse("The process serves HTTP.", healthBody, { ok: { summary: "Alive", value: { status: "ok" } } }),
  },
});

export const readyRoute = createRoute({
  method: "get",
  path: "/readyz",
  tags: ["Operations"],
  summary: "Readiness, for a load balancer",
  description: "200 when the database answers within 1.5 s; 503 when it does not, and as soon as shutdown begins. No key needed.",
  security: publicRoute,
  responses: {
    200: jsonResponse("Ready: the database answers.", readyBody, { ready: { summary: "Ready", value: { status: "ready", database: "ok" } } }),
    ...errorResponses(["service_unavailable", "shutting_down"], {
      service_unavailable: { message: "the database did not answer" },
      shutting_down: { message: "this instance is shutting down; the load balancer should use another" },
    }),
  },
});

export function healthRoutes(deps: AppDeps) {
  const app = new OpenAPIHono<AppEnv>();
  app.openapi(healthRoute, (c) => c.json({ status: "ok" as const }, 200));
  app.openapi(readyRoute, async (c) => {
    if (deps.lifecycle.draining) {
      throw new AppError("shutting_down", "this instance is shutting down; the load balancer should use another");
    }
    try {
      await deps.database.ping(1500);
    } catch {
      throw new AppError("service_unavailable", "the database did not answer");
    }
    return c.json({ status: "ready" as const, database: "ok" as const }, 200);
  });
  return app;
}
