import { createHash } from "node:crypto";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { VoiceOtpClient } from "../src/client/index.js";
import { createKey } from "../src/keys/api-keys.js";
import { serviceSettings } from "../src/services/settings.js";
import { createService } from "../src/services/store.js";
import { PHRASES } from "../src/voice/phrases.js";
import { API_KEY, codeHeard, startTestService, type TestService } from "./helpers/service.js";
import { callParams, numbers, postWebhook } from "./helpers/webhooks.js";

/**
 * A caller's own code (POST /request-auth `code`), for sign-in systems that make the code
 * themselves: the phone hears exactly that code, /validate-auth approves it, and it is
 * held like one of ours (sealed, wiped when the call ends, never written anywhere else).
 */
describe("a caller's own code", () => {
  let t: TestService;
  const nextNumber = numbers();
  /** A key of a service that makes its own codes, and one of a service with the gate on. */
  let strictKey: string;
  let gatedKey: string;

  beforeAll(async () => {
    t = await startTestService({
      db: "pglite",
      carrier: "twilio",
      env: {
        ALLOW_CUSTOM_CODE: "true",
        // Events are written (and their bodies checked below); nothing listens there, which is fine.
        WEBHOOK_URL: "http://127.0.0.1:9/voice-otp-events",
        WEBHOOK_SECRET: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
      },
    });
    const database = t.service.deps.database;
    const check = (s: Parameters<typeof serviceSettings>[1]) => serviceSettings(t.service.deps.services.default, s, "twilio");
    const keyOf = async (name: string, settings: Record<string, unknown>) => {
      const service = await createService(database, { name, settings }, t.clock.now(), check);
      return (await createKey(database, `${name}-key`, { serviceId: service.id, now: t.clock.now() })).key;
    };
    strictKey = await keyOf("strict", { allow_custom_code: false });
    gatedKey = await keyOf("gated", { gate: true });
  });
  afterAll(() => t?.close());

  const row = async (id: string) =>
    (await t.service.deps.database.rows<{ status: string; code_mac: string | null; code_sealed: string | null }>(
      sql`select status, code_mac, code_sealed from challenges where id = ${id}`,
    ))[0]!;

  it("is read to the phone, keeps its leading zero, and is approved by /validate-auth", async () => {
    const number = nextNumber();
    const res = await t.api("POST", "/request-auth", { number, code: "0427" });
    expect(res.status, res.text).toBe(201);
    expect(res.body).toEqual({ id: expect.any(String), number, status: "pending", expires_at: expect.any(String), attempts_allowed: 5 });
    const call = await t.simulator.waitForCall((c) => c.url.includes(res.body.id));
    expect(codeHeard(call.heard)).toBe("0427");
    expect(call.heard.join(" ")).toContain(`${PHRASES.en!.codeIs} 0 4 2 7`);

    const wrong = await t.api("POST", "/validate-auth", { number, auth_code: "0428" });
    expect(wrong.body).toMatchObject({ status: "denied", reason: "incorrect", attempts_remaining: 4 });
    const ok = await t.api("POST", "/validate-auth", { id: res.body.id, auth_code: "0427" });
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({ status: "approved", id: res.body.id });
  });

  it("is taken from a form too, and from the typed client", async () => {
    const viaForm = await t.api("POST", "/request-auth", { number: nextNumber(), code: "55667788" }, { form: true });
    expect(viaForm.status, viaForm.text).toBe(201);
    expect(codeHeard((await t.simulator.waitForCall((c) => c.url.includes(viaForm.body.id))).heard)).toBe("55667788");

    const client = new VoiceOtpClient({ baseUrl: t.service.url, apiKey: API_KEY });
    const number = nextNumber();
    const challenge = await client.requestAuth(number, { code: "3141592653" });
    expect(codeHeard((await t.simulator.waitForCall((c) => c.url.includes(challenge.id))).heard)).toBe("3141592653");
    expect(await client.validateAuth({ number, code: "3141592653" })).toMatchObject({ approved: true, id: challenge.id });
  });

  it("is refused, before anything is counted, for a service that makes its own codes", async () => {
    const number = nextNumber();
    const res = await t.api("POST", "/request-auth", { number, code: "246813" }, { key: strictKey });
    expect(res.status).toBe(403);
    expect(res.body.error).toEqual({ code: "custom_code_not_allowed", message: expect.stringContaining("allow_custom_code=true") });
    expect(res.text).not.toContain("246813");
    // Nothing was placed or counted: the same key may call the number at once, with a code of the service's own.
    const own = await t.api("POST", "/request-auth", { number }, { key: strictKey });
    expect(own.status, own.text).toBe(201);
    expect(codeHeard((await t.simulator.waitForCall((c) => c.url.includes(own.body.id))).heard)).toMatch(/^\d{6}$/);
  });

  it("must be a string of 4 to 10 digits, and a refusal names the field without repeating it", async () => {
    for (const code of ["12a4", "123", "12345678901", " 98765x", 246813]) {
      const res = await t.api("POST", "/request-auth", { number: nextNumber(), code });
      expect(res.status, String(code)).toBe(400);
      expect(res.body.error).toMatchObject({ code: "invalid_request", field: "code" });
      expect(res.text).not.toContain(String(code).trim());
    }
  });

  it("keeps every limit: a second call to the number within the cooldown is refused", async () => {
    const number = nextNumber();
    const first = await t.api("POST", "/request-auth", { number, code: "8080" });
    expect(first.status).toBe(201);
    const again = await t.api("POST", "/request-auth", { number, code: "9090" });
    expect(again.status).toBe(429);
    expect(again.body.error).toMatchObject({ code: "rate_limited", limit: "resend_cooldown" });
    // The refused code never became one: the first is still the one to give.
    await t.simulator.waitForCall((c) => c.url.includes(first.body.id));
    expect((await t.api("POST", "/validate-auth", { number, auth_code: "9090" })).body.reason).toBe("incorrect");
    expect((await t.api("POST", "/validate-auth", { number, auth_code: "8080" })).status).toBe(200);
  });

  it("keeps the gate: the code is read only after the listener presses the digit asked for", async () => {
    const res = await t.api("POST", "/request-auth", { number: nextNumber(), code: "7654321" }, { key: gatedKey });
    expect(res.status, res.text).toBe(201);
    const call = await t.simulator.waitForCall((c) => c.url.includes(res.body.id));
    const heard = call.heard.join(" ");
    const gateDigit = /Press (\d)/i.exec(heard)?.[1];
    expect(call.keysPressed[0]).toBe(gateDigit);
    expect(heard.indexOf(`Press ${gateDigit}`)).toBeLessThan(heard.indexOf(PHRASES.en!.codeIs));
    expect(codeHeard(call.heard)).toBe("7654321");
  });

  it("is read again when the listener presses a key during the call", async () => {
    const number = nextNumber();
    t.simulator.setOutcome(number, { kind: "answer", keys: ["5"] });
    const res = await t.api("POST", "/request-auth", { number, code: "2468" });
    const call = await t.simulator.waitForCall((c) => c.url.includes(res.body.id));
    expect(call.keysPressed).toEqual(["5"]);
    expect(call.webhookErrors).toEqual([]);
    // Twice in the first reading, twice more after the key.
    expect(call.heard.join(" ").split("2 4 6 8")).toHaveLength(5);
  });

  it("is wiped from its sealed copy once the call ends, ours too; checking still works, and a late voice request hears no code", async () => {
    const number = nextNumber();
    const res = await t.api("POST", "/request-auth", { number, code: "13572468" });
    const call = await t.simulator.waitForCall((c) => c.url.includes(res.body.id));
    expect(call.status).toBe("completed");
    expect(await row(res.body.id)).toEqual({ status: "pending", code_mac: expect.any(String), code_sealed: null });

    const late = await postWebhook(t, `/call-2fa?c=${res.body.id}`, callParams(t, call));
    expect(late.status).toBe(200);
    expect(late.text).toContain(PHRASES.en!.unavailable);
    expect(late.text.replace(/\D/g, "")).not.toContain("13572468");
    expect((await t.api("POST", "/validate-auth", { number, auth_code: "13572468" })).status).toBe(200);
    expect(await row(res.body.id)).toEqual({ status: "approved", code_mac: null, code_sealed: null });

    const ours = await t.api("POST", "/request-auth", { number: nextNumber() });
    await t.simulator.waitForCall((c) => c.url.includes(ours.body.id));
    expect(await row(ours.body.id)).toEqual({ status: "pending", code_mac: expect.any(String), code_sealed: null });
  });

  it("is written nowhere: not in the log, the stored Idempotency-Key answer or its hash, the events, or GET /challenges/{id}", async () => {
    const number = nextNumber();
    const code = "90817263";
    const body = { number, code };
    const headers = { "Idempotency-Key": "signin-custom-code-1" };
    const res = await t.api("POST", "/request-auth", body, { headers });
    expect(res.status).toBe(201);
    expect(res.text).not.toContain(code);
    const call = await t.simulator.waitForCall((c) => c.url.includes(res.body.id));
    expect(codeHeard(call.heard)).toBe(code);

    // The same key and body replay the answer; another code under the same key is another request.
    const replay = await t.api("POST", "/request-auth", { code, number }, { headers });
    expect(replay.headers.get("idempotent-replayed")).toBe("true");
    expect(replay.text).toBe(res.text);
    expect((await t.api("POST", "/request-auth", { number, code: "90817264" }, { headers })).body.error.code).toBe("idempotency_key_reused");

    expect((await t.api("POST", "/validate-auth", { number, auth_code: "00000000" })).status).toBe(403);
    expect((await t.api("POST", "/validate-auth", { number, auth_code: code })).status).toBe(200);
    const view = await t.api("GET", `/challenges/${res.body.id}`);
    expect(view.body.events.map((e: { type: string }) => e.type)).toEqual(expect.arrayContaining(["call.answered", "challenge.approved"]));
    expect(view.text).not.toContain(code);

    const db = t.service.deps.database;
    const events = await db.rows<{ body: string }>(sql`select body from events where challenge_id = ${res.body.id}`);
    expect(events.length).toBeGreaterThan(0);
    for (const e of events) expect(e.body).not.toContain(code);
    const [stored] = await db.rows<{ request_hash: string; response_body: string }>(
      sql`select request_hash, response_body from idempotency_keys where key = ${headers["Idempotency-Key"]}`,
    );
    expect(stored!.response_body).not.toContain(code);
    // A plain hash of the fields would give the code back to anyone with the table and an hour of guessing.
    const plain = createHash("sha256").update(`json\n{"code":${JSON.stringify(code)},"number":${JSON.stringify(number)}}`).digest("hex");
    expect(stored!.request_hash).not.toBe(plain);
    expect(t.logLines.join("\n")).not.toContain(code);
  });
});
