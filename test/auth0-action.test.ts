import { createRequire } from "node:module";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createKey } from "../src/keys/api-keys.js";
import { serviceSettings } from "../src/services/settings.js";
import { createService } from "../src/services/store.js";
import { API_KEY, codeHeard, startTestService, type TestService } from "./helpers/service.js";

/**
 * The Auth0 Action the README gives for Auth0's custom phone provider, run as Auth0 runs
 * it: the very file (CommonJS, as pasted into Auth0's editor), its exported
 * onExecuteCustomPhoneProvider(event, api), an event shaped as Auth0 documents the
 * custom-phone-provider trigger's, against the real service and the simulated phone.
 */

type Handler = (event: unknown, api: unknown) => Promise<void>;
const { onExecuteCustomPhoneProvider } = createRequire(import.meta.url)("../integrations/auth0/voice-otp-action.js") as { onExecuteCustomPhoneProvider: Handler };

/** Auth0's sample event for the trigger, for this notification and these secrets. */
function auth0Event(notification: Record<string, string>, secrets: Record<string, string>) {
  return {
    client: { name: "All Applications", client_id: "gmOWNgklfRm4tyl5YYnl3JDSJy19h1bR", metadata: {} },
    notification: {
      as_text: `This is the text you should send, with otp: ${notification.code}`,
      as_voice: `Hello. This is the text you should send, with otp: ${notification.code}`,
      delivery_method: "voice",
      message_type: "otp_verify",
      locale: "en-US",
      from: "+1-808-555-2222",
      ...notification,
    },
    request: { ip: "13.33.86.47", method: "POST", hostname: "tenant.auth0.com", language: "en", user_agent: "curl/7.64.1" },
    tenant: { id: "tenant", friendly_name: "Friendly tenant" },
    transaction: { correlation_id: "abcefg123" },
    user: { user_id: "auth0|5f7c8ec7c33c6c004bbafe82", phone_number: notification.recipient, phone_verified: true, app_metadata: {}, user_metadata: {} },
    connection: { id: "con_example", name: "sms", strategy: "sms", metadata: {} },
    configuration: {},
    secrets,
  };
}

/** The trigger's api object: what the Action asked of it. */
function auth0Api() {
  const asked: Array<[string, string]> = [];
  const store = new Map<string, string>();
  return {
    asked,
    cache: {
      get: (key: string) => (store.has(key) ? { value: store.get(key) } : undefined),
      set: (key: string, value: string) => (store.set(key, value), { type: "success" }),
      delete: (key: string) => (store.delete(key), { type: "success" }),
    },
    notification: {
      drop: (reason: string) => void asked.push(["drop", reason]),
      retry: (reason: string) => void asked.push(["retry", reason]),
    },
  };
}

describe("the Auth0 custom phone provider Action", () => {
  let t: TestService;
  let secrets: Record<string, string>;

  beforeAll(async () => {
    t = await startTestService({ db: "pglite", carrier: "twilio", env: { ALLOW_CUSTOM_CODE: "true" } });
    secrets = { VOICE_OTP_URL: `${t.service.url}/`, VOICE_OTP_API_KEY: API_KEY };
  });
  afterAll(() => t?.close());

  it("has voice-otp call the recipient and read Auth0's code", async () => {
    const api = auth0Api();
    await onExecuteCustomPhoneProvider(auth0Event({ recipient: "+1-212-555-0171", code: "482913" }, secrets), api);
    expect(api.asked).toEqual([]);
    const call = await t.simulator.waitForCall({ to: "+12125550171" });
    expect(codeHeard(call.heard)).toBe("482913");
  });

  it("reports voice-otp's refusal as the Action's error", async () => {
    const event = auth0Event({ recipient: "+1-212-555-0172", code: "112233" }, secrets);
    await onExecuteCustomPhoneProvider(event, auth0Api());
    await t.simulator.waitForCall({ to: "+12125550172" });
    // A resend within the cooldown.
    await expect(onExecuteCustomPhoneProvider({ ...event, notification: { ...event.notification, code: "445566" } }, auth0Api())).rejects.toThrow(
      /^voice-otp refused the call \(rate_limited\): a call to this number was requested less than \d+ s ago/,
    );
    await expect(onExecuteCustomPhoneProvider(auth0Event({ recipient: "+1 555 123 4567", code: "112233" }, secrets), auth0Api())).rejects.toThrow(
      /\(invalid_number\)/,
    );
  });

  it("names what to change when the key's service makes its own codes, or the secrets are missing", async () => {
    const service = await createService(t.service.deps.database, { name: "own-codes", settings: { allow_custom_code: false } }, t.clock.now(), (s) =>
      serviceSettings(t.service.deps.services.default, s, "twilio"),
    );
    const { key } = await createKey(t.service.deps.database, "own-codes-key", { serviceId: service.id, now: t.clock.now() });
    const event = auth0Event({ recipient: "+1-212-555-0173", code: "778899" }, { ...secrets, VOICE_OTP_API_KEY: key });
    const refused = onExecuteCustomPhoneProvider(event, auth0Api());
    await expect(refused).rejects.toThrow(/\(custom_code_not_allowed\): .*allow_custom_code=true/);
    await expect(refused).rejects.not.toThrow(/778899/);
    await expect(onExecuteCustomPhoneProvider(auth0Event({ recipient: "+1-212-555-0173", code: "778899" }, {}), auth0Api())).rejects.toThrow(
      /VOICE_OTP_URL .* VOICE_OTP_API_KEY/,
    );
  });

  it("leaves text messages to Auth0, dropping them with the reason", async () => {
    const api = auth0Api();
    await onExecuteCustomPhoneProvider(auth0Event({ recipient: "+1-212-555-0174", code: "101010", delivery_method: "text" }, secrets), api);
    expect(api.asked).toEqual([["drop", expect.stringMatching(/phone call only.*text notification was not sent/)]]);
    expect(t.simulator.calls().filter((c) => c.to === "+12125550174")).toEqual([]);
  });

  it("asks Auth0 to retry when voice-otp answers 503, which places no call", async () => {
    const api = auth0Api();
    // An instance draining for shutdown answers every new request 503 shutting_down.
    t.service.deps.lifecycle.draining = true;
    try {
      await onExecuteCustomPhoneProvider(auth0Event({ recipient: "+1-212-555-0175", code: "202020" }, secrets), api);
    } finally {
      t.service.deps.lifecycle.draining = false;
    }
    expect(api.asked).toEqual([["retry", expect.stringMatching(/^voice-otp is unavailable \(shutting_down\)/)]]);
    expect(t.simulator.calls().filter((c) => c.to === "+12125550175")).toEqual([]);
  });
});
