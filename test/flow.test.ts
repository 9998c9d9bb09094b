import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { apiErrors } from "./helpers/api-errors.js";
import { PHRASES } from "../src/voice/phrases.js";
import { VOICES } from "../src/voice/voices.js";
import { databaseKinds } from "./helpers/databases.js";
import { CARRIER_KINDS, codeHeard, startTestService, type CarrierKind, type TestService } from "./helpers/service.js";
import { callParams, numbers, postWebhook } from "./helpers/webhooks.js";

const combos = (await databaseKinds()).flatMap((db) => CARRIER_KINDS.map((carrier) => ({ db, carrier })));

/**
 * Telnyx signs the body alone (Ed25519 over timestamp|body): its signature binds neither
 * the URL. What stands in for the URL is the call: a request from another call than
 * the challenge's hears no code.
 */
const signsTheUrl = (carrier: CarrierKind) => carrier !== "telnyx";
/** The voice XML's digit and Gather, as each carrier's markup writes them. */
const markup = (carrier: CarrierKind) =>
  carrier === "telnyx"
    ? { digit: /<Say [^>]*>(\d)<\/Say>/g, gatherMethod: "" }
    : { digit: /<say-as interpret-as="digits">(\d)<\/say-as><break time="700ms"\/>/g, gatherMethod: ' method="POST"' };
/** AnsweredBy for an answering machine: Twilio's word, and the one Telnyx's synchronous detection documents. */
const machineWord = (carrier: CarrierKind) => (carrier === "telnyx" ? "machine" : "machine_start");

