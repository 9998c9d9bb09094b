import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  CarrierError,
  InvalidNumberError,
  RateLimitedError,
  ServiceUnavailableError,
  UnauthorizedError,
  VoiceOtpClient,
  VoiceOtpError,
} from "../src/client/index.js";
import { API_ERRORS } from "./helpers/api-errors.js";
import { API_KEY, codeHeard, startTestService, type TestService } from "./helpers/service.js";

describe("the backend client against the real service", () => {
  let t: TestService;
  let client: VoiceOtpClient;
  beforeAll(async () => {
    t = await startTestService({ db: "pglite", carrier: "twilio", env: { CARRIER_TIMEOUT_MS: "500" } });
    client = new VoiceOtpClient({ baseUrl: t.service.url, apiKey: API_KEY });
  });
  afterAll(() => t?.close());

  const heardBy = async (number: string, id: string) =>
    codeHeard((await t.simulator.waitForCall((c) => c.to === number && c.url.includes(id))).heard);

  it("requests a call, validates wrong and right codes as answers, and reads the challenge", async () => {
    const challenge = await client.requestAuth("(212) 555-0180", { language: "en", clientIp: "198.51.100.4" });
    expect(challenge).toMatchObject({ number: "+12125550180", status: "pending", attemptsAllowed: 5 });
    const code = await heardBy("+12125550180", challenge.id);
    const wrong = await client.validateAuth({ number: "+12125550180", code: code === "000000" ? "111111" : "000000" });
    expect(wrong).toEqual({ approved: false, id: challenge.id, reason: "incorrect", attemptsRemaining: 4 });
    expect(await client.validateAuth({ id: challenge.id, code })).toMatchObject({ approved: true, id: challenge.id, verificationToken: expect.any(String) });
    // Approved, the challenge has ended: a denial still names it, so that getChallenge can say why.
    expect(await client.validateAuth({ number: "+12125550180", code })).toEqual({
      approved: false,
      id: challenge.id,
      reason: "no_pending_challenge",
      attemptsRemaining: 0,
    });
    const view = await client.getChallenge(challenge.id);
    expect(view).toMatchObject({ id: challenge.id, status: "approved", attemptsUsed: 1, call: { status: "completed" } });
    expect(view.apiKey).toMatch(/^env:[0-9a-f]{8}$/);
    expect(view.call.events.map((e) => e.status)).toContain("ringing");
  });

  it("names no challenge on a denial for a number never called", async () => {
    expect(await client.validateAuth({ number: "+12125550199", code: "123456" })).toEqual({
      approved: false,
      reason: "no_pending_challenge",
      attemptsRemaining: 0,
    });
    const raw = await t.api("POST", "/validate-auth", { number: "+12125550199", auth_code: "123456" });
    expect(raw.status).toBe(403);
    expect(raw.body).not.toHaveProperty("challenge_id");
  });

  it("hands out every field the service documents for a challenge, in camelCase", async () => {
    const challenge = await client.requestAuth("+12125550198");
    await heardBy("+12125550198", challenge.id);
    const raw = (await t.api("GET", `/challenges/${challenge.id}`)).body as Record<string, unknown>;
    const camel = (k: string) => k.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
    const view = await client.getChallenge(challenge.id);
    expect(Object.keys(view).sort()).toEqual(Object.keys(raw).map(camel).sort());
    expect(Object.keys(view.call).sort()).toEqual(Object.keys(raw.call as object).map(camel).sort());
  });

  it("throws typed errors for the rest", async () => {
    const limited = await client.requestAuth("+12125550180").catch((e: unknown) => e);
    expect(limited).toBeInstanceOf(RateLimitedError);
    expect((limited as RateLimitedError).limit).toBe("resend_cooldown");
    expect((limited as RateLimitedError).retryAfterSeconds).toBeGreaterThan(0);
    expect((limited as RateLimitedError).requestId).toMatch(/^[0-9a-f-]{36}$/);

    for (const number of ["12", "+19005550123"]) {
      const err = await client.requestAuth(number).catch((e: unknown) => e);
      expect(err, number).toBeInstanceOf(InvalidNumberError);
    }
    const bad = new VoiceOtpClient({ baseUrl: t.service.url, apiKey: "wrong-key-0123456789" });
    await expect(bad.getChallenge("ch_x")).rejects.toBeInstanceOf(UnauthorizedError);
    const missing = await client.getChallenge("ch_nope").catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(VoiceOtpError);
    expect(missing).toMatchObject({ status: 404, code: "not_found" });

    t.simulator.setOutcome("+12125550181", API_ERRORS.invalidNumber);
    const refused = await client.requestAuth("+12125550181").catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(InvalidNumberError);
    expect(refused).toMatchObject({ status: 400, code: "invalid_number", details: { carrier: "twilio", carrier_code: "21211" } });
    t.simulator.setOutcome("+12125550178", API_ERRORS.serverError);
    const failed = (await client.requestAuth("+12125550178").catch((e: unknown) => e)) as CarrierError;
    expect(failed).toBeInstanceOf(CarrierError);
    expect(failed).toMatchObject({ carrier: "twilio", carrierCode: "20500", timedOut: false });
    expect(failed.challengeId).toMatch(/^ch_/);
    t.simulator.setOutcome("+12125550182", { kind: "api-timeout" });
    const slow = (await client.requestAuth("+12125550182").catch((e: unknown) => e)) as CarrierError;
    expect(slow).toBeInstanceOf(CarrierError);
    expect(slow.timedOut).toBe(true);
  });

  it("replays a request with the same Idempotency-Key instead of calling twice", async () => {
    const before = t.simulator.calls().length;
    const first = await client.requestAuth("+12125550183", { idempotencyKey: "order-1" });
    const again = await client.requestAuth("+12125550183", { idempotencyKey: "order-1" });
    expect(again).toEqual(first);
    expect(t.simulator.calls().length).toBe(before + 1);
    const reused = await client.requestAuth("+12125550184", { idempotencyKey: "order-1" }).catch((e: unknown) => e);
    expect(reused).toMatchObject({ status: 422, code: "idempotency_key_reused" });

    // Two at once with one key: one call, one 409 for the request still in flight.
    t.simulator.setOutcome("+12125550185", { kind: "answer", apiDelayMs: 300 });
    const both = await Promise.allSettled([
      client.requestAuth("+12125550185", { idempotencyKey: "order-2" }),
      new Promise((r) => setTimeout(r, 100)).then(() => client.requestAuth("+12125550185", { idempotencyKey: "order-2" })),
    ]);
    expect(both[0].status).toBe("fulfilled");
    expect(both[1]).toMatchObject({ status: "rejected", reason: { status: 409, code: "idempotency_in_flight" } });
    expect(t.simulator.calls().filter((c) => c.to === "+12125550185")).toHaveLength(1);
  });

  it("retries a request whose answer was lost only when it carries an Idempotency-Key", async () => {
    let dropped = 0;
    // A transport that delivers the request but loses the first answer, as a dropped connection would.
    const lossy: typeof fetch = async (input, init) => {
      const res = await fetch(input, init);
      if (dropped++ === 0) throw new TypeError("fetch failed", { cause: { code: "ECONNRESET" } });
      return res;
    };
    const flaky = new VoiceOtpClient({ baseUrl: t.service.url, apiKey: API_KEY, fetch: lossy });
    const challenge = await flaky.requestAuth("+12125550186", { idempotencyKey: "order-3" });
    expect(t.simulator.calls().filter((c) => c.to === "+12125550186")).toHaveLength(1);
    expect(challenge.number).toBe("+12125550186");

    dropped = 0;
    const err = await flaky.requestAuth("+12125550187").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ServiceUnavailableError);
    expect(err).toMatchObject({ code: "network" });
    // No key, no retry: exactly one call, even though the caller saw an error.
    expect(t.simulator.calls().filter((c) => c.to === "+12125550187")).toHaveLength(1);
  });

  it("keeps no refusal under an Idempotency-Key: a retry after Retry-After is a new attempt", async () => {
    const number = "+12125550189";
    const first = await client.requestAuth(number, { idempotencyKey: "order-5" });
    // The resend cooldown refuses a second call at once (429); nothing happened, so the key stays free.
    const refused = await client.requestAuth(number, { idempotencyKey: "order-6" }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(RateLimitedError);
    t.clock.advance(31_000);
    const retried = await client.requestAuth(number, { idempotencyKey: "order-6" });
    expect(retried.id).not.toBe(first.id);
    expect(t.simulator.calls().filter((c) => c.to === number)).toHaveLength(2);
  });

  it("takes the same fields in another layout as the same request under one Idempotency-Key", async () => {
    const send = (body: string, type: string) =>
      fetch(`${t.service.url}/request-auth`, {
        method: "POST",
        headers: { authorization: `Bearer ${API_KEY}`, "content-type": type, "idempotency-key": "order-7" },
        body,
      });
    const first = await send('{"number":"+12125550190","language":"en"}', "application/json");
    expect(first.status).toBe(201);
    const spaced = await send('{ "language": "en",\n  "number": "+12125550190" }', "application/json; charset=utf-8");
    expect(spaced.status).toBe(201);
    expect(spaced.headers.get("idempotent-replayed")).toBe("true");
    expect(await spaced.json()).toEqual(await first.json());
    const other = await send('{"number":"+12125550190","language":"es"}', "application/json");
    expect(other.status).toBe(422);
    expect(t.simulator.calls().filter((c) => c.to === "+12125550190")).toHaveLength(1);
  });

  it("replays an Idempotency-Key for 24 hours, and after them takes it as a new request", async () => {
    const number = "+12125550188";
    const callsTo = () => t.simulator.calls().filter((c) => c.to === number).length;
    const first = await client.requestAuth(number, { idempotencyKey: "order-4" });
    t.clock.advance(24 * 3600_000 - 1000);
    expect(await client.requestAuth(number, { idempotencyKey: "order-4" })).toEqual(first);
    expect(callsTo()).toBe(1);
    t.clock.advance(2000);
    const later = await client.requestAuth(number, { idempotencyKey: "order-4" });
    expect(later.id).not.toBe(first.id);
    expect(callsTo()).toBe(2);
  });

  it("refuses an empty apiKey, which would be a mistake rather than a choice", () => {
    expect(() => new VoiceOtpClient({ baseUrl: t.service.url, apiKey: "" })).toThrow(/leave apiKey out for a service running without API_KEYS/);
  });

  it("reports an unreachable service as ServiceUnavailableError after retrying reads", async () => {
    const gone = new VoiceOtpClient({ baseUrl: "http://127.0.0.1:9", apiKey: API_KEY, retries: 1 });
    await expect(gone.getChallenge("ch_x")).rejects.toMatchObject({ name: "ServiceUnavailableError", code: "network" });
    await expect(gone.validateAuth({ id: "ch_x", code: "123456" })).rejects.toBeInstanceOf(ServiceUnavailableError);
  });
});

describe("the backend client against an open development service (no API_KEYS, npm start's simulator)", () => {
  let t: TestService;
  beforeAll(async () => {
    t = await startTestService({ db: "pglite", carrier: "twilio", env: { API_KEYS: "", CARRIER: "simulator" } });
  });
  afterAll(() => t?.close());

  it("needs no API key: requests a call, hears the challenge named on a denial, and reads it", async () => {
    const client = new VoiceOtpClient({ baseUrl: t.service.url });
    const challenge = await client.requestAuth("+12125550170");
    const call = await t.service.simulator!.waitForCall((c) => c.to === "+12125550170" && c.url.includes(challenge.id));
    const code = codeHeard(call.heard);
    const wrong = await client.validateAuth({ number: "+12125550170", code: code === "000000" ? "111111" : "000000" });
    expect(wrong).toEqual({ approved: false, id: challenge.id, reason: "incorrect", attemptsRemaining: 4 });
    expect(await client.validateAuth({ id: challenge.id, code })).toMatchObject({ approved: true, id: challenge.id, verificationToken: expect.any(String) });
    expect(await client.getChallenge(challenge.id)).toMatchObject({ id: challenge.id, status: "approved", apiKey: "open" });
  });
});
