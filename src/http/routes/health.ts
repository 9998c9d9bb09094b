import { Hono } from "hono";
import type { AppDeps } from "../../app.js";

export function healthRoutes(deps: AppDeps) {
  const app = new Hono();
  app.get("/healthz", (c) => c.json({ status: "ok" }));
  app.get("/readyz", async (c) => {
    if (deps.lifecycle.draining) {
      return c.json({ error: { code: "shutting_down", message: "this instance is shutting down" } }, 503);
    }
    try {
      await deps.database.ping(1500);
      return c.json({ status: "ready", database: "ok" });
    } catch {
      return c.json({ error: { code: "service_unavailable", message: "the database did not answer" } }, 503);
    }
  });
  return app;
}
