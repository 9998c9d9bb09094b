import { OpenAPIHono } from "@hono/zod-openapi";
import { DEFAULT_SERVICE_ID } from "../../db/schema.js";
import { checkTargetUrl } from "../../events/target.js";
import { configureWebhook, deleteWebhook, describeWebhook, rotateWebhook, type WebhookView } from "../../events/webhook-settings.js";
import { findService, ID_PREFIX } from "../../services/store.js";
import type { AppDeps, AppEnv } from "../env.js";
import { AppError } from "../errors.js";
import { requireJson } from "./services.js";
import { NOT_FOUND } from "./services.openapi.js";
import {
  DEFAULT_WEBHOOK_FROM_ENV,
  deleteWebhookRoute,
  getWebhookRoute,
  NO_WEBHOOK,
  rotateWebhookRoute,
  setWebhookRoute,
  type WebhookBody,
} from "./service-webhook.openapi.js";

/**
 * A service's event webhook through the admin API (admin keys only: app.ts guards
 * /services/*). Secrets are answered once, by the request that made them. The default
 * service's follows WEBHOOK_URL while that is set, so the API only reads it then.
 */

const body = (w: WebhookView): WebhookBody => ({
  url: w.url,
  events: w.eventTypes,
  disabled_at: w.disabledAt?.toISOString() ?? null,
  previous_valid_until: w.previousValidUntil?.toISOString() ?? null,
});

export function serviceWebhookRoutes(deps: AppDeps) {
  const app = new OpenAPIHono<AppEnv>();
  const { database, keys } = deps.otp;
  const now = () => deps.clock.now();

  /** A live service's id, or a 404: ids only, as the rest of /services. */
  async function serviceId(id: string, change: boolean): Promise<string> {
    if (id === DEFAULT_SERVICE_ID) {
      if (change && deps.config.webhook) throw new AppError("invalid_request", DEFAULT_WEBHOOK_FROM_ENV);
      return id;
    }
    const found = id.startsWith(ID_PREFIX) && /^[\w-]{1,64}$/.test(id) ? await findService(database, id) : undefined;
    if (!found || found.id !== id) throw new AppError("not_found", NOT_FOUND);
    return id;
  }
  const existing = (w: WebhookView | undefined): WebhookView => w ?? missing();
  const missing = (): never => {
    throw new AppError("not_found", NO_WEBHOOK);
  };

  app.openapi(getWebhookRoute, async (c) => {
    const id = await serviceId(c.req.valid("param").id, false);
    return c.json(body(existing(await describeWebhook(database, id, now()))), 200);
  });

  app.openapi(setWebhookRoute, async (c) => {
    const id = await serviceId(c.req.valid("param").id, true);
    requireJson(c);
    const { url, events } = c.req.valid("json");
    const refused = checkTargetUrl(url, deps.config.webhookTargets);
    if (refused) throw new AppError("invalid_request", `url ${refused}`, { field: "url" });
    const set = await configureWebhook(database, keys, id, { url, eventTypes: events ? [...new Set(events)] : null }, now());
    c.get("log").info({ service: id, newSecret: set.secret !== undefined }, "service webhook set");
    return c.json({ ...body(set.webhook), ...(set.secret ? { secret: set.secret } : {}) }, 200);
  });

  app.openapi(rotateWebhookRoute, async (c) => {
    const id = await serviceId(c.req.valid("param").id, true);
    const rotated = (await rotateWebhook(database, keys, id, now())) ?? missing();
    c.get("log").info({ service: id }, "service webhook secret rotated: the previous one signs for 24 hours more");
    return c.json({ ...body(rotated.webhook), secret: rotated.secret }, 200);
  });

  app.openapi(deleteWebhookRoute, async (c) => {
    const id = await serviceId(c.req.valid("param").id, true);
    const removed = existing(await deleteWebhook(database, id, now()));
    c.get("log").info({ service: id }, "service webhook removed");
    return c.json(body(removed), 200);
  });

  return app;
}
