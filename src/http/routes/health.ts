import { Hono } from "hono";
import type { AppDeps } from "../../app.js";
import { AppError, sendError } from "../errors.js";

export function healthRoutes(deps: AppDeps) {
  const app = new Hono();
  app.get("/healthz", (c) => c.json({ status: "ok" }));
  app.get("/readyz", async (c) => {
    if (deps.lifecycle.draining) {
      return sendError(c, new AppError("shutting_down", "this instance is shutting down; the load balancer should use another"));
    }
    try {
      await deps.database.ping(1500);
      return c.json({ status: "ready", database: "ok" });
    } catch {
      return sendError(c, new AppError("service_unavailable", "the database did not answer"));
    }
  });
  return app;
}
