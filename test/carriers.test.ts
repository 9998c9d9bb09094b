import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CarrierError, type Carrier, type PlaceCallRequest, type WebhookRequest } from "../src/carriers/carrier.js";
import type { Flavor, Outcome, Simulator } from "../src/simulator/index.js";
import { generateKeyPairSync } from "node:crypto";
import { CARRIERS } from "../src/carriers/registry.js";
import { CARRIER_ENV } from "./helpers/carrier-env.js";
import { apiErrors, refusalsOf } from "./helpers/api-errors.js";
import {
  FROM,
  carrierFor,
  closedPort,
  newAccount,
  numberSource,
  say,
  sdkClient,
  simulatorFor,
  startFakeService,
  type FakeService,
} from "./helpers/carrier-world.js";

/** Twilio twice: through the service's own HTTP client under the SDK, and through the SDK's (used with HTTP_PROXY). */
const ADAPTERS: Array<{ flavor: Flavor; sdkHttpClient: boolean; label: string }> = [
  { flavor: "twilio", sdkHttpClient: false, label: "twilio" },
  { flavor: "twilio", sdkHttpClient: true, label: "twilio (the SDK's own HTTP client)" },
  { flavor: "signalwire", sdkHttpClient: true, label: "signalwire" },
  { flavor: "telnyx", sdkHttpClient: true, label: "telnyx" },
];

const SID: Record<Flavor, RegExp> = { twilio: /^CA[0-9a-f]{32}$/, signalwire: /^[0-9a-f-]{36}$/, telnyx: /^v3:[\w-]{40}$/ };
/** The carrier's own code for a refused API key. */
const AUTH_CODE: Record<Flavor, string> = { twilio: "20003", signalwire: "20003", telnyx: "10009" };
/** The variables an operator checks when the carrier refuses them. */
const CREDENTIALS: Record<Flavor, string[]> = {
  twilio: ["TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN"],
  signalwire: ["SIGNALWIRE_PROJECT", "SIGNALWIRE_TOKEN", "SIGNALWIRE_SPACE"],
  telnyx: ["TELNYX_API_KEY"],
};

/** What placeCall threw (it must throw a CarrierError). */
async function refusal(carrier: Carrier, req: PlaceCallRequest): Promise<CarrierError> {
  const err = await carrier.placeCall(req).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(CarrierError);
  return err as CarrierError;
}

