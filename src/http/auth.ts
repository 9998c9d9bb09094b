import { createHash, timingSafeEqual } from "node:crypto";
import type { Context, MiddlewareHandler } from "hono";
import { bearerAuth } from "hono/bearer-auth";
import { getConnInfo } from "@hono/node-server/conninfo";
import type { Config } from "../config/index.js";
import { DEFAULT_SERVICE_ID } from "../db/schema.js";
import { findKey, type FoundKey } from "../keys/api-keys.js";
import { authFailures } from "../limits/auth-failures.js";
import { recordRefusal } from "../limits/refusal-log.js";
import { countRequest } from "../limits/request-rate.js";
import { AUTH_FAILURES, REQUESTS_PER_KEY } from "../limits/rules.js";
import type { AppDeps, AppEnv } from "./env.js";
import { AppError, errorBody } from "./errors.js";

const digest = (key: string) => createHash("sha256").update(key).digest();

/** How a key from API_KEYS or ADMIN_API_KEYS is named on challenges and in the admin API: a prefix of its digest, never the key. */
export const envKeyName = (key: string, admin: boolean) => `${admin ? "env-admin" : "env"}:${digest(key).toString("hex").slice(0, 8)}`;

/** A 401 in the service's error shape; bearerAuth adds WWW-Authenticate. */
export const refusal = (message: string) => () => Response.json(errorBody("unauthorized", message), { status: 401 });

/**
 * Whether the service API lets a request without Authorization in: only with no API_KEYS,
 * which config refuses in production and allows with a real carrier only on loopback with
 * ALLOW_OPEN_API (config/open-api.ts). The one place that decides it.
 */
export const openApi = (config: Pick<Config, "apiKeys">): boolean => config.apiKeys.length === 0;

/**
 * Whether the API is open and rings no real phone: no API_KEYS, the simulator, outside
 * production. The /demo page's API goes without a key only then; anywhere else placing
 * a call takes a key, the demo's included.
 */
export const openAndSimulated = (config: Pick<Config, "apiKeys" | "production" | "carrier">): boolean =>
  openApi(config) && !config.production && config.carrier.name === "simulator";

/**
 * Bearer keys, through Hono's bearerAuth: keys from API_KEYS, compared as SHA-256
 * digests in constant time against every configured key (timing tells neither a key's
 * prefix nor its position), then keys from the database (`npm run keys`), looked up by
 * hash so a revocation holds at once everywhere. A key no row holds is remembered for a
 * minute (findKey), and an address that sent AUTH_FAILURES_PER_IP_PER_MINUTE of them is
 * answered 429 until its minute ends, without a lookup: bogus keys cost no query. Only the
 * keys from API_KEYS still pass from such an address (they cost none either).
 *
 * With no API_KEYS the service runs open (development only; config refuses it in
 * production and with a real carrier unless ALLOW_OPEN_API): a request without
 * Authorization passes as "open", one with a key must present a valid one. An open
 * API still refuses browsers on pages of other origins: a form any site can post
 * would otherwise place calls in the developer's name. `open: false` asks for a key even
 * then (the /demo page's API with a real carrier).
 */
