import fc from "fast-check";
import { latin1, nastyString } from "./arbitraries.js";

/**
 * What every generated request is made of: the Probe (the request and what the
 * checks may expect of it), the World it is aimed at, and the parts the endpoint
 * generators share: Authorization, Host and other headers, odd targets and queries.
 */

/** What a generated request is aimed at; odd paths may or may not reach it. */
export type Aim = "request-auth" | "validate-auth" | "challenges" | "call-2fa" | "call-status" | "healthz" | "readyz" | "metrics" | "unknown";

/** One generated request and what the checks need to know about it. */
export interface Probe {
  aim: Aim;
  /** The endpoint's own path (the query aside). */
  exactPath: boolean;
  method: string;
  target: string;
  headers: Array<[string, string]>;
  body?: Buffer;
  chunks?: Buffer[];
  /** The API key's name when the Authorization header carries an accepted key, null when refused, undefined when unclear. */
  owner?: string | null;
  /** /metrics: whether the METRICS_TOKEN was given (undefined when unclear). */
  metricsToken?: boolean;
  /** An Idempotency-Key of the valid form, tracked for the database check. */
  idempotencyKey?: string;
  /** An Idempotency-Key the service must refuse. */
  badIdempotencyKey?: boolean;
  /** Webhooks: "valid" when signed by the carrier for this URL and body. */
  signature?: "valid" | "invalid";
  /** A signed webhook the service must accept (2xx). */
  mustAcceptSignature?: boolean;
  /** Odd Host or request target: the HTTP server may refuse it before the app sees it. */
  httpLayerMayRefuse?: boolean;
  /** The X-Request-Id sent, when exactly one was. */
  requestId?: string;
  label: string;
}

/** The running service as the generators see it; liveIds/liveSids grow as the fuzzing creates challenges. */
export interface World {
  host: string;
  publicBase: string;
  apiKey: string;
  dbKey: { key: string; name: string };
  slowKey: { key: string; name: string };
  revokedKey: string;
  envOwner: string;
  metricsToken: string;
  accountSid: string;
  trustProxy: boolean;
  /** Numbers /request-auth may call (E.164). */
  pool: string[];
  seeds: Array<{ id: string; number: string; code: string; callSid: string }>;
  liveIds: string[];
  liveSids: string[];
  sign(url: string, params: Record<string, string | string[]>): Record<string, string>;
}

export const ROUTE_PATHS: Record<Exclude<Aim, "unknown" | "challenges">, string> = {
  "request-auth": "/request-auth",
  "validate-auth": "/validate-auth",
  "call-2fa": "/call-2fa",
  "call-status": "/call-status",
  healthz: "/healthz",
  readyz: "/readyz",
  metrics: "/metrics",
};

export const pick = <T>(xs: T[], i: number, fallback: T): T => (xs.length ? xs[i % xs.length]! : fallback);

// ---- headers -------------------------------------------------------------------

export interface AuthChoice {
  headers: Array<[string, string]>;
  owner: string | null | undefined;
  metricsToken?: boolean;
}

export function authHeader(w: World): fc.Arbitrary<AuthChoice> {
  const K = w.apiKey;
  const one = (value: string, owner: string | null): AuthChoice => ({ headers: [["Authorization", value]], owner });
  return fc.oneof(
    { weight: 8, arbitrary: fc.constant(one(`Bearer ${K}`, w.envOwner)) },
    {
      weight: 3,
      arbitrary: fc.constantFrom(one(`bearer ${K}`, w.envOwner), one(`BEARER   ${K}`, w.envOwner), one(`Bearer ${K}   `, w.envOwner)),
    },
    { weight: 2, arbitrary: fc.constant(one(`Bearer ${w.dbKey.key}`, w.dbKey.name)) },
    { weight: 1, arbitrary: fc.constant(one(`Bearer ${w.slowKey.key}`, w.slowKey.name)) },
    {
      weight: 3,
      arbitrary: fc.constantFrom<AuthChoice>(
        { headers: [], owner: null },
        one("", null),
        one("Bearer", null),
        one("Bearer ", null),
        one(`Bearer ${K}x`, null),
        one(`Bearer ${K.slice(1)}`, null),
        one(`Basic ${Buffer.from(`user:${K}`).toString("base64")}`, null),
        one(`Bearer ${K} ${K}`, null),
        one(`Token ${K}`, null),
        one(`Bearer${K}`, null),
        // RFC 6750: one space between the scheme and the token, not a tab (Hono's bearerAuth).
        one(`Bearer\t${K}`, null),
        one(`Bearer ${w.revokedKey}`, null),
        one(`Bearer ${"a".repeat(257)}`, null),
        one(`Bearer ${"x".repeat(8000)}`, null),
        one(`Bearer ${K}\u00e9`, null),
        one(`Bearer ${w.metricsToken}`, null),
      ),
    },
    {
      weight: 1,
      arbitrary: fc.oneof(
        latin1(60).map((v): AuthChoice => ({ headers: [["Authorization", v]], owner: undefined })),
        fc.constant<AuthChoice>({ headers: [["Authorization", `Bearer ${K}`], ["Authorization", "Bearer nope"]], owner: undefined }),
      ),
    },
  );
}

