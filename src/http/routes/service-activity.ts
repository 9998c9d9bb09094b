import { OpenAPIHono } from "@hono/zod-openapi";
import { DEFAULT_SERVICE_ID } from "../../db/schema.js";
import { deliveries } from "../../events/admin.js";
import { listKeys } from "../../keys/api-keys.js";
import { maskNumber } from "../../phone.js";
import { findService, ID_PREFIX } from "../../services/store.js";
import { envKeyName } from "../auth.js";
import type { AppDeps, AppEnv } from "../env.js";
import { AppError } from "../errors.js";
import { challengePageOf } from "./challenge-list.js";
import { serviceChallengesRoute, serviceDeliveriesRoute, serviceKeysRoute, serviceStatsRoute } from "./service-activity.openapi.js";
import { NOT_FOUND } from "./services.openapi.js";
import { rangeOf, statsOf } from "./stats.js";

/**
 * A service's activity through the admin API (admin keys only: app.ts guards /services/*):
 * the same list and statistics a key of the service reads at /challenges and /stats, with
 * the numbers masked; its event deliveries; its keys by name.
 */

const FAILING_SHOWN = 20;

export function serviceActivityRoutes(deps: AppDeps) {
  const app = new OpenAPIHono<AppEnv>();

  /** A live service's id, or a 404: ids only, as the rest of /services. */
  async function serviceId(id: string): Promise<string> {
    if (id === DEFAULT_SERVICE_ID) return id;
    const found = id.startsWith(ID_PREFIX) && /^[\w-]{1,64}$/.test(id) ? await findService(deps.database, id) : undefined;
    if (!found || found.id !== id) throw new AppError("not_found", NOT_FOUND);
    return id;
  }

  app.openapi(serviceChallengesRoute, async (c) => {
    const page = await challengePageOf(deps, await serviceId(c.req.valid("param").id), c.req.valid("query"));
    return c.json({ ...page, challenges: page.challenges.map((ch) => ({ ...ch, number: maskNumber(ch.number) })) }, 200);
  });

  app.openapi(serviceStatsRoute, async (c) => c.json(await statsOf(deps, await serviceId(c.req.valid("param").id), c.req.valid("query")), 200));

  app.openapi(serviceDeliveriesRoute, async (c) => {
    const id = await serviceId(c.req.valid("param").id);
    const { since, until } = rangeOf(c.req.valid("query"), deps.clock.now());
    const found = await deliveries(deps.database, id, { since, until, failingLimit: FAILING_SHOWN });
    return c.json(
      {
        since: since.toISOString(),
        until: until.toISOString(),
        days: found.days,
        failing: found.failing.map((e) => ({
          id: e.id,
          type: e.type,
          challenge_id: e.challengeId,
          state: e.state === "failed" ? ("failed" as const) : ("pending" as const),
          attempts: e.attempts,
          last_status: e.lastStatus,
          last_error: e.lastError,
          created_at: e.createdAt.toISOString(),
          next_attempt_at: e.state === "failed" ? null : e.nextAttemptAt.toISOString(),
        })),
      },
      200,
    );
  });

  app.openapi(serviceKeysRoute, async (c) => {
    const id = await serviceId(c.req.valid("param").id);
    const fromEnv =
      id === DEFAULT_SERVICE_ID
        ? deps.config.apiKeys.map((k) => ({ name: envKeyName(k, false), source: "environment" as const, rate_per_minute: null, created_at: null, revoked_at: null }))
        : [];
    const stored = (await listKeys(deps.database))
      .filter((k) => k.serviceId === id && !k.admin)
      .map((k) => ({
        name: k.name,
        source: "database" as const,
        rate_per_minute: k.ratePerMinute,
        created_at: k.createdAt.toISOString(),
        revoked_at: k.revokedAt?.toISOString() ?? null,
      }));
    return c.json({ keys: [...fromEnv, ...stored] }, 200);
  });

  return app;
}