describe.each(ADAPTERS)("the $label carrier adapter", ({ flavor, sdkHttpClient }) => {
  const account = newAccount(flavor);
  const nextNumber = numberSource("+1312555");
  let sim: Simulator;
  let carrier: Carrier;
  let svc: FakeService;

  beforeAll(async () => {
    sim = await simulatorFor(account);
    carrier = carrierFor(account, sim.url, { sdkHttpClient });
    svc = await startFakeService(carrier);
    svc.on("/voice", () => [say("Hello."), { kind: "hangup" }]);
  });
  afterAll(async () => {
    await sim?.close();
    await svc?.close();
  });

  const request = (to: string, machineDetection = false): PlaceCallRequest => ({
    to,
    url: `${svc.url}/voice?c=ch_abc`,
    statusCallback: `${svc.url}/status`,
    machineDetection,
  });
  const withOutcome = (outcome: Outcome) => {
    const to = nextNumber();
    sim.setOutcome(to, outcome);
    return to;
  };

  describe("placeCall", () => {
    it("places one call with the service's URLs and every progress event, and returns the carrier's sid", async () => {
      const to = nextNumber();
      const placed = await carrier.placeCall(request(to, true));
      expect(placed.status).toBe("queued");
      expect(placed.callSid).toMatch(SID[flavor]);
      const call = await sim.waitForCall(placed.callSid);
      expect(call).toMatchObject({
        to,
        from: FROM,
        url: `${svc.url}/voice?c=ch_abc`,
        method: "POST",
        statusCallback: `${svc.url}/status`,
        statusCallbackMethod: "POST",
        statusCallbackEvents: ["ringing", "answered", "completed"],
        machineDetection: true,
        status: "completed",
      });
      expect(sim.calls().filter((c) => c.to === to)).toHaveLength(1);
    });

    it("does not ask for machine detection unless told to", async () => {
      const placed = await carrier.placeCall(request(nextNumber()));
      expect((await sim.waitForCall(placed.callSid)).machineDetection).toBe(false);
    });
  });

  describe("errors from the API", () => {
    it(`wrong credentials: the SDK throws its own error, 401 / ${AUTH_CODE[flavor]}`, async () => {
      const err = (await sdkClient(account, sim.url, "wrong-token")
        .create({ to: nextNumber(), from: FROM, url: `${svc.url}/voice` })
        .catch((e: unknown) => e)) as Record<string, unknown>;
      expect(err).toBeInstanceOf(Error);
      if (flavor === "telnyx") {
        expect(err.constructor.name).toBe("AuthenticationError");
        expect(err).toMatchObject({ status: 401, error: { errors: [{ code: "10009", title: expect.any(String) }] } });
      } else {
        expect(err.constructor.name).toBe("RestException");
        expect(err).toMatchObject({ status: 401, code: 20003, message: "Authenticate" });
      }
    });

    it(`wrong credentials through the adapter: rejected, carrier code ${AUTH_CODE[flavor]}, HTTP 401, naming the variables to check`, async () => {
      const wrong = carrierFor(account, sim.url, { authToken: "wrong-token", sdkHttpClient });
      const err = await refusal(wrong, request(nextNumber()));
      expect(err).toMatchObject({ carrier: flavor, failure: "rejected", carrierCode: AUTH_CODE[flavor], carrierStatus: 401, refusal: "credentials" });
      expect(err.variables).toEqual(CREDENTIALS[flavor]);
      for (const name of err.variables!) expect(Object.keys(CARRIERS[flavor].configSchema.shape)).toContain(name);
    });

    it.each(refusalsOf(flavor))("says what a refusal means in our words: $label", async ({ outcome, refusal: meaning, retryAfterSeconds }) => {
      const before = sim.calls().length;
      const err = await refusal(carrier, request(withOutcome(outcome)));
      expect(err).toMatchObject({ carrier: flavor, failure: "rejected", carrierCode: String(outcome.code), carrierStatus: outcome.status });
      expect(err.refusal).toBe(meaning);
      expect(err.retryAfterSeconds).toBe(retryAfterSeconds);
      expect(err.variables).toEqual(meaning === "credentials" ? CREDENTIALS[flavor] : undefined);
      expect(sim.calls().length).toBe(before);
    });

    if (flavor === "telnyx") {
      it("does not blame the number for our own caller ID: a From that is not E.164 is refused as another fault", async () => {
        const misconfigured = carrierFor(account, sim.url, { from: "5005550006", sdkHttpClient });
        const err = await refusal(misconfigured, request(nextNumber()));
        expect(err).toMatchObject({ failure: "rejected", carrierCode: "10016", carrierStatus: 422, refusal: "other" });
      });
    }

    const API_ERRORS = apiErrors(flavor);
    it.each([
      ["an invalid number", API_ERRORS.invalidNumber, String(API_ERRORS.invalidNumber.code), API_ERRORS.invalidNumber.status],
      ["a server error", API_ERRORS.serverError, String(API_ERRORS.serverError.code), 500],
      ["an authentication error", API_ERRORS.authentication, AUTH_CODE[flavor], 401],
    ])("%s: rejected with the carrier's own code and status", async (_, outcome, code, status) => {
      const before = sim.calls().length;
      const err = await refusal(carrier, request(withOutcome(outcome)));
      expect(err).toMatchObject({ carrier: flavor, failure: "rejected", carrierCode: code, carrierStatus: status });
      expect(err.message).toBe(outcome.message);
      // Never retried: a second create-call could ring the phone twice.
      expect(sim.calls().length).toBe(before);
    });

    it.each([
      ["formatted", "+1 (415) 555-0142", /415\D*555\D*0142/],
      ["too long", "+1415555014299999", /415555014299999/],
    ])("masks the number the carrier quotes in its message (%s)", async (_, to, full) => {
      const err = await refusal(carrier, request(to));
      if (flavor === "telnyx") {
        expect(err).toMatchObject({ failure: "rejected", carrierCode: "10016", carrierStatus: 422, refusal: "invalid_number" });
        expect(err.message).toMatch(/^The specified phone number parameter must be in \+E\.164 format: \+1415•••\d{4}$/);
      } else {
        expect(err).toMatchObject({ failure: "rejected", carrierCode: "21211", carrierStatus: 400, refusal: "invalid_number" });
        expect(err.message).toMatch(/^The 'To' number \+1415•••\d{4} is not a valid phone number\.$/);
      }
      expect(err.message).not.toMatch(full);
    });
  });

  describe("when the API misbehaves", () => {
    it("times out on an API that never answers", async () => {
      const impatient = carrierFor(account, sim.url, { timeoutMs: 300, sdkHttpClient });
      const err = await refusal(impatient, request(withOutcome({ kind: "api-timeout" })));
      expect(err).toMatchObject({ carrier: flavor, failure: "timeout", carrierCode: "timeout" });
      expect(err.message).toContain("300 ms");
    });

    it("calls an HTML error page a bad response", async () => {
      const err = await refusal(carrier, request(withOutcome({ kind: "api-malformed" })));
      expect(err).toMatchObject({ carrier: flavor, failure: "bad_response" });
      // Twilio's and Telnyx's SDKs still see the 502; SignalWire's throws a SyntaxError and loses it.
      if (flavor !== "signalwire") expect(err).toMatchObject({ carrierCode: "http_502", carrierStatus: 502 });
      else expect(err.carrierCode).toBe("bad_response");
    });

    it("calls a closed port unreachable", async () => {
      const nowhere = carrierFor(account, `http://127.0.0.1:${await closedPort()}`, { sdkHttpClient });
      const err = await refusal(nowhere, request(nextNumber()));
      expect(err).toMatchObject({ carrier: flavor, failure: "unreachable", carrierCode: "ECONNREFUSED" });
      expect(err.carrierStatus).toBeUndefined();
    });
  });

  describe("verifyWebhook", () => {
    const url = "http://service.example/call-2fa?c=ch_xyz";
    const params = { CallSid: "CA1", To: "+14155550100", From: FROM, CallStatus: "in-progress" };
    /** A POST as the carrier sends it: the form body, the fields read from it, the signature headers. */
    const post = (p: Record<string, string>, headers: Record<string, string>, at = url): WebhookRequest => ({
      url: at,
      method: "POST",
      rawBody: new URLSearchParams(p).toString(),
      params: p,
      headers: Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v])),
    });
    const signed = (o: { timestamp?: number } = {}) => post(params, sim.sign(url, params, o));

    it("accepts what the carrier signed", () => {
      expect(carrier.verifyWebhook(signed())).toBe(true);
    });

    it.each([
      ["no signature header", (r: WebhookRequest) => ({ ...r, headers: {} })],
      ["a changed parameter", (r: WebhookRequest) => post({ ...params, To: "+14155550101" }, r.headers as Record<string, string>)],
      ["an added parameter", (r: WebhookRequest) => post({ ...params, Digits: "1" }, r.headers as Record<string, string>)],
    ])("refuses %s", (_, change) => {
      expect(carrier.verifyWebhook(change(signed()))).toBe(false);
    });

    if (flavor === "telnyx") {
      it("signs the body, not the URL: another URL still verifies (the service binds the request to its call instead)", () => {
        expect(carrier.verifyWebhook({ ...signed(), url: "http://service.example/call-2fa?c=ch_other" })).toBe(true);
      });

      it.each([
        ["more than 5 minutes old", -301],
        ["more than 5 minutes ahead", 301],
      ])("refuses a signature %s, and takes one just inside the window", (_, offset) => {
        const now = Math.floor(Date.now() / 1000);
        expect(carrier.verifyWebhook(signed({ timestamp: now + offset }))).toBe(false);
        expect(carrier.verifyWebhook(signed({ timestamp: now + Math.sign(offset) * 295 }))).toBe(true);
      });

      it("refuses a timestamp changed after signing, a GET, and another account's key", () => {
        const r = signed();
        const ts = Number(r.headers["telnyx-timestamp"]);
        expect(carrier.verifyWebhook({ ...r, headers: { ...r.headers, "telnyx-timestamp": String(ts - 1) } })).toBe(false);
        // A GET's fields travel in the query string, which the signature does not cover.
        const get = sim.sign(`${url}&CallSid=CA1`, {});
        expect(carrier.verifyWebhook({ ...post({}, get, `${url}&CallSid=CA1`), method: "GET", rawBody: "", params: {} })).toBe(false);
        const other = generateKeyPairSync("ed25519").privateKey.export({ format: "pem", type: "pkcs8" }).toString();
        expect(carrierFor(account, sim.url, { signingKey: other }).verifyWebhook(signed())).toBe(false);
        // Garbage where the signature should be.
        expect(carrier.verifyWebhook({ ...r, headers: { ...r.headers, "telnyx-signature-ed25519": "c29tZXRoaW5nIGVsc2U=" } })).toBe(false);
      });
    } else {
      it("refuses another URL", () => {
        expect(carrier.verifyWebhook({ ...signed(), url: "http://service.example/call-2fa?c=ch_other" })).toBe(false);
      });
    }

    if (flavor === "signalwire") {
      it("accepts the Twilio header name as an alias", () => {
        const r = signed();
        const signature = r.headers["x-signalwire-signature"]!;
        expect(carrier.verifyWebhook({ ...r, headers: { "x-twilio-signature": signature } })).toBe(true);
      });
    }
  });

  describe("parseWebhook", () => {
    it("reads the call, its status, the machine verdict and the keys in our words", () => {
      const word = flavor === "telnyx" ? "machine" : "machine_start";
      const event = carrier.parseWebhook({
        url: "http://service.example/call-2fa?c=ch_xyz",
        method: "POST",
        rawBody: "",
        params: { CallSid: "c1", CallStatus: "in-progress", AnsweredBy: word, Digits: "5" },
        headers: {},
      });
      expect(event).toEqual({ callId: "c1", status: "in-progress", answeredBy: { verdict: "machine", detail: word }, digits: "5" });
      expect(carrier.answeringVerdict("human")).toBe("human");
      expect(carrier.answeringVerdict("fax")).toBe("fax");
      expect(carrier.answeringVerdict("machine_end_beep")).toBe("machine");
      expect(carrier.parseWebhook({ url: "http://s/x", method: "POST", rawBody: "", params: { CallStatus: "dtmf", AnsweredBy: "<x>" }, headers: {} })).toEqual({});
    });
  });

  describe("render", () => {
    it(flavor === "telnyx" ? "writes TeXML: escaped text, a Say per digit, pauses for breaks outside a Gather, gather" : "renders the script with the SDK's builder: escaped text, digits read as digits, breaks, gather", () => {
      const document = carrier.render([
        { kind: "say", parts: [{ text: "Tom & Jerry <3" }, { digit: "4" }, { breakMs: 500 }], language: "en-US", voice: "Polly.Joanna" },
        { kind: "gather", action: "http://s.example/next?a=1&b=2", method: "POST", numDigits: 1, timeoutSeconds: 8, children: [{ kind: "pause", seconds: 1 }] },
        { kind: "hangup" },
      ]);
      const xml = document.body;
      expect(document.contentType).toBe("text/xml; charset=utf-8");
      if (flavor === "telnyx") {
        expect(xml).toBe(
          '<?xml version="1.0" encoding="UTF-8"?><Response><Say language="en-US" voice="Polly.Joanna">Tom &amp; Jerry &lt;3</Say><Say language="en-US" voice="Polly.Joanna">4</Say><Pause length="1"/>' +
            '<Gather action="http://s.example/next?a=1&amp;b=2" numDigits="1" timeout="8" input="dtmf" finishOnKey=""></Gather><Hangup/></Response>',
        );
        // TeXML is a Mustache template on Telnyx's side: braces in a text are spoken, not filled in.
        expect(carrier.render([{ kind: "say", parts: [{ text: "{{From}} {{{x}}}" }], language: "en-US" }]).body).toContain(">{ {From} } { { {x} } }</Say>");
        return;
      }
      expect(xml).toContain('<Say language="en-US" voice="Polly.Joanna">Tom &amp; Jerry &lt;3<say-as interpret-as="digits">4</say-as><break time="500ms"/></Say>');
      expect(xml).toContain('<Gather action="http://s.example/next?a=1&amp;b=2" method="POST" numDigits="1" timeout="8" input="dtmf" finishOnKey=""><Pause length="1"/></Gather>');
      expect(xml).toContain("</Gather><Hangup/></Response>");
    });
  });
});