export function metricsAuth(w: World): fc.Arbitrary<AuthChoice> {
  const T = w.metricsToken;
  return fc.oneof(
    fc.constantFrom<AuthChoice>(
      { headers: [["Authorization", `Bearer ${T}`]], owner: undefined, metricsToken: true },
      { headers: [["Authorization", `bearer ${T}`]], owner: undefined, metricsToken: true },
      { headers: [], owner: undefined, metricsToken: false },
      { headers: [["Authorization", `Bearer ${T}x`]], owner: undefined, metricsToken: false },
      { headers: [["Authorization", `Bearer ${w.apiKey}`]], owner: undefined, metricsToken: false },
      { headers: [["Authorization", `Basic ${T}`]], owner: undefined, metricsToken: false },
      { headers: [["Authorization", "Bearer"]], owner: undefined, metricsToken: false },
    ),
    latin1(80).map((v): AuthChoice => ({ headers: [["Authorization", v]], owner: undefined })),
  );
}

const REQUEST_IDS = ["abc-123", "A.b:c_d-9", "x".repeat(128), "x".repeat(129), "", " ", 'x"}{"level":60', "a b", "id\u00e9", "../../x", "%41"];

export interface CommonHeaders {
  headers: Array<[string, string]>;
  requestId?: string;
  forwarded: boolean;
}

export const common: fc.Arbitrary<CommonHeaders> = fc
  .record({
    requestId: fc.option(fc.oneof(fc.constantFrom(...REQUEST_IDS), fc.stringMatching(/^[\w.:=-]{1,40}$/), latin1(40)), { nil: undefined }),
    duplicateId: fc.boolean(),
    forwarded: fc.option(
      fc.record({
        proto: fc.constantFrom("http", "https", "ftp", "", "https, http", "HTTP", "\u00e9"),
        host: fc.oneof(fc.constantFrom("evil.example", "a b", "", "[::1]", "x".repeat(300), "localhost:99999", "host/path", "h\u00e9st", "127.0.0.1:1"), latin1(30)),
        for: fc.oneof(fc.constantFrom("203.0.113.9", "unknown", "::1, 10.0.0.1", ""), latin1(30)),
      }),
      { nil: undefined, freq: 4 },
    ),
    extra: fc.option(fc.tuple(fc.stringMatching(/^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,20}$/), latin1(100)), { nil: undefined, freq: 4 }),
    accept: fc.option(fc.constantFrom("*/*", "application/xml", "text/html;q=0.1", "\u00e9"), { nil: undefined, freq: 3 }),
  })
  .map(({ requestId, duplicateId, forwarded, extra, accept }) => {
    const headers: Array<[string, string]> = [];
    if (requestId !== undefined) {
      headers.push(["X-Request-Id", requestId]);
      if (duplicateId) headers.push(["X-Request-Id", "second-id"]);
    }
    if (forwarded) {
      headers.push(["X-Forwarded-Proto", forwarded.proto], ["X-Forwarded-Host", forwarded.host], ["X-Forwarded-For", forwarded.for]);
    }
    // Framing headers are the sender's business; a random name must not override them.
    if (extra && !/^(content-length|transfer-encoding|host|expect|connection|upgrade|te|trailer)$/i.test(extra[0])) headers.push(extra);
    if (accept) headers.push(["Accept", accept]);
    return { headers, requestId: requestId !== undefined && !duplicateId ? requestId : undefined, forwarded: forwarded !== undefined };
  });

export function hostHeader(w: World): fc.Arbitrary<{ host: string; odd: boolean }> {
  return fc.oneof(
    { weight: 30, arbitrary: fc.constant({ host: w.host, odd: false }) },
    {
      weight: 1,
      arbitrary: fc
        .oneof(fc.constantFrom("", "evil.example", "localhost", "a b", "[::1]:1", "x".repeat(300), "ho\u00e9st", "127.0.0.1:99999", "h:p:q"), latin1(20))
        .map((host) => ({ host, odd: true })),
    },
  );
}

// ---- targets -------------------------------------------------------------------

const hex = (c: string) => `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, "0")}`;
export const enc = (s: string) => {
  try {
    return encodeURIComponent(s);
  } catch {
    return "%ED%A0%80"; // a lone surrogate, as its (invalid) UTF-8 bytes
  }
};

