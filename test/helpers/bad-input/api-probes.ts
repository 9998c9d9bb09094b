import fc from "fast-check";
import {
  anyJson, binaryBody, contentEncoded, deepJson, formBody, jsonType, malformedJson, multipartBody, nearValid, oddType, pollutionForm,
  pollutionJson, recoded, ser, type BodySpec, type J,
} from "./arbitraries.js";
import { authHeader, chunked, chunking, common, hostHeader, oddQuery, pick, ROUTE_PATHS, target, type Probe, type World } from "./probes.js";

/** /request-auth and /validate-auth: every class of body around their valid fields, with odd headers and targets. */

function numberFormats(e164: string): fc.Arbitrary<string> {
  const d = e164.slice(2); // US: +1 then ten digits
  const [a, b, c] = [d.slice(0, 3), d.slice(3, 6), d.slice(6)];
  return fc.constantFrom(e164, e164, `(${a}) ${b}-${c}`, `${a}-${b}-${c}`, `+1 ${a} ${b} ${c}`, `1 (${a}) ${b}-${c}`, `${a}.${b}.${c}`, `tel:${e164}`, `011 1 ${a} ${b} ${c}`);
}

const LANGS = ["en", "es", "fr", "de", "pt", "pt-BR", "es_MX", "EN", "en-GB"];
const IPS = ["203.0.113.7", "2001:db8::1", "198.51.100.23", "::ffff:203.0.113.9", "192.0.2.1"];

function requestAuthFields(w: World): fc.Arbitrary<Array<[string, string]>> {
  return fc
    .tuple(
      fc.constantFrom(...w.pool).chain(numberFormats),
      fc.option(fc.constantFrom(...LANGS), { nil: undefined }),
      fc.option(fc.oneof(fc.constantFrom(...IPS), fc.ipV4(), fc.ipV6()), { nil: undefined, freq: 3 }),
    )
    .map(([number, language, ip]) => {
      const f: Array<[string, string]> = [["number", number]];
      if (language) f.push(["language", language]);
      if (ip) f.push(["client_ip", ip]);
      return f;
    });
}

function validateAuthFields(w: World): fc.Arbitrary<Array<[string, string]>> {
  const code = fc.stringMatching(/^\d{6}$/);
  const seed = fc.constantFrom(...w.seeds);
  return fc.oneof(
    seed.chain((s) => numberFormats(s.number).map((n): Array<[string, string]> => [["number", n], ["auth_code", s.code]])),
    seed.map((s): Array<[string, string]> => [["id", s.id], ["auth_code", s.code]]),
    fc.tuple(fc.oneof(seed.map((s) => s.number), fc.constantFrom(...w.pool)), code).map(([n, c]): Array<[string, string]> => [["number", n], ["auth_code", c]]),
    fc.tuple(fc.oneof(seed.map((s) => s.id), fc.nat().map((i) => pick(w.liveIds, i, "ch_none"))), code).map(([id, c]): Array<[string, string]> => [["id", id], ["auth_code", c]]),
  );
}

const asJson = (entries: Array<[string, J]>) => Buffer.from(ser({ entries }));

/** Every class of body, built around an endpoint's valid fields. */
export function apiBody(fields: fc.Arbitrary<Array<[string, string]>>): fc.Arbitrary<BodySpec> {
  const near = nearValid(fields);
  const entries = near.map((n) => n.entries);
  return fc.oneof(
    { weight: 6, arbitrary: fc.tuple(near, jsonType).map(([n, contentType]) => ({ bytes: asJson(n.entries), contentType, label: `JSON, near-valid (${n.how})` })) },
    { weight: 3, arbitrary: formBody(entries) },
    { weight: 2, arbitrary: multipartBody(entries) },
    { weight: 2, arbitrary: fc.tuple(anyJson, jsonType).map(([j, contentType]) => ({ bytes: Buffer.from(ser(j)), contentType, label: "JSON, any value" })) },
    { weight: 1, arbitrary: deepJson.map((s) => ({ bytes: Buffer.from(s), contentType: "application/json", label: "JSON, deep nesting" })) },
    { weight: 1, arbitrary: malformedJson.map((s) => ({ bytes: Buffer.from(s), contentType: "application/json", label: "JSON, malformed" })) },
    { weight: 1, arbitrary: binaryBody },
    { weight: 1, arbitrary: entries.chain((e) => recoded(ser({ entries: e }))) },
    { weight: 1, arbitrary: entries.chain((e) => contentEncoded({ bytes: asJson(e), contentType: "application/json", label: "" })) },
    { weight: 1, arbitrary: fc.tuple(entries, oddType).map(([e, contentType]) => ({ bytes: asJson(e), contentType, label: "odd content type" })) },
    { weight: 1, arbitrary: pollutionJson.map((j) => ({ bytes: Buffer.from(ser(j)), contentType: "application/json", label: "prototype pollution, JSON" })) },
    { weight: 1, arbitrary: pollutionForm.map((s) => ({ bytes: Buffer.from(s), contentType: "application/x-www-form-urlencoded", label: "prototype pollution, form" })) },
    { weight: 1, arbitrary: fc.constantFrom<BodySpec>({ bytes: Buffer.alloc(0), contentType: "application/json", label: "empty body" }, { bytes: Buffer.alloc(0), label: "empty body" }) },
  );
}

