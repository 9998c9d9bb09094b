import { betterAuth } from "better-auth";
import { memoryAdapter } from "better-auth/adapters/memory";
import { APIError } from "better-auth/api";
import { phoneNumber } from "better-auth/plugins/phone-number";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { InvalidNumberError, RateLimitedError, UnauthorizedError } from "../src/client/index.js";
import { voiceOtpSendOTP } from "../src/integrations/better-auth.js";
import { createKey } from "../src/keys/api-keys.js";
import { serviceSettings } from "../src/services/settings.js";
import { createService, type StoredService } from "../src/services/store.js";
import { API_KEY, codeHeard, startTestService, type TestService } from "./helpers/service.js";

/**
 * The real better-auth, in-process, with its phone-number plugin delivering through
 * voice-otp: better-auth makes and checks the code, voice-otp calls and reads it.
 * Requests go through auth.handler as a browser's would.
 */
const BASE = "http://localhost:3000";

describe("better-auth's phone-number plugin with voice-otp's sendOTP", () => {
  let t: TestService;
  let auth: ReturnType<typeof makeAuth>;
  let store: Record<string, Array<Record<string, any>>>;
  let nextNumber = 0;
  // Fresh numbers, so that the resend cooldown of one test never meets another's.
  const number = () => `+1212555${String(200 + nextNumber++).padStart(4, "0")}`;

  function makeAuth(opts: { apiKey?: string; baseUrl?: string; log?: (...entry: unknown[]) => void } = {}) {
    const send = voiceOtpSendOTP({ baseUrl: opts.baseUrl ?? t.service.url, apiKey: opts.apiKey ?? API_KEY, language: "en", retries: 0 });
    return betterAuth({
      baseURL: BASE,
      secret: "better-auth-test-secret-0123456789abcdef",
      database: memoryAdapter(store),
      logger: opts.log ? { level: "error", log: opts.log } : { disabled: true },
      plugins: [
        phoneNumber({
          // Not voice-otp's default length (6): the call must read better-auth's code, not one of its own.
          otpLength: 8,
          sendOTP: send,
          sendPasswordResetOTP: send,
          signUpOnVerification: { getTempEmail: (phone) => `${phone.slice(1)}@phone.example.com` },
        }),
      ],
    });
  }

  beforeAll(async () => {
    t = await startTestService({
      db: "pglite",
      carrier: "twilio",
      // Every number here shares one range; the per-address limit is tested, the range limit has its own tests.
      env: { ALLOW_CUSTOM_CODE: "true", CALLS_PER_IP_PER_HOUR: "2", CALLS_PER_PREFIX_PER_HOUR: "1000" },
    });
    store = { user: [], session: [], account: [], verification: [] };
    auth = makeAuth();
  });
  afterAll(() => t?.close());

  const post = (path: string, body: unknown, headers: Record<string, string> = {}) => auth.handler(request(path, body, headers));

  /** Asks better-auth for a code and returns what the phone heard. */
  async function askForCode(phone: string, headers?: Record<string, string>) {
    const res = await post("/phone-number/send-otp", { phoneNumber: phone }, headers);
    expect(res.status, await res.clone().text()).toBe(200);
    return listen(phone);
  }

  /** The code read on the number's next call. */
  async function listen(phone: string) {
    const call = await t.simulator.waitForCall((c) => c.to === phone && !heardCalls.has(c.sid));
    heardCalls.add(call.sid);
    return codeHeard(call.heard);
  }
  const heardCalls = new Set<string>();

  /** The code better-auth checks for the number: its latest verification row (memory adapter), `code:attempts`. */
  const storedCode = (phone: string) =>
    store.verification!.filter((v) => v.identifier === `phone-number-otp-${phone}`).at(-1)?.value.split(":")[0];

  it("signs a new user in with the code the phone heard, which is better-auth's own", async () => {
    const phone = number();
    const heard = await askForCode(phone);
    expect(heard).toMatch(/^\d{8}$/);
    expect(heard).toBe(storedCode(phone));

    const res = await post("/phone-number/verify", { phoneNumber: phone, code: heard });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { user: { id: string } };
    expect(body).toMatchObject({ status: true, token: expect.any(String), user: { phoneNumber: phone, phoneNumberVerified: true } });
    const cookie = sessionCookie(res);
    expect(cookie).toMatch(/^better-auth\.session_token=/);

    const session = await auth.api.getSession({ headers: new Headers({ cookie: cookie! }) });
    expect(session?.user).toMatchObject({ id: body.user.id, phoneNumber: phone, phoneNumberVerified: true });
    // voice-otp never wrote the code down where a log reader would find it.
    expect(t.logLines.join("\n")).not.toContain(heard);
  });

  it("signs the same user in again with a new call's code", async () => {
    const phone = number();
    const first = await post("/phone-number/verify", { phoneNumber: phone, code: await askForCode(phone) });
    const userId = ((await first.json()) as { user: { id: string } }).user.id;
    t.clock.advance(31_000); // voice-otp's resend cooldown
    const again = await post("/phone-number/verify", { phoneNumber: phone, code: await askForCode(phone) });
    expect(again.status).toBe(200);
    expect(await again.json()).toMatchObject({ user: { id: userId } });
  });

  it("resets a password with a code read by phone (sendPasswordResetOTP), and the user signs in with it", async () => {
    const phone = number();
    await post("/phone-number/verify", { phoneNumber: phone, code: await askForCode(phone) });
    t.clock.advance(31_000); // voice-otp's resend cooldown
    const asked = await post("/phone-number/request-password-reset", { phoneNumber: phone });
    expect(asked.status).toBe(200);
    const reset = await post("/phone-number/reset-password", { phoneNumber: phone, otp: await listen(phone), newPassword: "a long new password" });
    expect(reset.status).toBe(200);
    const signIn = await post("/sign-in/phone-number", { phoneNumber: phone, password: "a long new password" });
    expect(signIn.status).toBe(200);
    expect(sessionCookie(signIn)).toMatch(/^better-auth\.session_token=/);
  });

  it("refuses a wrong code and still takes the right one", async () => {
    const phone = number();
    const heard = await askForCode(phone);
    const wrong = heard === "00000000" ? "11111111" : "00000000";
    const refused = await post("/phone-number/verify", { phoneNumber: phone, code: wrong });
    expect(refused.status).toBe(400);
    expect(await refused.json()).toMatchObject({ code: "INVALID_OTP" });
    expect(sessionCookie(refused)).toBeUndefined();
    expect((await post("/phone-number/verify", { phoneNumber: phone, code: heard })).status).toBe(200);
  });

  it("answers 400 when voice-otp will not call the number, and places no call", async () => {
    const calls = t.simulator.calls().length;
    const premium = await post("/phone-number/send-otp", { phoneNumber: "+19005550123" });
    expect(premium.status).toBe(400);
    expect(await premium.json()).toMatchObject({ code: "DESTINATION_NOT_ALLOWED", message: expect.stringMatching(/.+/) });
    const nonsense = await post("/phone-number/send-otp", { phoneNumber: "12" });
    expect(nonsense.status).toBe(400);
    expect(await nonsense.json()).toMatchObject({ code: "INVALID_PHONE_NUMBER" });
    expect(t.simulator.calls().length).toBe(calls);

    // Called on the server, the refusal is better-auth's APIError with voice-otp's error as its cause.
    const thrown = await auth.api.sendPhoneNumberOTP({ body: { phoneNumber: "12" } }).catch((e: unknown) => e);
    expect(thrown).toBeInstanceOf(APIError);
    expect(thrown).toMatchObject({ statusCode: 400, body: { code: "INVALID_PHONE_NUMBER" } });
    expect((thrown as APIError).cause).toBeInstanceOf(InvalidNumberError);
  });

  it("passes voice-otp's limits on as 429 with Retry-After, by which time better-auth has replaced the code the phone heard", async () => {
    const phone = number();
    const heard = await askForCode(phone);
    const again = await post("/phone-number/send-otp", { phoneNumber: phone });
    expect(again.status).toBe(429);
    expect(await again.json()).toMatchObject({ code: "RATE_LIMITED", message: expect.stringContaining("wait before asking again") });
    expect(Number(again.headers.get("retry-after"))).toBeGreaterThan(0);
    const thrown = await auth.api.sendPhoneNumberOTP({ body: { phoneNumber: phone } }).catch((e: unknown) => e);
    expect((thrown as APIError).cause).toBeInstanceOf(RateLimitedError);
    // better-auth stores a new code before it calls sendOTP: the one from the first call no
    // longer works, and the user waits out Retry-After for a new call (as the README says).
    expect(storedCode(phone)).not.toBe(heard);
    const late = await post("/phone-number/verify", { phoneNumber: phone, code: heard });
    expect(await late.json()).toMatchObject({ code: "INVALID_OTP" });
  });

  it("counts calls by the end user's address, as better-auth reads it from X-Forwarded-For", async () => {
    const from = (ip: string) => ({ "x-forwarded-for": ip });
    await askForCode(number(), from("203.0.113.9"));
    await askForCode(number(), from("203.0.113.9"));
    const third = await post("/phone-number/send-otp", { phoneNumber: number() }, from("203.0.113.9"));
    expect(third.status).toBe(429);
    expect(await third.json()).toMatchObject({ code: "RATE_LIMITED", message: expect.stringContaining("client_ip") });
    // Another address is another user.
    await askForCode(number(), from("198.51.100.20"));
  });

  it("answers 500 without voice-otp's details when its service may not take better-auth's code, and better-auth logs why", async () => {
    const database = t.service.deps.database;
    const check = (s: StoredService) => serviceSettings(t.service.deps.services.default, s, "twilio");
    const own = await createService(database, { name: "own-codes", settings: { allow_custom_code: false } }, t.clock.now(), check);
    const { key } = await createKey(database, "own-codes-key", { serviceId: own.id, now: t.clock.now() });
    const logged: unknown[][] = [];
    const misconfigured = makeAuth({ apiKey: key, log: (...entry) => logged.push(entry) });
    const calls = t.simulator.calls().length;

    const phone = number();
    const res = await misconfigured.handler(sendOtpRequest(phone));
    expect(res.status).toBe(500);
    expect(await res.json()).toEqual({ code: "VOICE_CALL_FAILED", message: "the verification call could not be placed" });
    expect(t.simulator.calls().length).toBe(calls);
    // better-auth answers an APIError without logging it: the operator learns why from this line.
    const [level, line] = logged.find(([, message]) => String(message).includes("voice-otp")) ?? [];
    expect(level).toBe("error");
    expect(line).toMatch(/^voice-otp did not place the call: custom_code_not_allowed \(403, request [\w-]+\): .*allow_custom_code/);
    expect(line).not.toContain(storedCode(phone));

    // A wrong key is the same kind of mistake.
    const thrown = await makeAuth({ apiKey: "not-a-key-0123456789" }).api.sendPhoneNumberOTP({ body: { phoneNumber: number() } }).catch((e: unknown) => e);
    expect(thrown).toMatchObject({ statusCode: 500, body: { code: "VOICE_CALL_FAILED" } });
    expect((thrown as APIError).cause).toBeInstanceOf(UnauthorizedError);
  });

  it("answers 503 when voice-otp cannot be reached", async () => {
    const unreachable = makeAuth({ baseUrl: "http://127.0.0.1:9" });
    const res = await unreachable.handler(sendOtpRequest(number()));
    expect(res.status).toBe(503);
    expect(await res.json()).toMatchObject({ code: "VOICE_CALL_UNAVAILABLE" });
  });
});

/** A POST to better-auth as a browser on its own origin sends it. */
function request(path: string, body: unknown, headers: Record<string, string> = {}): Request {
  return new Request(`${BASE}/api/auth${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", origin: BASE, ...headers },
    body: JSON.stringify(body),
  });
}

const sendOtpRequest = (phone: string) => request("/phone-number/send-otp", { phoneNumber: phone });

/** The session cookie better-auth set, as a browser would send it back. */
function sessionCookie(res: Response): string | undefined {
  return res.headers
    .getSetCookie()
    .find((c) => c.startsWith("better-auth.session_token="))
    ?.split(";")[0];
}