describe("the carrier registry", () => {
  it("is where CARRIER's choices, the variables, the signature headers and the error catalogue's carriers come from", async () => {
    const { CARRIERS, CARRIER_NAMES, SIGNATURE_HEADERS } = await import("../src/carriers/registry.js");
    const { envSchema } = await import("../src/config/schema.js");
    const { errorBodySchema } = await import("../src/http/error-docs.js");
    expect(CARRIER_NAMES).toEqual(["twilio", "signalwire", "telnyx"]);
    for (const [name, plugin] of Object.entries(CARRIERS)) {
      expect(plugin.name).toBe(name);
      for (const variable of Object.keys(plugin.configSchema.shape)) expect(Object.keys(envSchema.shape)).toContain(variable);
      for (const header of Object.keys(plugin.signatureHeaders)) expect(SIGNATURE_HEADERS).toContain(header);
      for (const required of plugin.requiredVariables) expect(Object.keys(plugin.configSchema.shape)).toContain(required);
    }
    expect(envSchema.shape.CARRIER.safeParse("telnyx").success).toBe(true);
    const carrierError = errorBodySchema("carrier_error").shape.error;
    expect(carrierError.safeParse({ code: "carrier_error", message: "m", carrier: "telnyx", carrier_code: "10002", challenge_id: "ch_x" }).success).toBe(true);
    expect(carrierError.safeParse({ code: "carrier_error", message: "m", carrier: "plivo", carrier_code: "1", challenge_id: "ch_x" }).success).toBe(false);
  });
});