describe.each(combos)("the voice OTP flow on $db through $carrier", ({ db, carrier }) => {
  let t: TestService;
  const nextNumber = numbers();
  // Every code and number the tests saw, to prove none reached a log line.
  const seenCodes = new Set<string>();
  const seenNumbers = new Set<string>();

  beforeAll(async () => {
    // The suite calls dozens of numbers in one exchange within the hour; the range limit has its own tests.
    t = await startTestService({ db, carrier, env: { CARRIER_TIMEOUT_MS: "1000", CALLS_PER_PREFIX_PER_HOUR: "1000", ALLOWED_COUNTRIES: "US,CA,GB" } });
  });
  afterAll(() => t?.close());

  /** Requests a call to a fresh number and returns what the phone heard. */
  async function callAndListen(opts: { form?: boolean; language?: string; number?: string } = {}) {
    const number = opts.number ?? nextNumber();
    seenNumbers.add(number);
    const body = { number, ...(opts.language ? { language: opts.language } : {}) };
    const res = await t.api("POST", "/request-auth", body, { form: opts.form });
    expect(res.status, res.text).toBe(201);
    const call = await t.simulator.waitForCall((c) => c.to === number && !seenSids.has(c.sid));
    seenSids.add(call.sid);
    let code: string | undefined;
    if (!opts.language || opts.language === "en") {
      code = codeHeard(call.heard);
      seenCodes.add(code);
    }
    return { number, res, call, code };
  }
  const seenSids = new Set<string>();

  /**
   * A call held ringing, so that a test can fetch its voice document while it is live (once a
   * call has ended, the sealed copy of its code is wiped); finish() picks it up and returns
   * the call once it has ended.
   */
  async function callRinging(opts: { language?: string } = {}) {
    const number = nextNumber();
    seenNumbers.add(number);
    t.simulator.setOutcome(number, { kind: "answer", hold: true });
    const res = await t.api("POST", "/request-auth", { number, ...(opts.language ? { language: opts.language } : {}) });
    expect(res.status, res.text).toBe(201);
    const call = await t.simulator.waitForHeld({ to: number });
    seenSids.add(call.sid);
    const finish = () => {
      t.simulator.pickUp(call.sid);
      return t.simulator.waitForCall({ sid: call.sid });
    };
    return { number, res, call, finish };
  }

  it("calls, reads the code digit by digit twice, and approves it once", async () => {
    const { number, res, call, code } = await callAndListen();
    expect(res.body).toEqual({
      id: expect.stringMatching(/^ch_[\w-]{22}$/),
      number,
      status: "pending",
      expires_at: expect.any(String),
      attempts_allowed: 5,
    });
    expect(new Date(res.body.expires_at).getTime() - t.clock.now().getTime()).toBe(600_000);
    expect(code).toMatch(/^\d{6}$/);
    const spoken = call.heard.join(" ");
    expect(spoken).toContain("Hello. This is voice-otp with your verification code.");
    expect(spoken).toContain(`Your code is: ${code!.split("").join(" ")} Again: ${code!.split("").join(" ")}`);
    expect(spoken).toMatch(/Goodbye\.$/);
    expect(call.url).not.toContain(code!);
    expect(call.url).toMatch(new RegExp(`/call-2fa\\?c=${res.body.id}$`));
    expect(call.webhookErrors).toEqual([]);

    const ok = await t.api("POST", "/validate-auth", { number, auth_code: code });
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({ status: "approved", id: res.body.id });
    // A code works once.
    const again = await t.api("POST", "/validate-auth", { number, auth_code: code });
    expect(again.status).toBe(403);
    expect(again.body).toMatchObject({ status: "denied", reason: "no_pending_challenge", attempts_remaining: 0 });

    const view = await t.api("GET", `/challenges/${res.body.id}`);
    expect(view.status).toBe(200);
    expect(view.body).toMatchObject({ id: res.body.id, number, status: "approved", attempts_used: 0, attempts_allowed: 5 });
    expect(view.body.call.sid).toBe(call.sid);
    expect(view.body.call.events.map((e: { status: string }) => e.status)).toEqual([
      "queued",
      "ringing",
      "in-progress",
      "completed",
    ]);
    expect(view.text).not.toContain(code!);
    expect(view.text).not.toMatch(/code_mac|code_sealed|sealed|mac/);
  });

  it("takes form-encoded bodies and national-format numbers, and validates by challenge id", async () => {
    const national = "(415) 555-0142";
    const res = await t.api("POST", "/request-auth", { number: national }, { form: true });
    expect(res.status).toBe(201);
    expect(res.body.number).toBe("+14155550142");
    seenNumbers.add("+14155550142");
    const call = await t.simulator.waitForCall({ sid: (await sidFor(res.body.id)) });
    const code = codeHeard(call.heard);
    seenCodes.add(code);
    const ok = await t.api("POST", "/validate-auth", { id: res.body.id, auth_code: code }, { form: true });
    expect(ok.status).toBe(200);
  });

  async function sidFor(id: string): Promise<string> {
    const view = await t.api("GET", `/challenges/${id}`);
    return view.body.call.sid;
  }

  it("refuses impossible numbers and unknown languages with 400", async () => {
    for (const number of ["12", "+1 555 123 4567", "not a number", "+99912345678"]) {
      const res = await t.api("POST", "/request-auth", { number });
      expect(res.status, number).toBe(400);
      expect(res.body.error.code).toBe("invalid_number");
    }
    const lang = await t.api("POST", "/request-auth", { number: nextNumber(), language: "xx" });
    expect(lang.status).toBe(400);
    expect(lang.body.error).toMatchObject({ code: "unsupported_language", message: expect.stringMatching(/en, es, fr, de, pt/) });
  });

  it("finds the challenge by any spelling of its number, and refuses an impossible number with 400", async () => {
    const res = await t.api("POST", "/request-auth", { number: "+44 20 7946 0123" });
    expect(res.status, res.text).toBe(201);
    expect(res.body.number).toBe("+442079460123");
    seenNumbers.add("+442079460123");
    const call = await t.simulator.waitForCall({ sid: await sidFor(res.body.id) });
    const code = codeHeard(call.heard);
    seenCodes.add(code);
    // E.164 in form but not canonical (a trunk 0 after the country code): still that challenge.
    const denied = await t.api("POST", "/validate-auth", { number: "+4402079460123", auth_code: wrongCode(code) });
    expect(denied.body).toMatchObject({ status: "denied", reason: "incorrect", attempts_remaining: 4 });
    for (const number of ["+10000000000", "+99912345678", "12", "not a number"]) {
      const bad = await t.api("POST", "/validate-auth", { number, auth_code: code });
      expect(bad.status, number).toBe(400);
      expect(bad.body.error.code, number).toBe("invalid_number");
    }
    const never = await t.api("POST", "/validate-auth", { number: "+14155550198", auth_code: code });
    expect(never.body).toMatchObject({ status: "denied", reason: "no_pending_challenge" });
    expect(never.body).not.toHaveProperty("unknown");
    expect((await t.api("POST", "/validate-auth", { number: "+44 20 7946 0123", auth_code: code })).status).toBe(200);
  });

  it("denies a wrong code with the attempts left, then still takes the right one", async () => {
    const { number, code } = await callAndListen();
    const wrong = wrongCode(code!);
    const denied = await t.api("POST", "/validate-auth", { number, auth_code: wrong });
    expect(denied.status).toBe(403);
    expect(denied.body).toMatchObject({ status: "denied", reason: "incorrect", attempts_remaining: 4 });
    expect(denied.text).not.toContain(code!);
    expect((await t.api("POST", "/validate-auth", { number, auth_code: code })).status).toBe(200);
  });

  it("expires codes after OTP_TTL_SECONDS, and the call then reads no code", async () => {
    const { number, res, call, code } = await callAndListen();
    t.clock.advance(600_000);
    const late = await t.api("POST", "/validate-auth", { number, auth_code: code });
    expect(late.status).toBe(403);
    expect(late.body).toMatchObject({ reason: "expired", attempts_remaining: 0 });
    expect((await t.api("GET", `/challenges/${res.body.id}`)).body.status).toBe("expired");

    const xml = await postWebhook(t, `/call-2fa?c=${res.body.id}`, callParams(t, call));
    expect(xml.status).toBe(200);
    expect(xml.text).toContain(PHRASES.en!.unavailable);
    expect(xml.text).toContain("<Hangup/>");
    expect(xml.text).not.toContain("say-as");
  });

  it("stops after OTP_MAX_ATTEMPTS wrong codes, even for the right one", async () => {
    const { number, res, code } = await callAndListen();
    const remaining: number[] = [];
    for (let i = 0; i < 5; i++) {
      const r = await t.api("POST", "/validate-auth", { number, auth_code: wrongCode(code!) });
      expect(r.status).toBe(403);
      remaining.push(r.body.attempts_remaining);
    }
    expect(remaining).toEqual([4, 3, 2, 1, 0]);
    const right = await t.api("POST", "/validate-auth", { number, auth_code: code });
    expect(right.status).toBe(403);
    expect(right.body).toMatchObject({ reason: "too_many_attempts", attempts_remaining: 0 });
    const view = await t.api("GET", `/challenges/${res.body.id}`);
    expect(view.body).toMatchObject({ status: "too_many_attempts", attempts_used: 5 });
  });

  it("supersedes a pending code on resend, carrying the wrong guesses over", async () => {
    const first = await callAndListen();
    for (let i = 0; i < 2; i++) await t.api("POST", "/validate-auth", { number: first.number, auth_code: wrongCode(first.code!) });
    t.clock.advance(31_000); // past RESEND_COOLDOWN_SECONDS
    const second = await callAndListen({ number: first.number });
    expect(second.res.body.attempts_allowed).toBe(3);
    expect(second.code).not.toBeUndefined();
    expect((await t.api("GET", `/challenges/${first.res.body.id}`)).body.status).toBe("superseded");
    // The old code is dead, by number and by id.
    if (first.code !== second.code) {
      const old = await t.api("POST", "/validate-auth", { number: first.number, auth_code: first.code });
      expect(old.body).toMatchObject({ reason: "incorrect", attempts_remaining: 2 });
    }
    const oldById = await t.api("POST", "/validate-auth", { id: first.res.body.id, auth_code: first.code });
    expect(oldById.body.reason).toBe("no_pending_challenge");
    expect((await t.api("POST", "/validate-auth", { number: first.number, auth_code: second.code })).status).toBe(200);
  });

  it("refuses a new call once resends have used up the guessing budget", async () => {
    const first = await callAndListen();
    for (let i = 0; i < 4; i++) await t.api("POST", "/validate-auth", { number: first.number, auth_code: wrongCode(first.code!) });
    t.clock.advance(31_000);
    const second = await callAndListen({ number: first.number });
    expect(second.res.body.attempts_allowed).toBe(1);
    await t.api("POST", "/validate-auth", { number: first.number, auth_code: wrongCode(second.code!) });
    t.clock.advance(31_000);
    const callsBefore = t.simulator.calls().length;
    const third = await t.api("POST", "/request-auth", { number: first.number });
    expect(third.status).toBe(429);
    expect(third.body.error.code).toBe("attempts_exhausted");
    expect(Number(third.headers.get("retry-after"))).toBeGreaterThan(0);
    expect(t.simulator.calls().length).toBe(callsBefore);
  });

  it("approves exactly one of 25 concurrent right answers", async () => {
    const { number, code } = await callAndListen();
    const results = await Promise.all(
      Array.from({ length: 25 }, () => t.api("POST", "/validate-auth", { number, auth_code: code })),
    );
    expect(results.filter((r) => r.status === 200)).toHaveLength(1);
    expect(results.filter((r) => r.status === 403)).toHaveLength(24);
  });

  it("never counts more than OTP_MAX_ATTEMPTS of 25 concurrent wrong answers", async () => {
    const { number, res, code } = await callAndListen();
    const results = await Promise.all(
      Array.from({ length: 25 }, () => t.api("POST", "/validate-auth", { number, auth_code: wrongCode(code!) })),
    );
    expect(results.every((r) => r.status === 403)).toBe(true);
    expect(results.filter((r) => r.body.reason === "incorrect")).toHaveLength(5);
    expect(results.filter((r) => r.body.reason === "too_many_attempts")).toHaveLength(20);
    expect((await t.api("GET", `/challenges/${res.body.id}`)).body.attempts_used).toBe(5);
  });

  const API_ERRORS = apiErrors(carrier);
  // A refusal before any call (an invalid number, bad credentials…) has its own answers: carrier-refusals.test.ts.
  it.each([
    ["a server error", API_ERRORS.serverError, 502, String(API_ERRORS.serverError.code)],
    ["a malformed reply", { kind: "api-malformed" } as const, 502, /^(bad_response|http_502)$/],
    ["a timeout", { kind: "api-timeout" } as const, 504, "timeout"],
  ])("answers a carrier failure (%s) with 502 or 504 naming the carrier's code, and fails the challenge", async (_, outcome, status, code) => {
    const number = nextNumber();
    seenNumbers.add(number);
    t.simulator.setOutcome(number, outcome);
    const before = t.simulator.calls().length;
    const res = await t.api("POST", "/request-auth", { number });
    expect(res.status).toBe(status);
    expect(res.body.error).toMatchObject({
      code: status === 504 ? "carrier_timeout" : "carrier_error",
      carrier,
      carrier_code: typeof code === "string" ? code : expect.stringMatching(code),
      challenge_id: expect.stringMatching(/^ch_/),
    });
    expect(res.body.error.message).toContain(carrier);
    if ("message" in outcome) expect(res.body.error.message).toContain(outcome.message);
    // No retry: a second create-call could ring the phone twice.
    expect(t.simulator.calls().length).toBe(before);
    const view = await t.api("GET", `/challenges/${res.body.error.challenge_id}`);
    expect(view.body.status).toBe("failed");
    const validate = await t.api("POST", "/validate-auth", { number, auth_code: "123456" });
    expect(validate.body.reason).toBe("no_pending_challenge");
  });

  it.each(["busy", "no-answer", "failed"] as const)("ends the challenge when the call is %s", async (kind) => {
    const number = nextNumber();
    seenNumbers.add(number);
    t.simulator.setOutcome(number, { kind });
    const res = await t.api("POST", "/request-auth", { number });
    expect(res.status).toBe(201);
    const call = await t.simulator.waitForCall({ to: number });
    expect(call.heard).toEqual([]);
    expect(call.requests.filter((r) => r.kind === "voice")).toEqual([]);
    const view = await t.api("GET", `/challenges/${res.body.id}`);
    expect(view.body).toMatchObject({ status: "failed", failure_code: `call-${kind}`, call: { status: kind } });
  });

  it("leaves no code on an answering machine", async () => {
    const number = nextNumber();
    seenNumbers.add(number);
    t.simulator.setOutcome(number, { kind: "voicemail" });
    const res = await t.api("POST", "/request-auth", { number });
    const call = await t.simulator.waitForCall({ to: number });
    expect(call.answeredBy).toBe(machineWord(carrier));
    expect(call.heard.join(" ")).toBe(PHRASES.en!.machine("voice-otp"));
    expect(call.heard.join(" ")).not.toMatch(/\d/);
    const view = await t.api("GET", `/challenges/${res.body.id}`);
    expect(view.body.call.answered_by).toBe(machineWord(carrier));
  });

  it("refuses webhooks with a missing, forged or misdirected signature, and reveals no code", async () => {
    const { res, call, finish } = await callRinging();
    const params = callParams(t, call);
    const path = `/call-2fa?c=${res.body.id}`;
    // The genuine article reads the code (twice), while the call is live.
    const genuine = await postWebhook(t, path, params);
    expect(genuine.status).toBe(200);
    expect(genuine.headers.get("content-type")).toMatch(/xml/);
    const code = digitsIn(genuine.text, carrier).slice(0, 6);
    expect(digitsIn(genuine.text, carrier)).toBe(code + code);
    seenCodes.add(code);

    const missing = await postWebhook(t, path, params, { sign: false });
    expect(missing.status).toBe(403);
    expect(missing.body.error.code).toBe("invalid_signature");
    const forged = await postWebhook(t, path, params, { signature: "c29tZXRoaW5nIGVsc2U=" });
    expect(forged.status).toBe(403);
    // Signed for one challenge, replayed against another URL.
    const misdirected = await postWebhook(t, path, params, { signedUrl: `${t.service.deps.publicBaseUrl()}/call-2fa?c=ch_other` });
    if (signsTheUrl(carrier)) expect(misdirected.status).toBe(403);
    else {
      // The URL is not signed: this call's request, replayed at another challenge, is from another call than that one's.
      const other = await callAndListenKeepingPending();
      const replayed = await postWebhook(t, `/call-2fa?c=${other.res.body.id}`, params);
      expect(replayed.status).toBe(200);
      expect(replayed.text).toContain(PHRASES.en!.unavailable);
      expect(digitsIn(replayed.text, carrier)).not.toContain(other.code);
      // A signature older than five minutes is refused, however genuine.
      const stale = await postWebhook(t, path, params, { timestamp: Math.floor(Date.now() / 1000) - 301 });
      expect(stale.status).toBe(403);
      const fromTheFuture = await postWebhook(t, path, params, { timestamp: Math.floor(Date.now() / 1000) + 301 });
      expect(fromTheFuture.status).toBe(403);
      for (const r of [replayed, stale, fromTheFuture]) expect(r.text).not.toContain(code);
    }
    // Parameters changed after signing.
    const tampered = await postWebhook(t, path, params, { tamper: { To: "+14155550199" } });
    expect(tampered.status).toBe(403);
    for (const r of [missing, forged, tampered, ...(signsTheUrl(carrier) ? [misdirected] : [])]) expect(r.text).not.toContain(code);
    const status = await postWebhook(t, `/call-status?c=${res.body.id}`, { ...params, CallStatus: "busy" }, { sign: false });
    expect(status.status).toBe(403);
    expect((await t.api("GET", `/challenges/${res.body.id}`)).body.status).toBe("pending");
    expect(codeHeard((await finish()).heard)).toBe(code);
  });

  it("refuses a GET webhook, however well signed, since every call asks for POST", async () => {
    const { res, call, code } = await callAndListenKeepingPending();
    // Another call's id and an answering machine in the query, signed over the URL as Twilio signs a GET:
    // were the query not read, or GET not refused, this would hear the code.
    const query = new URLSearchParams({ c: res.body.id, CallSid: otherSid(call.sid), AnsweredBy: machineWord(carrier) });
    const path = `/call-2fa?${query}`;
    const plain = await fetch(`${t.service.url}/call-2fa?c=${res.body.id}`, { headers: t.simulator.sign(`${t.service.deps.publicBaseUrl()}/call-2fa?c=${res.body.id}`, {}) });
    const crafted = await fetch(`${t.service.url}${path}`, { headers: t.simulator.sign(`${t.service.deps.publicBaseUrl()}${path}`, {}) });
    for (const r of [plain, crafted]) {
      expect(r.status).toBe(405);
      expect(r.headers.get("allow")).toBe("POST");
      const text = await r.text();
      expect(JSON.parse(text).error.code).toBe("method_not_allowed");
      expect(digitsIn(text, carrier)).not.toContain(code);
    }
  });

  /** A call whose challenge stays pending (the test never validates it). */
  async function callAndListenKeepingPending() {
    const r = await callAndListen();
    return { ...r, code: r.code! };
  }

  it("tells a call for a challenge that has ended, or from another call, that the code is gone", async () => {
    const { number, res, call, code } = await callAndListen();
    const other = await postWebhook(t, `/call-2fa?c=${res.body.id}`, { ...callParams(t, call), CallSid: otherSid(call.sid) });
    expect(other.status).toBe(200);
    expect(other.text).toContain(PHRASES.en!.unavailable);
    expect(digitsIn(other.text, carrier)).not.toContain(code);

    await t.api("POST", "/validate-auth", { number, auth_code: code });
    const ended = await postWebhook(t, `/call-2fa?c=${res.body.id}`, callParams(t, call));
    expect(ended.text).toContain(PHRASES.en!.unavailable);
    expect(digitsIn(ended.text, carrier)).not.toContain(code);
    const unknown = await postWebhook(t, `/call-2fa?c=ch_nope`, callParams(t, call));
    expect(unknown.status).toBe(200);
    expect(unknown.text).toContain("<Hangup/>");
  });

  it("ignores replayed and out-of-order status callbacks", async () => {
    const { res, call } = await callAndListen();
    const before = (await t.api("GET", `/challenges/${res.body.id}`)).body;
    expect(before.call.status).toBe("completed");
    for (const CallStatus of ["ringing", "completed", "in-progress", "busy", "no-answer"]) {
      const r = await postWebhook(t, `/call-status?c=${res.body.id}`, { ...callParams(t, call), CallStatus });
      expect(r.status).toBe(204);
    }
    const after = (await t.api("GET", `/challenges/${res.body.id}`)).body;
    expect(after).toEqual(before);
  });

  // Every language's whole script is rendered by every carrier in test/languages.test.ts;
  // through the service, the first five and one whose tag is not its language's (zh: cmn-CN).
  it.each(["en", "es", "fr", "de", "pt", "zh"])("speaks %s with its own phrases and voice", async (language) => {
    const p = PHRASES[language]!;
    const { call, res, finish } = await callRinging({ language });
    // The voice XML itself, fetched while the call is live: the SDK's builder, the language tag and voice on every Say, digits in say-as with breaks.
    const xml = (await postWebhook(t, `/call-2fa?c=${res.body.id}`, callParams(t, call))).text;
    const spoken = (await finish()).heard.join(" ");
    expect(spoken).toContain(p.greeting("voice-otp"));
    expect(spoken).toContain(p.codeIs);
    expect(spoken).toContain(p.again);
    const code = spoken.slice(spoken.indexOf(p.codeIs) + p.codeIs.length, spoken.indexOf(p.again)).replace(/\D/g, "");
    expect(code).toHaveLength(6);
    seenCodes.add(code);
    expect(xml).toMatch(/^<\?xml version="1.0" encoding="UTF-8"\?><Response>/);
    const says = [...xml.matchAll(/<Say ([^>]*)>/g)].map((m) => m[1]);
    expect(says.length).toBeGreaterThan(2);
    for (const attrs of says) expect(attrs).toBe(`language="${p.tag}" voice="${VOICES[p.tag]!.defaultVoice}"`);
    const digits = [...xml.matchAll(markup(carrier).digit)].map((m) => m[1]);
    expect(digits.join("")).toBe(code + code);
    expect(xml).toMatch(new RegExp(`<Gather action="[^"]+step=code[^"]*"${markup(carrier).gatherMethod} numDigits="1"`));
    expect(xml).toMatch(/<\/Gather><Say [^>]*>[^<]+<\/Say><Hangup\/><\/Response>$/);
  });

  it("repeats the code when a key is pressed after it", async () => {
    const number = nextNumber();
    seenNumbers.add(number);
    t.simulator.setOutcome(number, { kind: "answer", keys: ["5", "5"] });
    await t.api("POST", "/request-auth", { number });
    const call = await t.simulator.waitForCall({ to: number });
    const readings = call.heard.filter((h) => h === PHRASES.en!.codeIs);
    expect(readings).toHaveLength(3);
    expect(call.keysPressed).toEqual(["5", "5"]);
    seenCodes.add(codeHeard(call.heard));
  });

  it("repeats the code for any key, # included", async () => {
    const number = nextNumber();
    seenNumbers.add(number);
    t.simulator.setOutcome(number, { kind: "answer", keys: ["#", "*"] });
    await t.api("POST", "/request-auth", { number });
    const call = await t.simulator.waitForCall({ to: number });
    expect(call.heard.filter((h) => h === PHRASES.en!.codeIs)).toHaveLength(3);
    expect(call.keysPressed).toEqual(["#", "*"]);
    seenCodes.add(codeHeard(call.heard));
  });

  it("writes no code and no full phone number to its logs", async () => {
    expect(seenCodes.size).toBeGreaterThan(10);
    const text = t.logLines
      .map((line) => {
        // Random ids and times may hold any run of digits: a code is looked for in the rest.
        const { time: _t, ms: _m, reqId: _r, challenge: _c, callSid: _s, ...rest } = JSON.parse(line) as Record<string, unknown>;
        return JSON.stringify(rest);
      })
      .join("\n");
    const lineWith = (s: string) => text.split("\n").find((line) => line.includes(s));
    for (const code of seenCodes) expect(text, lineWith(code)).not.toMatch(new RegExp(`(?<!\\d)${code}(?!\\d)`));
    for (const number of seenNumbers) {
      expect(text).not.toContain(number);
      expect(text).not.toContain(number.slice(1));
    }
    expect(text).toContain("+1415•••");
  });
});

