import { createHash } from "node:crypto";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createKey, revokeKey } from "../src/keys/api-keys.js";
import { LANGUAGES } from "../src/voice/phrases.js";
import { LANGUAGE_TAGS } from "../src/voice/voices.js";
import { databaseKinds } from "./helpers/databases.js";
import { API_KEY, codeHeard, startTestService, type CarrierKind, type TestService } from "./helpers/service.js";
import { sendBytes, sendRaw, type RawResponse } from "./helpers/raw-http.js";
import { POLLUTION_MARK } from "./helpers/bad-input/arbitraries.js";
import { AnswerError, checkAnswer, jsonOf } from "./helpers/bad-input/answers.js";
import { compareDatabase, snapshot, type Snapshot } from "./helpers/bad-input/database.js";
import { digitWindows, Ledger } from "./helpers/bad-input/ledger.js";
import { apiProbe, prototypeNameProbe } from "./helpers/bad-input/api-probes.js";
import { BODY_LIMIT, otherProbe, sizeProbe } from "./helpers/bad-input/other-probes.js";
import type { Probe, World } from "./helpers/bad-input/probes.js";
import { webhookProbe } from "./helpers/bad-input/webhook-probes.js";

/**
 * Bad input, property-based: thousands of generated requests on every endpoint —
 * bodies, content types, charsets, encodings, sizes, headers, paths and queries,
 * webhooks signed and unsigned — against the real service over real HTTP. Each
 * answer is below 500 and in the error shape (answers.ts); the service answers
 * /healthz after every run; at the end the database holds exactly what the
 * successful requests wrote (database.ts), and no answer or log line holds a code.
 *
 * fast-check picks a new seed each run and prints it with any failure; replay with
 * BAD_INPUT_SEED=<seed> (and BAD_INPUT_PATH from the report to go straight to the
 * counterexample). BAD_INPUT_RUNS=<factor> scales the number of runs.
 */
const SEED = process.env.BAD_INPUT_SEED ? Number(process.env.BAD_INPUT_SEED) : undefined;
const FACTOR = Number(process.env.BAD_INPUT_RUNS ?? "1");
const runs = (n: number): fc.Parameters<unknown> => ({
  numRuns: Math.max(1, Math.round(n * FACTOR)),
  ...(SEED !== undefined ? { seed: SEED, path: process.env.BAD_INPUT_PATH } : {}),
});

const METRICS_TOKEN = "metrics-token-0123456789";
/** What a challenge's language may be stored as: a bare language, or a regional tag with voices. */
const STORED_LANGUAGES = [...LANGUAGES, ...LANGUAGE_TAGS];
/** Out of the way of the generated load: the per-key limit has its own tests. */
const KEY_RATE = 1_000_000;
const combos = (await databaseKinds()).map((db) => ({
  db,
  // Each database with the other carrier's signatures; proxy headers believed on one of them.
  carrier: (db === "pglite" ? "twilio" : "signalwire") as CarrierKind,
  trustProxy: db === "pglite",
}));