describe.each(["twilio", "signalwire", "telnyx"] as const)("voice XML as the configuration asks for it, on %s", (flavor) => {
  /** The first voice document of a call, from LANGUAGE and VOICE as the service reads them, for a request asking `requested`. */
  async function openingXml(vars: Record<string, string>, requested?: string): Promise<string> {
    const { loadConfig } = await import("../src/config/index.js");
    const { openingScript } = await import("../src/voice/script.js");
    const { resolveLanguage } = await import("../src/voice/phrases.js");
    const config = loadConfig({ ...CARRIER_ENV[flavor], ...vars });
    const settings = { orgName: config.voice.orgName, language: config.voice.language, voice: config.voice.voice };
    const call = { language: resolveLanguage(requested ?? config.voice.language)!, code: "4242", gateDigit: null };
    const carrier = carrierFor(newAccount(flavor), "http://127.0.0.1:9");
    return carrier.render(openingScript(settings, call, { afterGate: "http://s.example/gate", afterCode: "http://s.example/code" })).body;
  }
  const sayAttributes = (xml: string) => new Set([...xml.matchAll(/<Say ([^>]*)>/g)].map((m) => m[1]));

  it("speaks LANGUAGE=es-MX in es-MX with a Mexican voice, not es-US, also when a request asks for plain es", async () => {
    expect(sayAttributes(await openingXml({ LANGUAGE: "es-MX" }))).toEqual(new Set(['language="es-MX" voice="Polly.Mia"']));
    expect(sayAttributes(await openingXml({ LANGUAGE: "es-MX" }, "es"))).toEqual(new Set(['language="es-MX" voice="Polly.Mia"']));
    expect(sayAttributes(await openingXml({ LANGUAGE: "es-MX", VOICE: "Polly.Mia-Neural" }))).toEqual(new Set(['language="es-MX" voice="Polly.Mia-Neural"']));
    // A request for another tag gets that tag and its own voice; VOICE belongs to LANGUAGE's tag.
    expect(sayAttributes(await openingXml({ LANGUAGE: "es-MX", VOICE: "Polly.Mia-Neural" }, "es-ES"))).toEqual(new Set(['language="es-ES" voice="Polly.Lucia"']));
    expect(sayAttributes(await openingXml({ LANGUAGE: "pt-PT" }))).toEqual(new Set(['language="pt-PT" voice="Polly.Ines"']));
  });

  if (flavor !== "telnyx") {
    const spelled = flavor === "signalwire" ? "gcloud.en-US-Neural2-A" : "Google.en-US-Neural2-A";
    it(`renders VOICE=Google.en-US-Neural2-A as ${spelled}, reading digits with SSML`, async () => {
      const xml = await openingXml({ VOICE: "Google.en-US-Neural2-A" });
      expect(sayAttributes(xml)).toEqual(new Set([`language="en-US" voice="${spelled}"`]));
      expect(xml).toContain('<say-as interpret-as="digits">4</say-as><break time="700ms"/>');
    });
  }
});
