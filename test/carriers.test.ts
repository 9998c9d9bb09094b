import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CarrierError, type Carrier, type PlaceCallRequest } from "../src/carriers/carrier.js";
import type { Flavor, Outcome, Simulator } from "../src/simulator/index.js";
import { API_ERRORS } from "./helpers/api-errors.js";
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
];

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
      expect(placed.callSid).toMatch(flavor === "twilio" ? /^CA[0-9a-f]{32}$/ : /^[0-9a-f-]{36}$/);
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
    it("wrong credentials: the SDK throws its own RestException 401 / 20003", async () => {
      const err = (await sdkClient(account, sim.url, "wrong-token")
        .create({ to: nextNumber(), from: FROM, url: `${svc.url}/voice` })
        .catch((e: unknown) => e)) as Record<string, unknown>;
      expect(err).toBeInstanceOf(Error);
      expect(err.constructor.name).toBe("RestException");
      expect(err).toMatchObject({ status: 401, code: 20003, message: "Authenticate" });
    });

    it("wrong credentials through the adapter: rejected, carrier code 20003, HTTP 401", async () => {
      const wrong = carrierFor(account, sim.url, { authToken: "wrong-token", sdkHttpClient });
      const err = await refusal(wrong, request(nextNumber()));
      expect(err).toMatchObject({ carrier: flavor, failure: "rejected", carrierCode: "20003", carrierStatus: 401 });
    });

    it.each([
      ["an invalid number", API_ERRORS.invalidNumber, "21211", 400],
      ["a server error", API_ERRORS.serverError, "20500", 500],
      ["an authentication error", API_ERRORS.authentication, "20003", 401],
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
      expect(err).toMatchObject({ failure: "rejected", carrierCode: "21211", carrierStatus: 400 });
      expect(err.message).toMatch(/^The 'To' number \+1415•••\d{4} is not a valid phone number\.$/);
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
      // Twilio's SDK still sees the 502; SignalWire's throws a SyntaxError and loses it.
      if (flavor === "twilio") expect(err).toMatchObject({ carrierCode: "http_502", carrierStatus: 502 });
      else expect(err.carrierCode).toBe("bad_response");
    });

    it("calls a closed port unreachable", async () => {
      const nowhere = carrierFor(account, `http://127.0.0.1:${await closedPort()}`, { sdkHttpClient });
      const err = await refusal(nowhere, request(nextNumber()));
      expect(err).toMatchObject({ carrier: flavor, failure: "unreachable", carrierCode: "ECONNREFUSED" });
      expect(err.carrierStatus).toBeUndefined();
    });
  });

  describe("verifySignature", () => {
    const url = "http://service.example/call-2fa?c=ch_xyz";
    const params = { CallSid: "CA1", To: "+14155550100", From: FROM, CallStatus: "in-progress" };
    const signed = () => {
      const headers = Object.fromEntries(Object.entries(sim.sign(url, params)).map(([k, v]) => [k.toLowerCase(), v]));
      return { url, params, headers };
    };

    it("accepts what the carrier signed", () => {
      expect(carrier.verifySignature(signed())).toBe(true);
    });

    it.each([
      ["no signature header", (r: ReturnType<typeof signed>) => ({ ...r, headers: {} })],
      ["a changed parameter", (r: ReturnType<typeof signed>) => ({ ...r, params: { ...r.params, To: "+14155550101" } })],
      ["an added parameter", (r: ReturnType<typeof signed>) => ({ ...r, params: { ...r.params, Digits: "1" } })],
      ["another URL", (r: ReturnType<typeof signed>) => ({ ...r, url: "http://service.example/call-2fa?c=ch_other" })],
    ])("refuses %s", (_, change) => {
      expect(carrier.verifySignature(change(signed()))).toBe(false);
    });

    if (flavor === "signalwire") {
      it("accepts the Twilio header name as an alias", () => {
        const r = signed();
        const signature = r.headers["x-signalwire-signature"]!;
        expect(carrier.verifySignature({ ...r, headers: { "x-twilio-signature": signature } })).toBe(true);
      });
    }
  });

  describe("voiceResponse", () => {
    it("renders the script with the SDK's builder: escaped text, digits read as digits, breaks, gather, redirect", () => {
      const xml = carrier.voiceResponse([
        { kind: "say", parts: [{ text: "Tom & Jerry <3" }, { digit: "4" }, { breakMs: 500 }], language: "en-US", voice: "Polly.Joanna" },
        { kind: "gather", action: "http://s.example/next?a=1&b=2", method: "POST", numDigits: 1, timeoutSeconds: 8, children: [{ kind: "pause", seconds: 1 }] },
        { kind: "redirect", url: "http://s.example/again", method: "POST" },
        { kind: "hangup" },
      ]);
      expect(xml).toContain('<Say language="en-US" voice="Polly.Joanna">Tom &amp; Jerry &lt;3<say-as interpret-as="digits">4</say-as><break time="500ms"/></Say>');
      expect(xml).toContain('<Gather action="http://s.example/next?a=1&amp;b=2" method="POST" numDigits="1" timeout="8" input="dtmf"><Pause length="1"/></Gather>');
      expect(xml).toContain('<Redirect method="POST">http://s.example/again</Redirect><Hangup/></Response>');
    });
  });
});
