import type { Context } from "hono";
import type { AppEnv } from "../app.js";

/**
 * The URL the carrier requested, as it signed it. Taken from PUBLIC_BASE_URL
 * plus the raw request target, not from c.req.url: Hono rebuilds that from the
 * Host header and normalises it, which would break signatures behind ngrok or a
 * proxy. Forwarded headers are believed only when TRUST_PROXY is on.
 */
export function publicRequestUrl(c: Context<AppEnv>, base: string, trustProxy: boolean): string {
  const raw = c.env?.incoming?.url ?? new URL(c.req.url).pathname + new URL(c.req.url).search;
  if (trustProxy) {
    const proto = c.req.header("x-forwarded-proto")?.split(",")[0]?.trim();
    const host = c.req.header("x-forwarded-host")?.split(",")[0]?.trim() ?? c.req.header("host");
    if (proto && host && /^https?$/.test(proto)) return `${proto}://${host}${raw}`;
  }
  return `${base}${raw}`;
}
