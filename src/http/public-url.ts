import type { Context } from "hono";
import type { AppEnv } from "./env.js";

/** A host name or IP literal with an optional port: what may stand between scheme and path. */
const HOST = /^(?:[A-Za-z0-9._-]+|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$/;
/** RFC 7230 token characters: a Forwarded parameter's name. */
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const DEFAULT_PORT = new Map([
  ["http", "80"],
  ["https", "443"],
]);

/**
 * The URLs the carrier may have signed for this request, to be tried in order. The
 * base one is PUBLIC_BASE_URL (or the tunnel's URL) plus the raw request target, not
 * c.req.url: Hono rebuilds that from the Host header and normalises it, which would
 * break signatures behind ngrok or a proxy. It is always a candidate, since it is the
 * URL the service handed the carrier with the call.
 *
 * With TRUST_PROXY, the URL the proxy says the carrier requested comes first: see
 * forwardedOrigin. Forwarded headers are believed only when they make a URL (http or
 * https, a host name, a port up to 65535): the result must always parse, since the
 * carrier SDKs' validators throw on one that does not. Anything malformed is ignored
 * and the base URL alone is tried.
 */
export function publicRequestUrls(c: Context<AppEnv>, base: string, trustProxy: boolean): string[] {
  const raw = originForm(c.env?.incoming?.url ?? new URL(c.req.url).pathname + new URL(c.req.url).search);
  const fromBase = `${base}${raw}`;
  if (!trustProxy) return [fromBase];
  const origin = forwardedOrigin((name) => c.req.header(name));
  const forwarded = origin && `${origin}${raw}`;
  return forwarded && forwarded !== fromBase && URL.canParse(forwarded) ? [forwarded, fromBase] : [fromBase];
}

/**
 * scheme://host[:port] as the proxy in front reports it, or undefined.
 *
 * - Scheme: `proto=` of RFC 7239 `Forwarded`, else `X-Forwarded-Proto`.
 * - Host: `host=` of `Forwarded` (which carries its own port), else `X-Forwarded-Host`,
 *   else `Host`; to these two, `X-Forwarded-Port` adds a port they lack, unless it is
 *   the scheme's default.
 *
 * Of `Forwarded`, the last element is read: each proxy appends its own, so the last one
 * is the one set by the proxy we trust, the nearest; anything a client sent comes before
 * it. (When the proxy replaces the header, the only element is that one too.) Of the
 * X-Forwarded-* lists the first value is read, as before: proxies commonly replace them.
 */
export function forwardedOrigin(header: (name: string) => string | undefined): string | undefined {
  const nearest = lastForwardedElement(header("forwarded"));
  const proto = (nearest?.proto ?? first(header("x-forwarded-proto")))?.toLowerCase();
  const defaultPort = proto && DEFAULT_PORT.get(proto);
  if (!defaultPort) return undefined;
  let host = nearest?.host;
  if (host === undefined) {
    host = first(header("x-forwarded-host")) ?? header("host")?.trim();
    const port = first(header("x-forwarded-port"));
    if (host && port && !/:\d+$/.test(host) && /^\d{1,5}$/.test(port) && Number(port) >= 1 && Number(port) <= 65535) {
      if (String(Number(port)) !== defaultPort) host = `${host}:${Number(port)}`;
    }
  }
  if (!host || !HOST.test(host)) return undefined;
  const portPart = /:(\d+)$/.exec(host)?.[1];
  if (portPart !== undefined && Number(portPart) > 65535) return undefined;
  return `${proto}://${host}`;
}

function first(value: string | undefined): string | undefined {
  const v = value?.split(",")[0]?.trim();
  return v ? v : undefined;
}

/**
 * The proto= and host= of the last element of an RFC 7239 Forwarded header:
 * `for=192.0.2.1;proto=https;host=otp.example.com, for=…`. Undefined when there is no
 * header or it does not parse (it is then ignored as a whole, not half-read).
 */
function lastForwardedElement(value: string | undefined): { proto?: string; host?: string } | undefined {
  if (value === undefined || value.length > 4096) return undefined;
  const elements: Array<Map<string, string>> = [];
  let pairs = new Map<string, string>();
  let i = 0;
  const skipSpace = () => {
    while (value[i] === " " || value[i] === "\t") i++;
  };
  while (i <= value.length) {
    skipSpace();
    if (i === value.length) break;
    // name=
    const eq = value.indexOf("=", i);
    if (eq < 0) return undefined;
    const name = value.slice(i, eq).trim().toLowerCase();
    if (!TOKEN.test(name)) return undefined;
    i = eq + 1;
    // value: a token or a quoted string
    let v = "";
    if (value[i] === '"') {
      i++;
      for (;;) {
        if (i >= value.length) return undefined;
        const ch = value[i++]!;
        if (ch === '"') break;
        if (ch === "\\") {
          if (i >= value.length) return undefined;
          v += value[i++];
        } else v += ch;
      }
    } else {
      const start = i;
      while (i < value.length && !/[;,\s"]/.test(value[i]!)) i++;
      // RFC 7239 wants "host:port" quoted; proxies often write it bare. HOST judges it later.
      v = value.slice(start, i);
    }
    if (pairs.has(name)) return undefined; // RFC 7239 §4: a parameter at most once per element
    pairs.set(name, v);
    skipSpace();
    if (i === value.length) break;
    const sep = value[i++];
    if (sep === ",") {
      elements.push(pairs);
      pairs = new Map();
    } else if (sep !== ";") return undefined;
  }
  elements.push(pairs);
  const last = elements[elements.length - 1]!;
  if (last.size === 0) return undefined;
  return { proto: last.get("proto"), host: last.get("host") };
}

/** A target in absolute form (`POST http://host/call-2fa?c=…`, as proxies may send) is reduced to its path and query. */
function originForm(target: string): string {
  if (target.startsWith("/")) return target;
  const rest = /^[A-Za-z][A-Za-z0-9+.-]*:\/\/[^/?#]*(.*)$/.exec(target)?.[1] ?? target;
  return rest.startsWith("/") ? rest : `/${rest}`;
}