export const oddQuery: fc.Arbitrary<string> = fc.oneof(
  { weight: 6, arbitrary: fc.constant("") },
  { weight: 2, arbitrary: fc.webQueryParameters().map((q) => (q ? `?${q}` : "")) },
  { weight: 2, arbitrary: fc.constantFrom("?", "??", "?&&&", "?a=b&a=c", "?%zz", "?x=%E0%A4%A", "?c=1&c=2", "?=", "?a[]=1&a[b]=2", "?__proto__[x]=1", "?%00=%00") },
  { weight: 1, arbitrary: nastyString.map((s) => `?q=${enc(s)}`) },
  { weight: 1, arbitrary: fc.integer({ min: 100, max: 7000 }).map((n) => `?q=${"x".repeat(n)}`) },
);

export interface Target {
  target: string;
  exact: boolean;
  mayRefuse: boolean;
  /** The origin-form target the carrier would have signed. */
  signedAs: string;
  variant: string;
}

/** The path as is, or in an odd spelling: encoded, dot segments, case, slashes, absolute form. */
export function pathVariant(path: string, w: World): fc.Arbitrary<Omit<Target, "signedAs"> & { path: string }> {
  const v = (p: string, variant: string, mayRefuse = false) => ({ path: p, target: p, exact: false, mayRefuse, variant });
  return fc.oneof(
    { weight: 12, arbitrary: fc.constant({ path, target: path, exact: true, mayRefuse: false, variant: "exact" }) },
    {
      weight: 4,
      arbitrary: fc.oneof(
        fc.constantFrom(
          v(`${path}/`, "trailing slash"),
          v(`/${path}`, "double slash"),
          v(path.toUpperCase(), "upper case"),
          v(`/a/..${path}`, "dot segments"),
          v(`/.${path}`, "dot segment"),
          v(`/a/%2e%2e${path}`, "encoded dot segments"),
          v(`/a/%2E%2E/..${path}`, "encoded dot segments"),
          v(`%2F${path.slice(1)}`, "encoded leading slash", true),
          v(`\\${path.slice(1)}`, "backslash", true),
          v(`/x\\..\\${path.slice(1)}`, "backslash dot segments", true),
          v(`${path};a=b`, "matrix parameter"),
          v(`${path}%00`, "encoded NUL"),
          v(`${path}%`, "stray percent"),
          v(`${path}/%2e%2e/`, "trailing dot segment"),
          v(`${path}#frag`, "fragment"),
          v(`${path}%E2%80%AE`, "encoded RTL mark"),
          v(`http://${w.host}${path}`, "absolute form"),
          v(`http://evil.example${path}`, "absolute form, other host"),
          v(`HTTP://${w.host}${path}`, "absolute form, upper-case scheme", true),
        ),
        fc.nat().map((i) => {
          const at = 1 + (i % Math.max(1, path.length - 1));
          return v(path.slice(0, at) + hex(path[at] ?? "x") + path.slice(at + 1), "one char percent-encoded");
        }),
        fc.constant(v(path.split("").map((c, i) => (i === 0 ? c : hex(c))).join(""), "all percent-encoded")),
      ),
    },
  );
}

export function target(path: string, query: fc.Arbitrary<string>, w: World): fc.Arbitrary<Target> {
  return fc.tuple(pathVariant(path, w), query).map(([p, q]) => {
    const target = p.target.includes("#") ? p.target.replace("#", `${q}#`) : p.target + q;
    const origin = target.startsWith("http://") ? target.replace(/^http:\/\/[^/]*/, "") : target;
    return { target, exact: p.exact, mayRefuse: p.mayRefuse || /^https?:\/\/[^/]*[^\w.:[\]-]/.test(target), signedAs: origin, variant: p.variant };
  });
}

/** Splits a body into chunks of the given sizes (the rest in the last one). */
export function chunked(body: Buffer, sizes: number[]): Buffer[] {
  const out: Buffer[] = [];
  let at = 0;
  for (const s of sizes) {
    if (at >= body.length) break;
    out.push(body.subarray(at, at + s));
    at += s;
  }
  if (at < body.length) out.push(body.subarray(at));
  return out;
}
export const chunking = fc.option(fc.array(fc.integer({ min: 1, max: 4000 }), { minLength: 1, maxLength: 5 }), { nil: undefined, freq: 4 });

/** The parameters as the service parses them: form semantics, UTF-8, repeated keys as arrays. */
export function asParsed(body: string): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [k, v] of new URLSearchParams(body)) {
    const had = Object.hasOwn(out, k) ? out[k] : undefined;
    Object.defineProperty(out, k, { value: had === undefined ? v : [...(Array.isArray(had) ? had : [had]), v], enumerable: true, writable: true, configurable: true });
  }
  return out;
}

