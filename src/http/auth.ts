import { createHash, timingSafeEqual } from "node:crypto";
import type { Context, MiddlewareHandler } from "hono";
import { bearerAuth } from "hono/bearer-auth";
import { findKey } from "../keys/api-keys.js";
import { countRequest } from "../limits/request-rate.js";
import { REQUESTS_PER_KEY } from "../limits/rules.js";
import type { AppDeps, AppEnv } from "./env.js";
import { AppError, errorBody } from "./errors.js";

const digest = (key: string) => createHash("sha256").update(key).digest();

/** A 401 in the service's error shape; bearerAuth adds WWW-Authenticate. */
export const refusal = (message: string) => () => Response.json(errorBody("unauthorized", message), { status: 401 });

/**
 * Bearer keys, through Hono's bearerAuth: keys from API_KEYS, compared as SHA-256
 * digests in constant time against every configured key (timing tells neither a key's
 * prefix nor its position), then keys from the database (`npm run keys`), looked up by
 * hash so a revocation holds at once everywhere.
 *
 * With no API_KEYS the service runs open (development only; config refuses it in
 * production): a request without Authorization passes as "open", one with a key must
 * present a valid one.
 */
export function apiKeyAuth(deps: AppDeps): MiddlewareHandler<AppEnv> {
  const known = deps.config.apiKeys.map((k) => ({ digest: digest(k), name: `env:${digest(k).toString("hex").slice(0, 8)}` }));
  const perMinute = (own: number | null) => own ?? deps.config.limits.requestsPerKeyPerMinute;
  const check = bearerAuth({
    realm: "voice-otp",
    verifyToken: async (token: string, c: Context<AppEnv>) => {
      const given = digest(token);
      let found: { name: string; ratePerMinute: number | null } | null = null;
      for (const k of known) if (timingSafeEqual(given, k.digest)) found ??= { name: k.name, ratePerMinute: null };
      found ??= await findKey(deps.database, token);
      if (found) c.set("apiKey", { name: found.name, perMinute: perMinute(found.ratePerMinute) });
      return found !== null;
    },
    noAuthenticationHeader: { message: refusal("send Authorization: Bearer <key> with a key from API_KEYS or `npm run keys -- create`") },
    // A malformed header is a credential we cannot accept: 401, like a wrong key (RFC 6750 would allow 400).
    invalidAuthenticationHeader: { message: refusal("send Authorization: Bearer <key>, the key alone after one space"), wwwAuthenticateHeader: 'Bearer realm="voice-otp"' },
    invalidToken: { message: refusal("API key not recognised (or revoked)") },
  });
  if (known.length > 0) return check;
  return async (c, next) => {
    if (c.req.header("authorization") !== undefined) return check(c, next);
    c.set("apiKey", { name: "open", perMinute: perMinute(null) });
    return next();
  };
}

/** Counts the request against its key's per-minute budget: 429 once it is spent. */
export function requestRate(deps: AppDeps): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const key = c.get("apiKey");
    const wait = await countRequest(deps.database, `key:${key.name}`, key.perMinute, deps.clock.now());
    if (wait !== null) {
      deps.metrics.limitRefusals.inc({ limit: REQUESTS_PER_KEY.name });
      throw new AppError(
        "rate_limited",
        REQUESTS_PER_KEY.message({ ...deps.config.limits, requestsPerKeyPerMinute: key.perMinute }),
        { limit: REQUESTS_PER_KEY.name, retry_after_seconds: wait },
        { "Retry-After": String(wait) },
      );
    }
    return next();
  };
}
