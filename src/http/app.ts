import { Hono } from "hono";
import type { HttpBindings } from "@hono/node-server";
import type { Logger } from "pino";
import { lazyChild, type RequestLog } from "./logger.js";
import { randomUUID } from "node:crypto";
import type { Carrier } from "./carriers/carrier.js";
import type { Config } from "./config/index.js";
import type { Database } from "./db/open.js";
import type { ChallengeDeps } from "./otp/challenges.js";
import type { Clock } from "./otp/clock.js";
import { apiKeyAuth, requestRate, type KeyIdentity } from "./http/auth.js";
import { bodyLimit } from "./http/body-limit.js";
import { idempotency } from "./http/idempotency.js";
import { drain, type Lifecycle } from "./http/drain.js";
import { AppError, handleError, sendError } from "./http/errors.js";
import { openapiDocument } from "./http/openapi.js";
import { declarationsOf, mount } from "./http/openapi-route.js";
import { challengeRoutes } from "./http/routes/challenges.js";
import { docsRoutes } from "./http/routes/docs.js";
import { healthRoutes } from "./http/routes/health.js";
import { metricsRoutes } from "./http/routes/metrics.js";
import type { Metrics } from "./metrics.js";
import { requestAuthRoutes } from "./http/routes/request-auth.js";
import { validateAuthRoutes } from "./http/routes/validate-auth.js";
import { webhookRoutes } from "./http/routes/webhooks.js";

export interface AppDeps {
  config: Readonly<Config>;
  database: Database;
  carrier: Carrier;
  clock: Clock;
  logger: Logger;
  /** Where carriers reach this instance; a function because the port may be known only after listen. */
  publicBaseUrl: () => string;
  /** Draining once shutdown begins: /readyz turns load balancers away, new work is refused, webhooks still served. */
  lifecycle: Lifecycle;
  otp: ChallengeDeps;
  metrics: Metrics;
}

export type AppEnv = {
  Bindings: HttpBindings;
  Variables: { apiKey: KeyIdentity; log: RequestLog; requestId: string };
};

export const BODY_LIMIT_BYTES = 16 * 1024;

/**
 * Every route and its methods, so a wrong method gets 405 rather than 404; `name` is
 * the metrics label. test/openapi.test.ts checks that the OpenAPI document has them all.
 */
export const ROUTES: Array<{ path: RegExp; name: string; methods: string[] }> = [
  { path: /^\/request-auth$/, name: "/request-auth", methods: ["POST"] },
  { path: /^\/validate-auth$/, name: "/validate-auth", methods: ["POST"] },
  { path: /^\/challenges\/[^/]+$/, name: "/challenges/:id", methods: ["GET"] },
  { path: /^\/call-2fa$/, name: "/call-2fa", methods: ["GET", "POST"] },
  { path: /^\/call-status$/, name: "/call-status", methods: ["POST"] },
  { path: /^\/healthz$/, name: "/healthz", methods: ["GET"] },
  { path: /^\/readyz$/, name: "/readyz", methods: ["GET"] },
  { path: /^\/metrics$/, name: "/metrics", methods: ["GET"] },
  { path: /^\/openapi\.json$/, name: "/openapi.json", methods: ["GET"] },
  { path: /^\/docs$/, name: "/docs", methods: ["GET"] },
  { path: /^\/docs\/[^/]+$/, name: "/docs/:file", methods: ["GET"] },
];
const routeName = (path: string) => ROUTES.find((r) => r.path.test(path))?.name ?? "unmatched";

/**
 * The HTTP application. No I/O happens here: every part comes in through deps. Each
 * route group declares its routes for the OpenAPI document (see http/openapi-route.ts);
 * declarationsOf(app) has them all.
 */
export function createApp(deps: AppDeps) {
  const app = new Hono<AppEnv>();

  app.use(async (c, next) => {
    const given = c.req.header("x-request-id");
    const requestId = given && /^[\w.:-]{1,128}$/.test(given) ? given : randomUUID();
    const log = lazyChild(deps.logger, { reqId: requestId });
    c.set("requestId", requestId);
    c.set("log", log);
    c.header("X-Request-Id", requestId);
    const started = performance.now();
    await next();
    const seconds = (performance.now() - started) / 1000;
    deps.metrics.httpDuration.observe({ method: c.req.method, route: routeName(c.req.path), status: String(c.res.status) }, seconds);
    // The path only: query strings may carry carrier ids, and nothing here logs a body.
    log.info(
      { method: c.req.method, path: c.req.path, status: c.res.status, ms: Math.round(seconds * 10_000) / 10 },
      "request",
    );
  });

  app.use(drain(deps.lifecycle));
  app.use(bodyLimit(BODY_LIMIT_BYTES));

  mount(app, healthRoutes(deps));
  mount(app, metricsRoutes(deps));
  mount(app, webhookRoutes(deps));
  mount(app, docsRoutes(deps, openapiDocument(() => declarationsOf(app))));

  const auth = apiKeyAuth(deps);
  const rate = requestRate(deps);
  app.use("/request-auth", auth, rate);
  app.use("/request-auth", idempotency(deps));
  app.use("/validate-auth", auth, rate);
  app.use("/challenges/*", auth, rate);
  mount(app, requestAuthRoutes(deps));
  mount(app, validateAuthRoutes(deps));
  mount(app, challengeRoutes(deps));

  app.notFound((c) => {
    const allowed = ROUTES.find((r) => r.path.test(c.req.path))?.methods;
    if (allowed) {
      return sendError(
        c,
        new AppError("method_not_allowed", `${c.req.path} takes ${allowed.join(" or ")}, not ${c.req.method}`, undefined, {
          Allow: allowed.join(", "),
        }),
      );
    }
    return sendError(c, new AppError("not_found", `no route for ${c.req.method} ${c.req.path}`));
  });
  app.onError(handleError(deps.logger));
  return app;
}
