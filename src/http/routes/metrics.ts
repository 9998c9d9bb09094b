import { createHash, timingSafeEqual } from "node:crypto";
import { Hono } from "hono";
import type { AppDeps, AppEnv } from "../../app.js";
import { AppError } from "../errors.js";

const digest = (s: string) => createHash("sha256").update(s).digest();

/** Prometheus scrape endpoint; with METRICS_TOKEN set, scrapers must send it as a Bearer token. */
export function metricsRoutes(deps: AppDeps) {
  const app = new Hono<AppEnv>();
  const token = deps.config.metricsToken ? digest(deps.config.metricsToken) : null;
  app.get("/metrics", async (c) => {
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