const IDEMPOTENCY_KEYS = Array.from({ length: 12 }, (_, i) => `idem-${i}`).concat(["k".repeat(255), "550e8400-e29b-41d4-a716-446655440000", "!~"]);
const BAD_IDEMPOTENCY_KEYS = ["", " ", "a b", "cl\u00e9", "x".repeat(256), "\t"];

const WRONG_BODY_METHODS = ["PUT", "PATCH", "DELETE"];
const method = (mostly: string, others: string[]) => fc.oneof({ weight: 10, arbitrary: fc.constant(mostly) }, { weight: 2, arbitrary: fc.constantFrom(...others) });

/** POST /request-auth and /validate-auth with every class of body, header and target. */
export function apiProbe(w: World, aim: "request-auth" | "validate-auth"): fc.Arbitrary<Probe> {
  const fields = aim === "request-auth" ? requestAuthFields(w) : validateAuthFields(w);
  return fc
    .record({
      body: apiBody(fields),
      method: method("POST", ["GET", "HEAD", "OPTIONS", ...WRONG_BODY_METHODS]),
      target: target(ROUTE_PATHS[aim], oddQuery, w),
      auth: authHeader(w),
      common,
      host: hostHeader(w),
      chunks: chunking,
      idem: fc.option(fc.oneof({ weight: 5, arbitrary: fc.constantFrom(...IDEMPOTENCY_KEYS) }, { weight: 1, arbitrary: fc.constantFrom(...BAD_IDEMPOTENCY_KEYS) }), { nil: undefined, freq: 2 }),
    })
    .map(({ body, method, target: t, auth, common: c, host, chunks, idem }) => {
      const headers: Array<[string, string]> = [["Host", host.host], ...auth.headers];
      if (body.contentType !== undefined) headers.push(["Content-Type", body.contentType]);
      if (body.contentEncoding !== undefined) headers.push(["Content-Encoding", body.contentEncoding]);
      const withBody = method !== "GET" && method !== "HEAD";
      let idempotencyKey: string | undefined;
      let badIdempotencyKey = false;
      if (idem !== undefined && aim === "request-auth") {
        const valid = IDEMPOTENCY_KEYS.includes(idem);
        // A valid key is tracked only where its owner and route are certain; a bad one anywhere.
        if (!valid || (typeof auth.owner === "string" && t.exact && method === "POST" && !host.odd)) {
          headers.push(["Idempotency-Key", idem]);
          if (valid) idempotencyKey = idem;
          else badIdempotencyKey = true;
        }
      }
      headers.push(...c.headers);
      return {
        aim,
        exactPath: t.exact,
        method,
        target: t.target,
        headers,
        ...(withBody ? (chunks ? { chunks: chunked(body.bytes, chunks) } : { body: body.bytes }) : {}),
        owner: auth.owner,
        idempotencyKey,
        badIdempotencyKey,
        httpLayerMayRefuse: t.mayRefuse || host.odd,
        requestId: c.requestId,
        label: `${aim} ${withBody ? body.label : "no body"}${chunks && withBody ? ", chunked" : ""}; path ${t.variant}`,
      } satisfies Probe;
    });
}

// ---- names every object has ------------------------------------------------------

export const PROTOTYPE_NAMES = ["constructor", "__proto__", "toString", "valueOf", "hasOwnProperty", "isPrototypeOf", "constructor-US", "__proto__-x", "prototype"];

/** A valid /request-auth or /validate-auth body with one field set to a name every JavaScript object has. */
export function prototypeNameProbe(w: World): fc.Arbitrary<Probe & { field: string; value: string }> {
  return fc
    .record({
      aim: fc.constantFrom<"request-auth" | "validate-auth">("request-auth", "request-auth", "validate-auth"),
      which: fc.nat(),
      value: fc.constantFrom(...PROTOTYPE_NAMES),
      number: fc.constantFrom(...w.pool),
      seed: fc.constantFrom(...w.seeds),
      form: fc.boolean(),
    })
    .map(({ aim, which, value, number, seed, form }) => {
      const fields: Record<string, string> =
        aim === "request-auth" ? { number, language: "en", client_ip: "203.0.113.50" } : { id: seed.id, auth_code: "000000", number: seed.number };
      const field = Object.keys(fields)[which % Object.keys(fields).length]!;
      // validate-auth takes number or id: the one not under test is left out.
      const entries = Object.entries(fields)
        .filter(([k]) => aim !== "validate-auth" || k === "auth_code" || k === field || (field === "auth_code" && k === "id"))
        .map(([k, v]): [string, string] => [k, k === field ? value : v]);
      const body = form ? Buffer.from(new URLSearchParams(entries).toString()) : Buffer.from(JSON.stringify(Object.fromEntries(entries)));
      return {
        aim,
        exactPath: true,
        method: "POST",
        target: ROUTE_PATHS[aim],
        headers: [["Host", w.host], ["Authorization", `Bearer ${w.apiKey}`], ["Content-Type", form ? "application/x-www-form-urlencoded" : "application/json"]],
        body,
        owner: w.envOwner,
        field,
        value,
        label: `${aim} ${field} = a prototype name`,
      } satisfies Probe & { field: string; value: string };
    });
}
