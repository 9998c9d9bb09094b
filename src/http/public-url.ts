import type { Context } from "hono";
import type { AppEnv } from "./env.js";

/** A host name or IP literal with an optional port: what may stand between scheme and path. */
const HOST = /^(?:[A-Za-z0-9._-]+|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$/;

/**
 * The URL the carrier requested, as it signed it. Taken from PUBLIC_BASE_URL
 * plus the raw request target, not from c.req.url: Hono rebuilds that from the
 * Host header and normalises it, which would break signatures behind ngrok or a
 * proxy. Forwarded headers are believed only when TRUST_PROXY is on, and only
 * when they make a URL (a host name, a port up to 65535): the result must always
 * parse, since the carrier SDKs' validators throw on one that does not.
 */
export function publicRequestUrl(c: Context<AppEnv>, base: string, trustProxy: boolean): string {
  const raw = originForm(c.env?.incoming?.url ?? new URL(c.req.url).pathname + new URL(c.req.url).search);
  if (trustProxy) {
    const proto = c.req.header("x-forwarded-proto")?.split(",")[0]?.trim();
    const host = c.req.header("x-forwarded-host")?.split(",")[0]?.trim() ?? c.req.header("host");
    const url = `${proto}://${host}${raw}`;
    if (proto && host && /^https?$/.test(proto) && HOST.test(host) && URL.canParse(url)) return url;
  }
  return `${base}${raw}`;
}

/** A target in absolute form (`POST http://host/call-2fa?c=…`, as proxies may send) is reduced to its path and query. */
function originForm(target: string): string {
  if (target.startsWith("/")) return target;
  const rest = /^[A-Za-z][A-Za-z0-9+.-]*:\/\/[^/?#]*(.*)$/.exec(target)?.[1] ?? target;
  return rest.startsWith("/") ? rest : `/${rest}`;
}