export function apiKeyAuth(deps: AppDeps, role: "service" | "admin", opts: { open?: boolean } = {}): MiddlewareHandler<AppEnv> {
  const fromEnv = (keys: readonly string[], admin: boolean) => keys.map((k) => ({ digest: digest(k), name: envKeyName(k, admin), admin }));
  const known = [...fromEnv(deps.config.apiKeys, false), ...fromEnv(deps.config.adminApiKeys, true)];
  const perMinute = (own: number | null) => own ?? deps.config.limits.requestsPerKeyPerMinute;
  const failures = authFailures(deps.config.limits.authFailuresPerIpPerMinute);
  const check = bearerAuth({
    realm: "voice-otp",
    verifyToken: async (token: string, c: Context<AppEnv>) => {
      const given = digest(token);
      let found: FoundKey | null = null;
      for (const k of known) {
        if (timingSafeEqual(given, k.digest)) found ??= { name: k.name, ratePerMinute: null, serviceId: DEFAULT_SERVICE_ID, admin: k.admin };
      }
      if (!found) {
        const now = deps.clock.now();
        const address = clientAddress(c, deps.config.trustProxy);
        const wait = failures.refusal(address, now);
        if (wait !== null) {
          deps.metrics.limitRefusals.inc({ limit: AUTH_FAILURES.name, service: "" });
          throw new AppError("rate_limited", AUTH_FAILURES.message(deps.config.limits), { limit: AUTH_FAILURES.name, retry_after_seconds: wait }, { "Retry-After": String(wait) });
        }
        found = await findKey(deps.database, token, now);
        if (!found) failures.fail(address, now);
      }
      if (!found) return false;
      if (found.admin !== (role === "admin")) {
        throw new AppError(
          "forbidden",
          role === "admin"
            ? "this route takes an admin key (ADMIN_API_KEYS or `voice-otp keys create NAME --admin`); a service's key cannot manage services"
            : "an admin key manages services only; verification requests take a service's key (API_KEYS or `voice-otp keys create NAME`)",
        );
      }
      c.set("apiKey", { name: found.name, perMinute: perMinute(found.ratePerMinute), serviceId: found.serviceId });
      return true;
    },
    noAuthenticationHeader: {
      message: refusal(
        role === "admin"
          ? "send Authorization: Bearer <key> with a key from ADMIN_API_KEYS or `voice-otp keys create NAME --admin`"
          : "send Authorization: Bearer <key> with a key from API_KEYS or `npm run keys -- create`",
      ),
    },
    // A malformed header is a credential we cannot accept: 401, like a wrong key (RFC 6750 would allow 400).
    invalidAuthenticationHeader: { message: refusal("send Authorization: Bearer <key>, the key alone after one space"), wwwAuthenticateHeader: 'Bearer realm="voice-otp"' },
    invalidToken: { message: refusal("API key not recognised (or revoked)") },
  });
  // The admin API is never open: it has no development use that the CLI does not serve.
  if (role === "admin" || !(opts.open ?? openApi(deps.config))) return check;
  return async (c, next) => {
    if (c.req.header("authorization") !== undefined) return check(c, next);
    if (fromAnotherOrigin(c, deps.publicBaseUrl())) {
      throw new AppError(
        "cross_origin",
        "this service has no API keys, so it refuses requests from web pages of other origins; call it from your backend, or set API_KEYS",
      );
    }
    c.set("apiKey", { name: "open", perMinute: perMinute(null), serviceId: DEFAULT_SERVICE_ID });
    return next();
  };
}

/**
 * The settings of the service the request's key belongs to. A deleted service's keys are
 * revoked with it; one created while it was being deleted is refused here.
 */
export function keyService(deps: AppDeps): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const service = await deps.services.find(c.get("apiKey").serviceId);
    if (!service || service.deleted) throw new AppError("unauthorized", "this key's service was deleted; use a key of a live service");
    c.set("service", service);
    return next();
  };
}

/**
 * The address failed authentications are counted under: the connection's peer, or with
 * TRUST_PROXY the last X-Forwarded-For entry (the one the nearest proxy appended).
 */
export function clientAddress(c: Context<AppEnv>, trustProxy: boolean): string {
  if (trustProxy) {
    const last = c.req.header("x-forwarded-for")?.split(",").at(-1)?.trim();
    if (last) return last;
  }
  try {
    return getConnInfo(c).remote.address ?? "unknown";
  } catch {
    return "unknown";
  }
}

/**
 * A browser's request made by a page of another origin. Browsers send Sec-Fetch-Site
 * (same-site still means another origin: another port on localhost is one) and, on
 * every POST, Origin; a page's own origin is the service's public URL or the address
 * it was reached at. Requests from other programs carry neither and pass.
 */
export function fromAnotherOrigin(c: Context<AppEnv>, publicBaseUrl: string): boolean {
  const site = c.req.header("sec-fetch-site");
  if (site !== undefined && site !== "same-origin" && site !== "none") return true;
  const origin = c.req.header("origin");
  if (origin === undefined) return false;
  return origin !== new URL(publicBaseUrl).origin && origin !== new URL(c.req.url).origin;
}

/**
 * Counts the request against its key's per-minute budget: 429 once it is spent. A
 * service key's refusals count in its service's statistics (an admin key's, `role`
 * "admin", act in no service).
 */
export function requestRate(deps: AppDeps, role: "service" | "admin" = "service"): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const key = c.get("apiKey");
    const now = deps.clock.now();
    const wait = await countRequest(deps.database, `key:${key.name}`, key.perMinute, now);
    if (wait !== null) {
      deps.metrics.limitRefusals.inc({ limit: REQUESTS_PER_KEY.name, service: key.serviceId });
      // Before the number is known: no country. Failing to count it must not change the answer.
      if (role === "service") {
        await recordRefusal(deps.database, { serviceId: key.serviceId, country: "", limit: REQUESTS_PER_KEY.name, now }).catch((err: unknown) =>
          c.get("log").error({ err }, "could not record the refusal for the statistics"),
        );
      }
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
