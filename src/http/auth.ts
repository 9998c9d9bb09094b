import { createHash, timingSafeEqual } from "node:crypto";
import type { MiddlewareHandler } from "hono";
import type { AppDeps, AppEnv } from "../app.js";
import { findKey } from "../keys/api-keys.js";
import { countRequest } from "../limits/request-rate.js";
import { REQUESTS_PER_KEY } from "../limits/rules.js";
import { AppError } from "./errors.js";

export interface KeyIdentity {
  /** Recorded on each challenge: which key created it, never the key itself. */
  name: string;
  /** Requests this key may make per minute. */
  perMinute: number;
}

const digest = (key: string) => createHash("sha256").update(key).digest();

/**
 * Bearer keys from API_KEYS, compared as SHA-256 digests in constant time against
 * every configured key (timing tells neither a key's prefix nor its position), then
 * keys from the database (`npm run keys`), looked up by hash so a revocation holds
 * at once everywhere. Each key's requests are counted per minute.
 *
 * With no API_KEYS the service runs open (development only; config refuses it in
 * production): a request without a key passes as "open", one with a key must
 * present a valid one.
 */
export function apiKeyAuth(deps: AppDeps): MiddlewareHandler<AppEnv> {
  const known = deps.config.apiKeys.map((k) => ({ digest: digest(k), name: `env:${digest(k).toString("hex").slice(0, 8)}` }));
  const open = known.length === 0;
  return async (c, next) => {
    const header = c.req.header("authorization");
    const match = /^Bearer\s+(\S{1,256})\s*$/i.exec(header ?? "");
    let found: { name: string; ratePerMinute: number | null } | null = null;
    if (match) {
      const given = digest(match[1]!);
      for (const k of known) if (timingSafeEqual(given, k.digest)) found ??= { name: k.name, ratePerMinute: null };
      found ??= await findKey(deps.database, match[1]!);
    } else if (open && header === undefined) {
      found = { name: "open", ratePerMinute: null };
    }
    if (!found) {
      throw new AppError(
        "unauthorized",
        match ? "API key not recognised (or revoked)" : "send Authorization: Bearer <key> with a key from API_KEYS or `npm run keys -- create`",
        undefined,
        { "WWW-Authenticate": 'Bearer realm="voice-otp"' },
      );
    }
    c.set("apiKey", { name: found.name, perMinute: found.ratePerMinute ?? deps.config.limits.requestsPerKeyPerMinute });
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
