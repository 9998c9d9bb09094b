import fc from "fast-check";
import { anyJson, nastyString, ser } from "./arbitraries.js";
import { asParsed, authHeader, chunked, common, enc, hostHeader, metricsAuth, oddQuery, pick, ROUTE_PATHS, target, type Aim, type Probe, type World } from "./probes.js";

/** The GET endpoints, unknown paths, wrong methods; and bodies around the 16 KB limit on every endpoint. */

/** "." and "..", spelled out or percent-encoded: URL parsing takes them out of the path. */
const isDotSegment = (segment: string) => /^(\.|%2e){1,2}$/i.test(segment);

function challengeTarget(w: World): fc.Arbitrary<{ target: string; exact: boolean; mayRefuse: boolean; variant: string }> {
  const id = fc.oneof(
    { weight: 3, arbitrary: fc.constantFrom(...w.seeds.map((s) => s.id)) },
    { weight: 3, arbitrary: fc.nat().map((i) => pick(w.liveIds, i, "ch_none")) },
    { weight: 2, arbitrary: fc.constantFrom("x", "a".repeat(64), "a".repeat(65), "ch_%00", "%2F", "..", "%2e%2e", "%E0%A4%A", "ch_%C3%A9", "__proto__", "constructor", "-", "_") },
    { weight: 2, arbitrary: nastyString.map(enc) },
    { weight: 1, arbitrary: fc.integer({ min: 100, max: 6000 }).map((n) => "a".repeat(n)) },
  );
  return fc.oneof(
    { weight: 8, arbitrary: fc.tuple(id, oddQuery).map(([i, q]) => ({ target: `/challenges/${i}${q}`, exact: i.length > 0 && !i.includes("/") && !isDotSegment(i), mayRefuse: false, variant: "exact" })) },
    {
      weight: 2,
      arbitrary: fc.tuple(id, fc.constantFrom("/challenges", "/challenges/", "/challenges//", "/challenges/a/b", "/CHALLENGES/", "/challenges/%2F", "/x/../challenges/")).map(([i, p]) => ({
        target: p.endsWith("/") ? `${p}${i}` : p,
        exact: false,
        mayRefuse: false,
        variant: "odd challenges path",
      })),
    },
  );
}

// prettier-ignore
const UNKNOWN = ["/", "/request_auth", "/requestauth", "/validate", "/challenge/x", "/call-2FA", "/healthz/", "/metrics.json", "/.env",
  "/../../etc/passwd", "/%2e%2e/%2e%2e/etc/passwd", "/admin", "/favicon.ico", "/request-auth.json", "/call-status/x", "/%00", "/*"];

/** GET endpoints, unknown paths and wrong methods, with odd headers and queries. */
export function otherProbe(w: World): fc.Arbitrary<Probe> {
  const unknownPath = fc.oneof(
    fc.constantFrom(...UNKNOWN),
    fc.webPath().map((p) => (p.startsWith("/") ? p : `/${p}`)),
    fc.array(nastyString.map(enc), { minLength: 1, maxLength: 4 }).map((s) => `/${s.join("/")}`),
  );
  const where = fc.oneof(
    { weight: 2, arbitrary: fc.constantFrom<Aim>("healthz", "readyz", "metrics").chain((aim) => target(ROUTE_PATHS[aim as "healthz"], oddQuery, w).map((t) => ({ aim, ...t }))) },
    { weight: 3, arbitrary: challengeTarget(w).map((t) => ({ aim: "challenges" as Aim, ...t })) },
    { weight: 2, arbitrary: fc.tuple(unknownPath, oddQuery).map(([p, q]) => ({ aim: "unknown" as Aim, target: p + q, exact: false, mayRefuse: false, variant: "unknown path" })) },
    // Every route with a method it does not take.
    { weight: 1, arbitrary: fc.constantFrom<Aim>("request-auth", "validate-auth", "call-status").map((aim) => ({ aim, target: ROUTE_PATHS[aim as "call-status"], exact: true, mayRefuse: false, variant: "exact" })) },
  );
  return fc
    .record({
      where,
      method: fc.oneof({ weight: 8, arbitrary: fc.constant("GET") }, { weight: 2, arbitrary: fc.constantFrom("HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS") }),
      apiAuth: authHeader(w),
      metrics: metricsAuth(w),
      common,
      host: hostHeader(w),
      body: fc.option(anyJson.map(ser), { nil: undefined }),
    })
    .map(({ where: t, method, apiAuth, metrics, common: c, host, body }) => {
      const auth = t.aim === "metrics" ? metrics : apiAuth;
      const withBody = method !== "GET" && method !== "HEAD" && body !== undefined;
      const headers: Array<[string, string]> = [["Host", host.host], ...auth.headers];
      if (withBody) headers.push(["Content-Type", "application/json"]);
      headers.push(...c.headers);
      return {
        aim: t.aim,
        exactPath: t.exact,
        method,
        target: t.target,
        headers,
        ...(withBody ? { body: Buffer.from(body) } : {}),
        owner: auth.owner,
        metricsToken: auth.metricsToken,
        httpLayerMayRefuse: t.mayRefuse || host.odd,
        requestId: c.requestId,
        label: `${t.aim} ${method}; path ${t.variant}`,
      } satisfies Probe;
    });
}