describe.each(CARRIER_KINDS)("VOICE_GATE through %s", (carrier) => {
  let t: TestService;
  const nextNumber = numbers();
  beforeAll(async () => {
    t = await startTestService({ db: "pglite", carrier, env: { VOICE_GATE: "true", ORG_NAME: "Acme & Sons", ANSWERING_MACHINE_DETECTION: "false" } });
  });
  afterAll(() => t?.close());

  it("reads the code only after the listener presses the digit it names", async () => {
    const number = nextNumber();
    const res = await t.api("POST", "/request-auth", { number });
    const call = await t.simulator.waitForCall({ to: number });
    const gatePrompt = call.heard.find((h) => /^Press \d to hear your code\.$/.test(h));
    expect(gatePrompt).toBeDefined();
    expect(call.keysPressed[0]).toBe(gatePrompt!.match(/\d/)![0]);
    expect(call.heard[0]).toBe("Hello. This is Acme & Sons with your verification code.");
    const code = codeHeard(call.heard);
    expect((await t.api("POST", "/validate-auth", { id: res.body.id, auth_code: code })).status).toBe(200);
  });

  it("reads nothing to a listener who presses the wrong key or none", async () => {
    for (const keys of [["0", "0", "0"], []]) {
      const number = nextNumber();
      t.simulator.setOutcome(number, { kind: "answer", keys });
      await t.api("POST", "/request-auth", { number });
      const call = await t.simulator.waitForCall({ to: number });
      expect(call.heard.join(" ")).not.toContain(PHRASES.en!.codeIs);
      expect(call.heard.at(-1)).toBe(PHRASES.en!.noKey);
      expect(call.heard.join(" ").replace(/Press \d/g, "")).not.toMatch(/\d/);
    }
  });

  it("keeps the code off voicemail even without machine detection", async () => {
    const number = nextNumber();
    t.simulator.setOutcome(number, { kind: "voicemail" });
    await t.api("POST", "/request-auth", { number });
    const call = await t.simulator.waitForCall({ to: number });
    expect(call.heard.join(" ")).not.toContain(PHRASES.en!.codeIs);
    // The gate's voice XML, fetched while a call is live (an ended call's code is wiped):
    // a one-key Gather naming a random digit from 1 to 9, no code inside.
    const live = nextNumber();
    t.simulator.setOutcome(live, { kind: "answer", hold: true });
    const ringing = await t.api("POST", "/request-auth", { number: live });
    const held = await t.simulator.waitForHeld({ to: live });
    const xml = (await postWebhook(t, `/call-2fa?c=${ringing.body.id}`, callParams(t, held))).text;
    t.simulator.pickUp(held.sid);
    await t.simulator.waitForCall({ sid: held.sid });
    expect(xml).toMatch(
      new RegExp(
        `<Gather action="[^"]*step=gate[^"]*"${markup(carrier).gatherMethod} numDigits="1" timeout="8" input="dtmf" finishOnKey=""><Say [^>]+>Hello\\. This is Acme &amp; Sons with your verification code\\.<\\/Say><Say [^>]+>Press [1-9] to hear your code\\.<\\/Say><\\/Gather>`,
      ),
    );
    expect(xml).not.toContain("say-as");
  });
});

function wrongCode(code: string): string {
  return code.replace(/\d$/, (d) => String((Number(d) + 1) % 10));
}

function otherSid(sid: string): string {
  return sid.replace(/.$/, (c) => (c === "0" ? "1" : "0"));
}

function digitsIn(xml: string, carrier: CarrierKind): string {
  const digit = carrier === "telnyx" ? /<Say [^>]*>(\d)<\/Say>/g : /<say-as interpret-as="digits">(\d)<\/say-as>/g;
  return [...xml.matchAll(digit)].map((m) => m[1]).join("");
}
