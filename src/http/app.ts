import { OpenAPIHono } from "@hono/zod-openapi";
import { matchedRoutes } from "hono/route";
import { methodNotAllowed } from "hono/method-not-allowed";
import { requestId } from "hono/request-id";
import { secureHeaders } from "hono/secure-headers";
import { lazyChild } from "../logger.js";
import { apiKeyAuth, keyService, requestRate } from "./auth.js";
import { bodyLimit } from "./body-limit.js";
import { drain } from "./drain.js";
import type { AppDeps, AppEnv } from "./env.js";
import { AppError, handleError, sendError, validationHook } from "./errors.js";
import { idempotency } from "./idempotency.js";
import { openapiDocument } from "./openapi.js";
import { challengeCancelRoutes } from "./routes/challenge-cancel.js";
import { challengeListRoutes } from "./routes/challenge-list.js";
import { challengeRoutes } from "./routes/challenges.js";
import { adminPageRoutes } from "./routes/admin-page.js";
import { demoApiRoutes } from "./routes/demo-api.js";
import { demoPageRoutes } from "./routes/demo-page.js";
import { docsRoutes } from "./routes/docs.js";
import { healthRoutes } from "./routes/health.js";
import { jwksRoutes } from "./routes/jwks.js";
import { metricsRoutes } from "./routes/metrics.js";
import { requestAuthRoutes } from "./routes/request-auth.js";
import { serviceRoutes } from "./routes/services.js";
import { serviceActivityRoutes } from "./routes/service-activity.js";
import { serviceWebhookRoutes } from "./routes/service-webhook.js";
import { serviceSupabaseHookRoutes } from "./routes/service-supabase-hook.js";
import { supabaseHookRoutes } from "./routes/supabase-hook.js";
import { signingKeyRoutes } from "./routes/signing-keys.js";
import { statsRoutes } from "./routes/stats.js";
import { validateAuthRoutes } from "./routes/validate-auth.js";
import { webhookRoutes } from "./routes/webhooks.js";

export const BODY_LIMIT_BYTES = 16 * 1024;
/** An auth system's hook carries its whole user record, whose metadata the app may fill: more room. */
export const HOOK_BODY_LIMIT_BYTES = 256 * 1024;

/**
 * The routes an API key opens (all of them open to anyone when API_KEYS is empty). A
 * wildcard covers its bare path too (`/challenges/*` matches `/challenges`): listing both
 * would run the key's checks twice on it, and count its requests twice.
 */
export const KEYED_ROUTES = ["/request-auth", "/validate-auth", "/challenges/*", "/stats"] as const;

/** The admin API: services (`/services` and below) and the token-signing keys, managed with an admin key only, never open. */
export const ADMIN_ROUTES = ["/services/*", "/signing-keys/*"] as const;

/**
 * The HTTP application. No I/O happens here: every part comes in through deps. Each
 * route group declares its routes with createRoute() beside their handlers; the app's
 * OpenAPI registry gathers them for the document, and its router for 405s.
 */
export function createApp(deps: AppDeps) {
  const app = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });

  app.use(requestId({ limitLength: 128 }));
  // Every answer, errors included: nosniff, Referrer-Policy no-referrer and the rest of Hono's
  // defaults. No CSP here (the /docs, /demo and /admin pages set their own) and no HSTS: TLS ends at the proxy in
  // front, which knows whether every subdomain is https. Nothing a client or proxy should keep:
  // no-store unless a route says otherwise (the /docs assets are cacheable).
  app.use(secureHeaders({ strictTransportSecurity: false, overwrite: false }));
  app.use(async (c, next) => {
    await next();
    if (!c.res.headers.has("Cache-Control")) c.header("Cache-Control", "no-store");
  });
  app.use(async (c, next) => {
    const log = lazyChild(deps.logger, { reqId: c.get("requestId") });
    c.set("log", log);
    const started = performance.now();
    await next();
    const seconds = (performance.now() - started) / 1000;
    // The route as declared (`/challenges/:id`): a bounded label, never an id.
    const route = matchedRoutes(c).findLast((r) => r.method !== "ALL")?.path ?? "unmatched";
    deps.metrics.httpDuration.observe({ method: c.req.method, route, status: String(c.res.status) }, seconds);
    // The path only: query strings may carry carrier ids, and nothing here logs a body.
    log.info({ method: c.req.method, path: c.req.path, status: c.res.status, ms: Math.round(seconds * 10_000) / 10 }, "request");
  });
  app.use(
    methodNotAllowed({
      app,
      onMethodNotAllowed: (c, methods) =>
        sendError(c, new AppError("method_not_allowed", `${c.req.path} takes ${methods.join(" or ")}, not ${c.req.method}`, undefined, { Allow: methods.join(", ") })),
    }),
  );
  app.use(drain(deps.lifecycle));
  const limit = bodyLimit(BODY_LIMIT_BYTES);
  const hookLimit = bodyLimit(HOOK_BODY_LIMIT_BYTES);
  app.use((c, next) => (c.req.path.startsWith("/hooks/") ? hookLimit(c, next) : limit(c, next)));

  const auth = apiKeyAuth(deps, "service");
  const rate = requestRate(deps);
  const service = keyService(deps);
  for (const path of KEYED_ROUTES) app.use(path, auth, rate, service);
  for (const path of ADMIN_ROUTES) app.use(path, apiKeyAuth(deps, "admin"), requestRate(deps, "admin"));
  app.use("/request-auth", idempotency(deps));

  app.route("/", healthRoutes(deps));
  app.route("/", metricsRoutes(deps));
  app.route("/", webhookRoutes(deps));
  app.route("/", requestAuthRoutes(deps));
  app.route("/", validateAuthRoutes(deps));
  app.route("/", challengeRoutes(deps));
  app.route("/", challengeListRoutes(deps));
  app.route("/", challengeCancelRoutes(deps));
  app.route("/", statsRoutes(deps));
  app.route("/", serviceRoutes(deps));
  app.route("/", serviceWebhookRoutes(deps));
  app.route("/", serviceSupabaseHookRoutes(deps));
  app.route("/", supabaseHookRoutes(deps));
  app.route("/", signingKeyRoutes(deps));
  app.route("/", jwksRoutes(deps));
  app.route("/", serviceActivityRoutes(deps));
  app.route("/", adminPageRoutes());
  // Only when DEMO_ENABLED: otherwise /demo and /demo/api/* are unknown routes (404), absent from the document too.
  if (deps.config.demo) {
    app.route("/", demoPageRoutes());
    app.route("/", demoApiRoutes(deps));
  }
  app.route("/", docsRoutes(deps, openapiDocument(app)));

  app.notFound((c) => sendError(c, new AppError("not_found", `no route for ${c.req.method} ${c.req.path}`)));
  app.onError(handleError(deps.logger));
  return app;
}
