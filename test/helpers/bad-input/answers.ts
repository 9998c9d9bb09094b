import type { RawResponse } from "../raw-http.js";
import type { Probe } from "./probes.js";

/** Parses a JSON answer; undefined when it is not JSON. */
export function jsonOf(res: RawResponse): any {
  try {
    return res.text ? JSON.parse(res.text) : undefined;
  } catch {
    return undefined;
  }
}

export class AnswerError extends Error {
  override name = "AnswerError";
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
// Hono's requestId middleware echoes 1-128 of these; anything else is replaced with a UUID.
const REQUEST_ID = /^[\w=-]{1,128}$/;
/** What the HTTP parser does to a header value: optional whitespace around it is not part of it. */
const ows = (v: string) => v.replace(/^[ \t]+|[ \t]+$/g, "");

/**
 * The invariants every answer keeps, whatever was sent: below 500; from the app
 * (only a request the HTTP layer cannot even parse may be refused before it);
 * every 4xx the JSON error shape; 405 names what is allowed; 413 says why; the
 * request id echoed only when safe. Where the request was clean enough for the
 * outcome to be certain (exact path, usual Host), that outcome too.
 */
export function checkAnswer(p: Probe, res: RawResponse): void {
  const fail = (what: string): never => {
    throw new AnswerError(
      `${what}\n  request: ${p.method} ${JSON.stringify(p.target.slice(0, 300))} [${p.label}]` +
        `\n  headers: ${JSON.stringify(p.headers.map(([k, v]) => [k, v.slice(0, 120)]))}` +
        `\n  body: ${JSON.stringify((p.body ?? Buffer.concat(p.chunks ?? [])).toString("latin1").slice(0, 300))}` +
        `\n  answer: ${res.status} ${res.headers["content-type"] ?? "(no content-type)"} ${JSON.stringify(res.text.slice(0, 300))}`,
    );
  };
  const status = res.status;
  if (status >= 500) fail(`answered ${status}`);

  const fromApp = typeof res.headers["x-request-id"] === "string";
  if (!fromApp) {
    // Node's HTTP layer and @hono/node-server refuse an unparseable Host or request target with a bare 400.
    if (!(p.httpLayerMayRefuse && status === 400)) fail("answered without passing through the app (no X-Request-Id)");
    return;
  }
  const json = jsonOf(res);
  const head = p.method === "HEAD";
  if (status >= 400 && !head) {
    if (!/^application\/json\b/.test(String(res.headers["content-type"]))) fail("a 4xx that is not JSON");
    if (typeof json?.error?.code !== "string" || typeof json.error.message !== "string") fail("a 4xx without { error: { code, message } }");
  }
  if (status === 405 && !res.headers.allow) fail("405 without Allow");
  if (status === 413 && !head && json.error.code !== "payload_too_large") fail("413 with another code");
  if (status === 401 && !res.headers["www-authenticate"]) fail("401 without WWW-Authenticate");

  const sentIds = p.headers.filter(([k]) => k.toLowerCase() === "x-request-id").length;
  const answeredId = String(res.headers["x-request-id"]);
  if (sentIds === 1 && p.requestId !== undefined && REQUEST_ID.test(ows(p.requestId))) {
    if (answeredId !== ows(p.requestId)) fail("a valid X-Request-Id not echoed");
  } else if (sentIds <= 1 && !UUID.test(answeredId)) {
    fail("an X-Request-Id that is not safe to echo was not replaced by a UUID");
  }

  // A webhook without a valid signature is answered with nothing but a refusal, on any path.
  if ((p.aim === "call-2fa" || p.aim === "call-status") && p.signature === "invalid" && status < 400) fail("an unsigned webhook succeeded");

  if (!p.exactPath || p.httpLayerMayRefuse) return;
  const expect = (ok: boolean, what: string) => ok || fail(what);
  const bodyless = p.method === "GET" || p.method === "HEAD";
  switch (p.aim) {
    case "healthz":
    case "readyz":
      expect(bodyless ? status === 200 : status === 405 || status === 413, `${p.aim} answered ${status}`);
      break;
    case "metrics":
      if (!bodyless) expect(status === 405 || status === 413, `metrics answered ${status} to ${p.method}`);
      else if (p.metricsToken === true) expect(status === 200, "metrics refused its token");
      else if (p.metricsToken === false) expect(status === 401, "metrics served without its token");
      break;
    case "request-auth":
    case "validate-auth":
    case "challenges":
      if (p.owner === null) expect(status === 401 || status === 413, "a refused API key was not answered 401");
      if (typeof p.owner === "string") expect(status !== 401, "an accepted API key was answered 401");
      if (p.aim !== "challenges" && p.method !== "POST" && typeof p.owner === "string") expect([405, 413, 429].includes(status), "a wrong method was not 405");
      if (p.aim === "challenges" && !bodyless && typeof p.owner === "string") expect([405, 413, 429].includes(status), "a wrong method was not 405");
      if (p.badIdempotencyKey && typeof p.owner === "string" && p.method === "POST") {
        expect([400, 413, 429].includes(status), "a malformed Idempotency-Key was not refused");
      }
      if (status === 201) expect(typeof json?.id === "string" && json.status === "pending" && /^\+\d+$/.test(json.number), "201 without a challenge");
      if (p.aim === "validate-auth" && status === 200) expect(json?.status === "approved" && typeof json.id === "string", "200 without approval");
      break;
    case "call-2fa":
    case "call-status":
      if (p.mustAcceptSignature) {
        if (p.aim === "call-2fa") expect(status === 200 && /^text\/xml/.test(String(res.headers["content-type"])), "a signed voice webhook was not answered with XML");
        else expect(status === 204, "a signed status callback was not answered 204");
      }
      break;
  }
}