// ---- sizes around the body limit -----------------------------------------------

export const BODY_LIMIT = 16 * 1024;

/** Exactly `size` bytes: valid fields, then padding in the given character (multi-byte ones too). */
function padded(prefix: string, suffix: string, size: number, fill: string): Buffer {
  const room = size - Buffer.byteLength(prefix) - Buffer.byteLength(suffix);
  if (room < 0) return Buffer.alloc(size, "x");
  const unit = Buffer.byteLength(fill);
  const pad = fill.repeat(Math.floor(room / unit)) + "a".repeat(room % unit);
  return Buffer.from(prefix + pad + suffix);
}

/** Bodies just under, at and over 16 KB (and anywhere up to 48 KB), sent with Content-Length or chunked. */
export function sizeProbe(w: World): fc.Arbitrary<Probe & { size: number }> {
  return fc
    .record({
      aim: fc.constantFrom<Aim>("request-auth", "validate-auth", "call-2fa", "call-status", "unknown"),
      size: fc.oneof(
        { weight: 4, arbitrary: fc.integer({ min: BODY_LIMIT - 48, max: BODY_LIMIT + 48 }) },
        { weight: 1, arbitrary: fc.constantFrom(BODY_LIMIT - 1, BODY_LIMIT, BODY_LIMIT + 1) },
        { weight: 1, arbitrary: fc.integer({ min: 0, max: 3 * BODY_LIMIT }) },
      ),
      fill: fc.constantFrom("a", " ", "é", "€", "😀"),
      chunks: fc.option(fc.array(fc.integer({ min: 1, max: 9000 }), { minLength: 1, maxLength: 8 }), { nil: undefined }),
      form: fc.boolean(),
      credentials: fc.boolean(),
      number: fc.constantFrom(...w.pool),
      seed: fc.constantFrom(...w.seeds),
    })
    .map(({ aim, size, fill, chunks, form, credentials, number, seed }) => {
      const path = aim === "unknown" ? "/no-such-route" : ROUTE_PATHS[aim as "call-status"];
      const target = aim === "call-2fa" || aim === "call-status" ? `${path}?c=${seed.id}` : path;
      const webhook = aim === "call-2fa" || aim === "call-status";
      const fields = aim === "validate-auth" ? `"id":"${seed.id}","auth_code":"000000"` : `"number":"${number}","language":"en"`;
      const body =
        webhook || form
          ? padded(webhook ? `CallSid=CA0&pad=` : aim === "validate-auth" ? `id=${seed.id}&auth_code=000000&pad=` : `number=${enc(number)}&pad=`, "", size, fill)
          : padded(`{${fields},"pad":"`, `"}`, size, fill);
      const headers: Array<[string, string]> = [
        ["Host", w.host],
        ["Content-Type", webhook || form ? "application/x-www-form-urlencoded" : "application/json"],
      ];
      if (credentials && !webhook) headers.push(["Authorization", `Bearer ${w.apiKey}`]);
      if (credentials && webhook) headers.push(...Object.entries(w.sign(`${w.publicBase}${target}`, asParsed(body.toString("utf8")))));
      return {
        aim,
        exactPath: aim !== "unknown",
        method: "POST",
        target,
        headers,
        ...(chunks ? { chunks: chunked(body, chunks) } : { body }),
        owner: webhook ? undefined : credentials ? w.envOwner : null,
        signature: webhook ? (credentials ? "valid" : "invalid") : undefined,
        // Signed and under the limit, a webhook must be accepted whatever the padding.
        mustAcceptSignature: webhook && credentials && size <= BODY_LIMIT && body.length === size && /&pad=/.test(body.toString("latin1")),
        size,
        label: `${aim} body of ${size > BODY_LIMIT ? "over" : "up to"} 16 KB${chunks ? ", chunked" : ""}`,
      } satisfies Probe & { size: number };
    });
}