describe.each(combos)("bad input on $db through $carrier", ({ db, carrier, trustProxy }) => {
  let t: TestService;
  let world: World;
  let ledger: Ledger;
  let before: Snapshot;
  const prototypeNames = Object.getOwnPropertyNames(Object.prototype).sort().join();

  beforeAll(async () => {
    t = await startTestService({
      db,
      carrier,
      env: {
        // Valid-shaped requests must reach validation and the database, not stop at a limit.
        RESEND_COOLDOWN_SECONDS: "0",
        CALLS_PER_NUMBER_PER_10_MIN: "5",
        CALLS_PER_NUMBER_PER_DAY: "6",
        CALLS_PER_PREFIX_PER_HOUR: "100000",
        CALLS_PER_IP_PER_HOUR: "5",
        CALLS_PER_DAY: "100000",
        REQUESTS_PER_KEY_PER_MINUTE: String(KEY_RATE),
        // Refused keys must be answered 401 every time, not 429 once the address has sent many.
        AUTH_FAILURES_PER_IP_PER_MINUTE: "1000000",
        FAILED_VALIDATIONS_PER_NUMBER_PER_DAY: "12",
        CARRIER_TIMEOUT_MS: "5000",
        METRICS_TOKEN,
        TRUST_PROXY: String(trustProxy),
      },
    });
    const database = t.service.deps.database;
    const now = t.clock.now();
    const dbKey = await createKey(database, "fuzz-db", { now });
    const slowKey = await createKey(database, "fuzz-slow", { now, ratePerMinute: 5 });
    const revoked = await createKey(database, "fuzz-revoked", { now });
    await revokeKey(database, "fuzz-revoked", now);

    // Challenges waiting before the fuzzing starts: targets for validation, lookups and webhooks.
    const seeds: World["seeds"] = [];
    for (let i = 0; i < 6; i++) {
      const number = `+1646555010${i}`;
      const res = await t.api("POST", "/request-auth", { number });
      expect(res.status, res.text).toBe(201);
      const call = await t.simulator.waitForCall({ to: number });
      seeds.push({ id: res.body.id, number, code: codeHeard(call.heard), callSid: call.sid });
    }
    const sign = t.simulator.sign as World["sign"];
    world = {
      host: `127.0.0.1:${t.service.port}`,
      publicBase: t.service.deps.publicBaseUrl(),
      apiKey: API_KEY,
      dbKey: { key: dbKey.key, name: dbKey.name },
      slowKey: { key: slowKey.key, name: slowKey.name },
      revokedKey: revoked.key,
      envOwner: `env:${createHash("sha256").update(API_KEY).digest("hex").slice(0, 8)}`,
      metricsToken: METRICS_TOKEN,
      accountSid: t.carrierEnv.TWILIO_ACCOUNT_SID ?? t.carrierEnv.SIGNALWIRE_PROJECT!,
      trustProxy,
      pool: Array.from({ length: 40 }, (_, i) => `+121255501${String(i).padStart(2, "0")}`),
      seeds,
      liveIds: [],
      liveSids: [],
      sign,
    };
    ledger = new Ledger(world.liveIds);
    before = await snapshot(database);
  }, 90_000);

  afterAll(async () => {
    if (ledger) console.log(`bad input on ${db}: ${ledger.summary()}`);
    await t?.close();
  });

  /** Sends one probe, checks its answer, and books what it did. */
  async function exchange(p: Probe): Promise<RawResponse> {
    const res = await sendRaw(t.service.url, p, 10_000);
    ledger.record(p, res);
    checkAnswer(p, res);
    return res;
  }

  /** The process still serves, and nothing reached Object.prototype. */
  async function stillStanding() {
    const res = await sendRaw(t.service.url, { method: "GET", target: "/healthz", headers: [["Host", world.host]] }, 5_000);
    if (res.status !== 200) throw new Error(`/healthz answered ${res.status} ${res.text}`);
    if (Object.getOwnPropertyNames(Object.prototype).sort().join() !== prototypeNames || POLLUTION_MARK in {}) {
      throw new Error("Object.prototype was changed by a request");
    }
    // New calls' ids and SIDs become targets for the next runs.
    for (const call of t.simulator.calls()) if (!world.liveSids.includes(call.sid)) world.liveSids.push(call.sid);
  }

  /** Runs a batch of probes at once: concurrency is part of the input. */
  const batch = (arb: fc.Arbitrary<Probe>, max: number) =>
    fc.asyncProperty(fc.array(arb, { minLength: 1, maxLength: max }), async (probes) => {
      await Promise.all(probes.map(exchange));
      await stillStanding();
    });

  it("answers generated bodies on /request-auth and /validate-auth below 500, in the error shape", async () => {
    await fc.assert(batch(fc.oneof(apiProbe(world, "request-auth"), apiProbe(world, "validate-auth")), 3), runs(600));
  }, 120_000);

  it("takes a field holding a name every object has (constructor, __proto__) for a plain string, never a known value", async () => {
    await fc.assert(
      fc.asyncProperty(prototypeNameProbe(world), async (p) => {
        const res = await exchange(p);
        if (res.status === 201) {
          // Accepted: then the name was not taken for a language (or anything else) by a lookup.
          const view = await sendRaw(t.service.url, { method: "GET", target: `/challenges/${jsonOf(res).id}`, headers: [["Host", world.host], ["Authorization", `Bearer ${API_KEY}`]] });
          if (!STORED_LANGUAGES.includes(jsonOf(view)?.language)) throw new AnswerError(`${p.field}=${p.value} was accepted and stored as ${view.text}`);
        }
        await stillStanding();
      }),
      runs(80),
    );
  }, 60_000);

  it("answers generated carrier webhooks, signed and unsigned, below 500 and never without a signature", async () => {
    await fc.assert(batch(webhookProbe(world), 3), runs(450));
  }, 120_000);

  it("answers every other endpoint, unknown paths and wrong methods below 500, in the error shape", async () => {
    await fc.assert(batch(otherProbe(world), 3), runs(400));
  }, 120_000);

  it("refuses a body over 16 KB with 413 on every endpoint, with or without Content-Length, and takes one up to 16 KB", async () => {
    await fc.assert(
      fc.asyncProperty(sizeProbe(world), async (p) => {
        const res = await exchange(p);
        if (p.size > BODY_LIMIT) {
          if (res.status !== 413 || jsonOf(res)?.error?.code !== "payload_too_large") {
            throw new AnswerError(`${p.size} bytes (${p.label}) answered ${res.status} ${res.text.slice(0, 200)}`);
          }
        } else if (res.status === 413) {
          throw new AnswerError(`${p.size} bytes (${p.label}) answered 413`);
        }
        await stillStanding();
      }),
      runs(200),
    );
    // A megabyte streamed in 1 KB chunks is cut off at the limit, not read to the end first.
    const stream = await exchange({
      aim: "request-auth",
      exactPath: true,
      method: "POST",
      target: "/request-auth",
      headers: [["Host", world.host], ["Authorization", `Bearer ${API_KEY}`], ["Content-Type", "application/json"]],
      chunks: Array.from({ length: 1024 }, () => Buffer.alloc(1024, " ")),
      owner: world.envOwner,
      label: "request-auth 1 MB, chunked",
    });
    expect(stream.status).toBe(413);
    expect(jsonOf(stream).error.code).toBe("payload_too_large");
    await stillStanding();
  }, 120_000);

  it("answers malformed HTTP (framing, garbage bytes, huge heads) below 500 or closes, and keeps serving", async () => {
    const host = `Host: ${world.host}\r\n`;
    // prettier-ignore
    const cases = [
      `POST /request-auth HTTP/1.1\r\n${host}Content-Length: 5\r\nContent-Length: 6\r\n\r\nhello!`,
      `POST /request-auth HTTP/1.1\r\n${host}Transfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n`,
      `POST /call-status HTTP/1.1\r\n${host}Transfer-Encoding: chunked\r\n\r\nZZ\r\nxx\r\n0\r\n\r\n`,
      `POST /call-status HTTP/1.1\r\n${host}Transfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n`,
      `POST /call-status HTTP/1.1\r\n${host}Transfer-Encoding: chunked\r\nContent-Type: application/x-www-form-urlencoded\r\n\r\n4000\r\nCallSid=\r\n`,
      `POST /call-2fa?c=x HTTP/1.1\r\n${host}Content-Type: multipart/form-data; boundary=b\r\nContent-Length: 100\r\n\r\n--b\r\nContent-Disposition: form-data; name="a"\r\n\r\nx`,
      `POST /no-such-route HTTP/1.1\r\n${host}Transfer-Encoding: chunked\r\n\r\n5\r\nab`,
      `POST /call-status HTTP/1.1\r\n${host}Transfer-Encoding: chunked\r\nContent-Type: application/x-www-form-urlencoded\r\n\r\n5\r\na=b&c\r\n0\r\nX-Trailer: 1\r\n\r\n`,
      `POST /request-auth HTTP/1.1\r\n${host}Content-Length: -1\r\n\r\n`,
      `POST /request-auth HTTP/1.1\r\n${host}Content-Length: 99999999999999999999\r\n\r\n`,
      `POST /request-auth HTTP/1.1\r\n${host}Content-Length: 1e3\r\n\r\n`,
      `POST /validate-auth HTTP/1.1\r\n${host}Content-Type: application/json\r\nContent-Length: 10\r\n\r\nabc`,
      `GET /healthz HTTP/1.1\r\n${host}X: a\x00b\r\n\r\n`,
      `GET /healthz HTTP/1.0\r\n\r\n`,
      `GET /healthz HTTP/2.0\r\n\r\n`,
      `GET /healthz\r\n\r\n`,
      ` GET /healthz HTTP/1.1\r\n${host}\r\n`,
      `GET /healthz HTTP/1.1\n${host.replace("\r", "")}\n`,
      `GET /healthz HTTP/1.1\r\n${host}X: a\r\n b\r\n\r\n`,
      `GET /healthz HTTP/1.1\r\n${host}\r\nGET /nope HTTP/1.1\r\n${host}\r\n`,
      `GET /healthz HTTP/1.1\r\n${host}\r\nGARBAGE\r\n\r\n`,
      `GET /healthz HTTP/1.1\r\n${host}Host: other\r\n\r\n`,
      `GET /healthz HTTP/1.1\r\n\r\n`,
      `GET * HTTP/1.1\r\n${host}\r\n`,
      `CONNECT example.com:443 HTTP/1.1\r\n${host}\r\n`,
      `FOO /healthz HTTP/1.1\r\n${host}\r\n`,
      `GET /healthz HTTP/1.1\r\n${host}Upgrade: websocket\r\nConnection: Upgrade\r\n\r\n`,
      `POST /request-auth HTTP/1.1\r\n${host}Expect: 100-continue\r\nContent-Length: 2\r\n\r\n{}`,
      `GET /healthz HTTP/1.1\r\n${host}Expect: teapot\r\n\r\n`,
      `GET /${"a".repeat(20_000)} HTTP/1.1\r\n${host}\r\n`,
      `GET /healthz HTTP/1.1\r\n${host}X-Big: ${"a".repeat(20_000)}\r\n\r\n`,
      `GET /healthz HTTP/1.1\r\n${host}${Array.from({ length: 3000 }, (_, i) => `X-${i}: 1\r\n`).join("")}\r\n`,
      "\r\n\r\n",
      "\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03",
    ];
    const bytes = fc.oneof(
      fc.constantFrom(...cases).map((s) => Buffer.from(s, "latin1")),
      fc.uint8Array({ minLength: 1, maxLength: 400 }).map((b) => Buffer.from(b)),
      fc
        .tuple(fc.constantFrom(`GET /healthz HTTP/1.1\r\n${host}`, `POST /call-status HTTP/1.1\r\n${host}`, `POST /request-auth HTTP/1.1\r\n${host}`), fc.uint8Array({ maxLength: 300 }))
        .map(([head, tail]) => Buffer.concat([Buffer.from(head, "latin1"), Buffer.from(tail)])),
    );
    await fc.assert(
      fc.asyncProperty(bytes, async (b) => {
        const res = await sendBytes(t.service.url, b, 10_000);
        for (const m of res.text.matchAll(/^HTTP\/1\.[01] (\d{3})/gm)) {
          if (Number(m[1]) >= 500) throw new AnswerError(`answered ${m[1]} to ${JSON.stringify(b.toString("latin1").slice(0, 300))}:\n${res.text.slice(0, 500)}`);
        }
        await stillStanding();
      }),
      runs(150),
    );
  }, 120_000);

  it("holds exactly what the successful requests wrote", async () => {
    await callsEnded(t);
    const after = await snapshot(t.service.deps.database);
    const owners = new Set([world.envOwner, world.dbKey.name, world.slowKey.name]);
    expect(compareDatabase(before, after, ledger, owners, STORED_LANGUAGES)).toEqual([]);
    // The check had something to check: calls made, guesses counted, keys claimed.
    expect(ledger.created.size).toBeGreaterThan(10);
    expect(ledger.incorrect).toBeGreaterThan(3);
    expect(ledger.claims.size).toBeGreaterThan(3);
    expect(ledger.requests).toBeGreaterThan(1500 * Math.min(1, FACTOR));
  }, 60_000);

  it("puts no code in any answer or log line, no full number in a log line, and logs no error", async () => {
    await callsEnded(t);
    const codes = new Set<string>();
    for (const call of t.simulator.calls()) {
      for (const m of call.heard.join(" ").matchAll(/\b\d(?: \d){5}\b/g)) codes.add(m[0].replace(/\D/g, ""));
      expect(call.webhookErrors, `call ${call.sid} to ${call.to}`).toEqual([]);
    }
    // A code that also appears in something sent (an echoed path, a guess) proves nothing either way.
    const checkable = [...codes].filter((c) => !ledger.sentDigits.has(c));
    expect(checkable.length).toBeGreaterThan(10);
    for (const code of checkable) expect(ledger.answerDigits.get(code), `code ${code} in an answer`).toBeUndefined();

    const logDigits = new Map<string, string>();
    const numbers = new Set([...t.simulator.calls().map((c) => c.to), ...world.seeds.map((s) => s.number)]);
    const unechoed = [...numbers].filter((n) => !ledger.sentRuns.some((r) => r.includes(n.slice(2))));
    const errors: string[] = [];
    for (const line of t.logLines) {
      const { time: _t, ms: _m, pid: _p, hostname: _h, reqId, ...rest } = JSON.parse(line) as Record<string, unknown>;
      if (Number(rest.level) >= 50) errors.push(line.slice(0, 1000));
      const text = JSON.stringify({ ...rest, reqId: /^[0-9a-f-]{36}$/.test(String(reqId)) ? undefined : reqId });
      const found = new Set<string>();
      digitWindows(text, 6, found);
      for (const d of found) if (!logDigits.has(d)) logDigits.set(d, text.slice(0, 300));
      for (const n of unechoed) if (text.includes(n.slice(1))) errors.push(`full number ${n} logged: ${text.slice(0, 300)}`);
    }
    for (const code of checkable) expect(logDigits.get(code), `code ${code} in a log line`).toBeUndefined();
    expect(errors).toEqual([]);
  }, 60_000);
});

/** Waits until every call the simulator placed has ended (its webhooks answered). */
async function callsEnded(t: TestService) {
  for (let seen = -1; seen !== t.simulator.calls().length; ) {
    seen = t.simulator.calls().length;
    await Promise.all(t.simulator.calls().map((c) => t.simulator.waitForCall(c.sid, { timeoutMs: 30_000 })));
  }
}
