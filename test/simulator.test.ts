import { spawn } from "node:child_process";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Carrier } from "../src/carriers/carrier.js";
import type { CallRecord, Flavor, HeardOn, Simulator } from "../src/simulator/index.js";
import type { VoiceScript } from "../src/voice/script.types.js";
import {
  FROM,
  carrierFor,
  ed25519PublicKeyOf,
  sdkJudge,
  newAccount,
  numberSource,
  say,
  sdkClient,
  simulatorFor,
  startFakeService,
  type FakeService,
  type ServiceRequest,
} from "./helpers/carrier-world.js";
import { ROOT } from "./helpers/process.js";
import { ConfigError, loadConfig } from "../src/config/index.js";
import { parseOutcomes } from "../src/simulator/outcomes.js";
import { PHRASES } from "../src/voice/phrases.js";
import { codeHeard, startTestService, type TestService } from "./helpers/service.js";

const FLAVORS: Flavor[] = ["twilio", "signalwire", "telnyx"];
const SID: Record<Flavor, RegExp> = {
  twilio: /^CA[0-9a-f]{32}$/,
  signalwire: /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/,
  telnyx: /^v3:[\w-]{40}$/,
};
/** TwiML and LaML speak a Say's digits within it; TeXML (no SSML) gives each digit its own Say. */
const said = (flavor: Flavor, text: string, digits: string[]) => (flavor === "telnyx" ? [text, ...digits] : [[text, ...digits].join(" ")]);

describe.each(FLAVORS)("the %s simulator", (flavor) => {
  const account = newAccount(flavor);
  const nextNumber = numberSource();
  const logged: Array<{ line: string; on: HeardOn }> = [];
  let sim: Simulator;
  let carrier: Carrier;
  let svc: FakeService;
  let routes = 0;

  beforeAll(async () => {
    sim = await simulatorFor(account, { logger: (line, on) => logged.push({ line, on }) });
    carrier = carrierFor(account, sim.url);
    svc = await startFakeService(carrier);
  });
  afterAll(async () => {
    await sim?.close();
    await svc?.close();
  });

  /** A fresh path prefix per test, so each test's routes and requests are its own. */
  const route = () => `/t${routes++}`;
  const voiceRequests = (call: CallRecord) =>
    svc.requests.filter((r) => !r.path.startsWith("/status") && (r.webhook.params.CallSid ?? r.query.CallSid) === call.sid);
  const statusRequests = (call: CallRecord) =>
    svc.requests.filter((r) => r.path.startsWith("/status") && (r.webhook.params.CallSid ?? r.query.CallSid) === call.sid);
  const param = (r: ServiceRequest, name: string) => (r.method === "GET" ? r.query[name] : r.webhook.params[name]);

  /** Places a call through the adapter whose voice webhook answers `script`. */
  async function callWith(script: VoiceScript, opts: { to?: string; machineDetection?: boolean; at?: string } = {}) {
    const at = opts.at ?? route();
    svc.on(`${at}/voice`, () => script);
    const placed = await carrier.placeCall({
      to: opts.to ?? nextNumber(),
      url: `${svc.url}${at}/voice?c=ch_${at.slice(1)}`,
      statusCallback: `${svc.url}/status${at}`,
      machineDetection: opts.machineDetection ?? false,
    });
    return sim.waitForCall(placed.callSid);
  }

  describe("create-call API", () => {
    it("creates a call at the path the SDK uses and answers the call resource", async () => {
      const at = route();
      svc.on(`${at}/voice`, () => [say("hello"), { kind: "hangup" }]);
      const to = nextNumber();
      const created = await sdkClient(account, sim.url).create({ to, from: FROM, url: `${svc.url}${at}/voice` });
      expect(created.sid).toMatch(SID[flavor]);
      expect(created).toMatchObject({ status: "queued", to, from: FROM });
      const call = await sim.waitForCall({ sid: created.sid });
      expect(call).toMatchObject({ to, from: FROM, url: `${svc.url}${at}/voice`, method: "POST", status: "completed" });
    });

    it.skipIf(flavor === "telnyx").each(["/2010-04-01", "/api/laml/2010-04-01"])("accepts a raw form POST to %s/Accounts/{id}/Calls.json", async (prefix) => {
      const at = route();
      svc.on(`${at}/voice`, () => [say("raw"), { kind: "hangup" }]);
      const to = nextNumber();
      const res = await fetch(`${sim.url}${prefix}/Accounts/${account.accountSid}/Calls.json`, {
        method: "POST",
        headers: {
          Authorization: `Basic ${Buffer.from(`${account.accountSid}:${account.authToken}`).toString("base64")}`,
          "Content-Type": "application/x-www-form-urlencoded",
        },
        body: new URLSearchParams({ To: to, From: FROM, Url: `${svc.url}${at}/voice` }).toString(),
      });
      expect(res.status).toBe(201);
      const body = (await res.json()) as Record<string, unknown>;
      expect(body).toMatchObject({ status: "queued", to, from: FROM, account_sid: account.accountSid });
      expect(body.sid).toMatch(SID[flavor]);
      expect((await sim.waitForCall(body.sid as string)).heard).toEqual(["raw"]);
    });

    it.runIf(flavor === "telnyx")("accepts a raw JSON POST to /v2/texml/calls/{application id} with the API key, and answers the flat call", async () => {
      const at = route();
      svc.on(`${at}/voice`, () => [say("raw"), { kind: "hangup" }]);
      const to = nextNumber();
      const post = (key: string, app = account.applicationId!) =>
        fetch(`${sim.url}/v2/texml/calls/${app}`, {
          method: "POST",
          headers: { Authorization: `Bearer ${key}`, "Content-Type": "application/json" },
          body: JSON.stringify({ To: to, From: FROM, Url: `${svc.url}${at}/voice`, StatusCallbackEvent: "ringing completed" }),
        });
      const res = await post(account.authToken);
      expect(res.status).toBe(200);
      const body = (await res.json()) as Record<string, unknown>;
      expect(body).toEqual({ call_sid: expect.stringMatching(SID.telnyx), from: FROM, to, status: "queued" });
      const call = await sim.waitForCall(body.call_sid as string);
      expect(call).toMatchObject({ heard: ["raw"], statusCallbackEvents: ["ringing", "completed"] });
      for (const refused of [await post("KEY_wrong"), await post(account.authToken, "12345")]) {
        expect(refused.status).toBe(401);
        expect(await refused.json()).toMatchObject({ errors: [{ code: "10009", title: expect.any(String), detail: expect.any(String) }] });
      }
    });

    it("answers 404 with the carrier's error shape on an unknown path", async () => {
      if (flavor === "telnyx") {
        const res = await fetch(`${sim.url}/v2/messages`, { method: "POST" });
        expect(res.status).toBe(404);
        expect(await res.json()).toMatchObject({ errors: [{ code: "10005" }] });
        return;
      }
      const res = await fetch(`${sim.url}/2010-04-01/Accounts/${account.accountSid}/Messages.json`, { method: "POST" });
      expect(res.status).toBe(404);
      expect(await res.json()).toMatchObject({ code: 20404, status: 404 });
    });
  });

  describe("the call", () => {
    it("fetches the voice URL with the standard parameters, signed with the carrier's header and key", async () => {
      const call = await callWith([say("Hello."), { kind: "hangup" }]);
      const [voice, ...more] = voiceRequests(call);
      expect(more).toHaveLength(0);
      expect(voice!.method).toBe("POST");
      expect(voice!.webhook.params).toMatchObject({
        CallSid: call.sid,
        AccountSid: account.accountSid,
        From: FROM,
        To: call.to,
        CallStatus: "in-progress",
        ...(flavor === "telnyx"
          ? { CallSidLegacy: call.sid, ConnectionId: account.applicationId, CallingPartyType: "pstn" }
          : { Direction: "outbound-api", ApiVersion: "2010-04-01" }),
      });
      expect(voice!.verified).toBe(true);
      if (flavor === "telnyx") {
        // Ed25519 over `timestamp|body`: 64 bytes, base64; the timestamp in Unix seconds, now.
        expect(voice!.webhook.headers["telnyx-signature-ed25519"]).toMatch(/^[A-Za-z0-9+/]{86}==$/);
        const timestamp = Number(voice!.webhook.headers["telnyx-timestamp"]);
        expect(Math.abs(timestamp - Date.now() / 1000)).toBeLessThan(60);
        expect(voice!.webhook.headers["x-twilio-signature"]).toBeUndefined();
        const params = Object.fromEntries(Object.entries(voice!.webhook.params).map(([k, v]) => [k, String(v)]));
        expect(sim.sign(voice!.webhook.url, params, { timestamp })).toEqual({
          "telnyx-signature-ed25519": voice!.webhook.headers["telnyx-signature-ed25519"],
          "telnyx-timestamp": String(timestamp),
        });
        // The service is given the public half of the simulator's key.
        expect(sim.serviceEnv().TELNYX_PUBLIC_KEY).toBe(ed25519PublicKeyOf(account.signingKey));
        return;
      }
      const own = flavor === "twilio" ? "x-twilio-signature" : "x-signalwire-signature";
      const other = flavor === "twilio" ? "x-signalwire-signature" : "x-twilio-signature";
      expect(voice!.webhook.headers[own]).toMatch(/^[A-Za-z0-9+/]{27}=$/);
      expect(voice!.webhook.headers[other]).toBeUndefined();
      // The simulator's own sign() is what it sent (tests elsewhere forge and replay with it).
      const params = Object.fromEntries(Object.entries(voice!.webhook.params).map(([k, v]) => [k, String(v)]));
      expect(sim.sign(voice!.webhook.url, params)).toEqual({
        [flavor === "twilio" ? "X-Twilio-Signature" : "X-SignalWire-Signature"]: voice!.webhook.headers[own],
      });
    });

    it(
      flavor === "signalwire"
        ? "signs with the signing key: a verifier keyed with the API token rejects the webhook"
        : flavor === "telnyx"
          ? "signs with its private key: a verifier holding another public key rejects the webhook"
          : "signs with the auth token: a verifier keyed with another token rejects the webhook",
      async () => {
        const call = await callWith([say("Hello."), { kind: "hangup" }]);
        const [voice] = voiceRequests(call);
        expect(voice!.verified).toBe(true);
        const wrong =
          flavor === "signalwire"
            ? carrierFor(account, sim.url, { signingKey: account.authToken })
            : flavor === "telnyx"
              ? carrierFor(account, sim.url, { publicKey: Buffer.alloc(32, 1).toString("base64") })
              : carrierFor(account, sim.url, { authToken: "0".repeat(32) });
        expect(wrong.verifyWebhook(voice!.webhook)).toBe(false);
        // And a tampered parameter breaks the real verifier too.
        const tampered = { ...voice!.webhook.params, To: "+14155550000" } as Record<string, string>;
        expect(carrier.verifyWebhook({ ...voice!.webhook, params: tampered, rawBody: new URLSearchParams(tampered).toString() })).toBe(false);
      },
    );

    it("signs every webhook of a call so that the carrier SDK's own verifier accepts it", async () => {
      svc.on("/judge-gate", () => [say("On."), { kind: "hangup" }]);
      const call = await callWith(
        [{ kind: "gather", action: `${svc.url}/judge-gate`, method: "POST", numDigits: 1, timeoutSeconds: 5, children: [say("Press 3 to go on.")] }],
        { machineDetection: true },
      );
      expect(call.keysPressed).toEqual(["3"]);
      expect(call.webhookErrors).toEqual([]);
      const all = [...voiceRequests(call), ...statusRequests(call)];
      expect(all.length).toBeGreaterThanOrEqual(5); // voice, gate, ringing, in-progress, completed
      for (const r of all) expect(await sdkJudge(account, r.webhook), `${r.path}`).toBe(true);
      // A changed body fails the judge as it fails the service.
      const first = all[0]!.webhook;
      expect(await sdkJudge(account, { ...first, params: { ...first.params, To: "+1" }, rawBody: `${first.rawBody}&x=1` })).toBe(false);
    });

    it.each(["POST", "GET"])("signs the URL as requested when the given Url needed escaping (%s)", async (method) => {
      const at = route();
      svc.on(`${at}/voice`, () => [say("Escaped."), { kind: "hangup" }]);
      const created = await sdkClient(account, sim.url).create({ to: nextNumber(), from: FROM, url: `${svc.url}${at}/voice?c=it's a|b`, method });
      const call = await sim.waitForCall(created.sid);
      const [voice] = voiceRequests(call);
      expect(voice!.webhook.url).toContain("?c=it%27s%20a|b");
      // Telnyx's signature does not cover the URL, and a GET is refused (its query would be unsigned).
      if (flavor === "telnyx" && method === "GET") return expect(voice!.verified).toBe(false);
      expect(voice!.verified).toBe(true);
      expect(call.heard).toEqual(["Escaped."]);
    });

    it("sends the ringing, in-progress and completed status callbacks the service asks for, in order, all signed", async () => {
      const call = await callWith([say("Hello."), { kind: "hangup" }]);
      const callbacks = statusRequests(call);
      // The call goes through initiated too; the service does not ask to hear of it.
      expect(callbacks.map((r) => r.webhook.params.CallStatus)).toEqual(["ringing", "in-progress", "completed"]);
      expect(callbacks.map((r) => r.webhook.params.SequenceNumber)).toEqual(["0", "1", "2"]);
      expect(callbacks.every((r) => r.verified && r.method === "POST")).toBe(true);
      expect(callbacks[0]!.webhook.params).toMatchObject({ CallSid: call.sid, AccountSid: account.accountSid, To: call.to, From: FROM });
      expect(callbacks[2]!.webhook.params.CallDuration).toMatch(/^\d+$/);
      expect(call.events.map((e) => e.status)).toEqual(["queued", "initiated", "ringing", "in-progress", "completed"]);
    });

    it.each([
      ["only completed", ["completed"]],
      ["no StatusCallbackEvent at all", undefined],
    ])("with %s, sends only the final status callback", async (_, events) => {
      const at = route();
      svc.on(`${at}/voice`, () => [say("Hi."), { kind: "hangup" }]);
      const created = await sdkClient(account, sim.url).create({
        to: nextNumber(),
        from: FROM,
        url: `${svc.url}${at}/voice`,
        statusCallback: `${svc.url}/status${at}`,
        ...(events ? { statusCallbackEvent: events } : {}),
      });
      const call = await sim.waitForCall(created.sid);
      expect(statusRequests(call).map((r) => r.webhook.params.CallStatus)).toEqual(["completed"]);
      expect(statusRequests(call)[0]!.verified).toBe(true);
    });

    it.skipIf(flavor === "telnyx")("uses GET when asked: parameters in the query string, signature over the full URL", async () => {
      const at = route();
      svc.on(`${at}/voice`, () => [say("Got it by GET."), { kind: "hangup" }]);
      const created = await sdkClient(account, sim.url).create({
        to: nextNumber(),
        from: FROM,
        url: `${svc.url}${at}/voice?c=ch_get`,
        method: "GET",
        statusCallback: `${svc.url}/status${at}`,
        statusCallbackMethod: "GET",
        statusCallbackEvent: ["initiated", "completed"],
      });
      const call = await sim.waitForCall(created.sid);
      expect(call.heard).toEqual(["Got it by GET."]);
      const [voice] = voiceRequests(call);
      const callbacks = statusRequests(call);
      expect(callbacks.map((r) => r.query.CallStatus)).toEqual(["initiated", "completed"]);
      for (const r of [voice!, ...callbacks]) {
        expect(r.method).toBe("GET");
        expect(r.verified).toBe(true);
        expect(r.webhook.params).toEqual({});
        // Without its query string the signature no longer matches: it covers the whole URL.
        expect(carrier.verifyWebhook({ ...r.webhook, url: r.webhook.url.split("?")[0]! })).toBe(false);
      }
      expect(voice!.query).toMatchObject({ c: "ch_get", CallSid: call.sid, To: call.to, From: FROM, CallStatus: "in-progress" });
    });

    it("auto: presses the one digit a Gather prompt names, and posts it to the action", async () => {
      const at = route();
      svc.on(`${at}/gate`, (r) =>
        param(r, "Digits") === "7"
          ? [{ kind: "say", parts: [{ text: "Your code is" }, { digit: "4" }, { breakMs: 300 }, { digit: "2" }], language: "en-US" }, { kind: "hangup" }]
          : [say("Wrong key."), { kind: "hangup" }],
      );
      const call = await callWith(
        [
          { kind: "gather", action: `${svc.url}${at}/gate`, method: "POST", numDigits: 1, timeoutSeconds: 5, children: [say("Press 7 to hear your code.")] },
          say("We did not hear the key."),
          { kind: "hangup" },
        ],
        { at },
      );
      expect(call.keysPressed).toEqual(["7"]);
      const gate = svc.requests.find((r) => r.path === `${at}/gate`);
      expect(gate?.verified).toBe(true);
      expect(gate?.webhook.params).toMatchObject({ Digits: "7", CallSid: call.sid });
      expect(call.heard).toEqual(["Press 7 to hear your code.", ...said(flavor, "Your code is", ["4", "2"])]);
    });

    it("auto: presses nothing while a prompt reads several digits, and the call carries on with the next verb", async () => {
      const call = await callWith([
        { kind: "gather", action: `${svc.url}/never`, method: "POST", numDigits: 1, timeoutSeconds: 5, children: [say("Your code is 4 2 9. Press 1 to repeat.")] },
        say("Goodbye."),
        { kind: "hangup" },
      ]);
      expect(call.keysPressed).toEqual([]);
      expect(call.heard).toEqual(["Your code is 4 2 9. Press 1 to repeat.", "Goodbye."]);
      expect(svc.requests.some((r) => r.path === "/never")).toBe(false);
    });

    it("presses an explicit list of keys, one per Gather (\"\" for none)", async () => {
      const at = route();
      const to = nextNumber();
      sim.setOutcome(to, { kind: "answer", keys: ["3", ""] });
      const gather = (action: string, prompt: string): VoiceScript[number] => ({
        kind: "gather",
        action: `${svc.url}${at}${action}`,
        method: "POST",
        numDigits: 1,
        timeoutSeconds: 5,
        children: [say(prompt)],
      });
      svc.on(`${at}/one`, (r) => [say(`got ${param(r, "Digits")}`), gather("/two", "Second prompt."), say("no key"), { kind: "hangup" }]);
      const call = await callWith([gather("/one", "First prompt.")], { to, at });
      expect(call.keysPressed).toEqual(["3"]);
      expect(call.heard).toEqual(["First prompt.", "got 3", "Second prompt.", "no key"]);
      expect(voiceRequests(call).map((r) => r.path)).toEqual([`${at}/voice`, `${at}/one`]);
      expect(voiceRequests(call).every((r) => r.verified)).toBe(true);
      expect(svc.requests.some((r) => r.path === `${at}/two`)).toBe(false);
    });

    it(
      flavor === "telnyx"
        ? "voicemail presses nothing and, with machine detection, the answer's status callback says AnsweredBy=machine, before the voice URL is fetched"
        : "voicemail presses nothing and, with machine detection, the webhook sees AnsweredBy=machine_start",
      async () => {
      const at = route();
      const to = nextNumber();
      sim.setOutcome(to, { kind: "voicemail" });
      const call = await callWith(
        [
          { kind: "gather", action: `${svc.url}${at}/gate`, method: "POST", numDigits: 1, timeoutSeconds: 5, children: [say("Press 5 to hear your code.")] },
          say("Goodbye."),
          { kind: "hangup" },
        ],
        { to, at, machineDetection: true },
      );
      expect(call.machineDetection).toBe(true);
      expect(call.keysPressed).toEqual([]);
      expect(call.heard).toEqual(["Press 5 to hear your code.", "Goodbye."]);
      if (flavor === "telnyx") {
        const answered = statusRequests(call).find((r) => r.webhook.params.CallStatus === "in-progress")!;
        expect(answered.webhook.params.AnsweredBy).toBe("machine");
        expect(voiceRequests(call)[0]!.webhook.params.AnsweredBy).toBeUndefined();
        expect(svc.requests.indexOf(answered)).toBeLessThan(svc.requests.indexOf(voiceRequests(call)[0]!));
      } else expect(voiceRequests(call)[0]!.webhook.params.AnsweredBy).toBe("machine_start");
      expect(svc.requests.some((r) => r.path === `${at}/gate`)).toBe(false);
    },
    );

    it.each([
      ["with machine detection, a person answering gives AnsweredBy=human", true, "human"],
      ["without machine detection, there is no AnsweredBy", false, undefined],
    ])("%s", async (_, machineDetection, answeredBy) => {
      const call = await callWith([say("Hi."), { kind: "hangup" }], { machineDetection });
      const carries = flavor === "telnyx" ? statusRequests(call).find((r) => r.webhook.params.CallStatus === "in-progress")! : voiceRequests(call)[0]!;
      expect(carries.webhook.params.AnsweredBy).toBe(answeredBy);
      expect(call.answeredBy).toBe(answeredBy);
    });

    it("Hangup ends the call: nothing after it is said", async () => {
      const call = await callWith([say("One."), { kind: "hangup" }, say("Never said.")]);
      expect(call.heard).toEqual(["One."]);
      expect(call.status).toBe("completed");
      expect(call.webhookErrors).toEqual([]);
      expect(statusRequests(call).at(-1)!.webhook.params.CallStatus).toBe("completed");
    });

    it.each([
      ["answers 500", { status: 500, body: "oops" }, /HTTP 500/],
      ["answers invalid XML", { status: 200, body: "<Response><Say>unclosed</Response>", contentType: "text/xml" }, /closes <Say>/],
      ["answers a root other than <Response>", { status: 200, body: "<Html><Say>hi</Say></Html>", contentType: "text/xml" }, /not <Response>/],
    ])("a webhook that %s is recorded in webhookErrors and ends the call", async (_, reply, error) => {
      const at = route();
      svc.on(`${at}/voice`, () => reply);
      const placed = await carrier.placeCall({
        to: nextNumber(),
        url: `${svc.url}${at}/voice`,
        statusCallback: `${svc.url}/status${at}`,
        machineDetection: false,
      });
      const call = await sim.waitForCall(placed.callSid);
      expect(call.webhookErrors).toHaveLength(1);
      expect(call.webhookErrors[0]).toMatch(error);
      expect(call.heard).toEqual(["We are sorry, an application error has occurred. Goodbye."]);
      expect(voiceRequests(call)).toHaveLength(1);
      expect(call.status).toBe("completed");
      expect(statusRequests(call).at(-1)!.webhook.params.CallStatus).toBe("completed");
    });

    it.each(["busy", "no-answer", "failed"] as const)("%s: that final status callback and no voice webhook", async (kind) => {
      const at = route();
      const to = nextNumber();
      sim.setOutcome(to, { kind });
      let fetched = false;
      svc.on(`${at}/voice`, () => ((fetched = true), [say("never")]));
      const call = await callWith([], { to, at });
      expect(fetched).toBe(false);
      expect(call.requests.filter((r) => r.kind === "voice")).toEqual([]);
      expect(call.status).toBe(kind);
      expect(call.heard).toEqual([]);
      expect(statusRequests(call).map((r) => r.webhook.params.CallStatus)).toEqual(["ringing", kind]);
      expect(statusRequests(call).every((r) => r.verified)).toBe(true);
    });

    it("hold: the call rings, its webhook unfetched, until the test picks it up", async () => {
      const at = route();
      const to = nextNumber();
      sim.setOutcome(to, { kind: "answer", hold: true });
      svc.on(`${at}/voice`, () => [say("Picked up.")]);
      const placed = await carrier.placeCall({ to, url: `${svc.url}${at}/voice`, statusCallback: `${svc.url}/status${at}`, machineDetection: false });
      const held = await sim.waitForHeld(placed.callSid);
      expect(held.status).toBe("ringing");
      expect(voiceRequests(held)).toEqual([]);
      sim.pickUp(held.sid);
      const call = await sim.waitForCall(placed.callSid);
      expect(call.heard).toEqual(["Picked up."]);
      expect(call.status).toBe("completed");
      expect(() => sim.pickUp(held.sid)).toThrow(/not held/);
    });

    it("counts a webhook in flight until the service has answered it", async () => {
      const at = route();
      svc.on(`${at}/voice`, () => [say("Hello.")]);
      let open!: () => void;
      const gate = new Promise<void>((resolve) => (open = resolve));
      let arrived!: () => void;
      const first = new Promise<void>((resolve) => (arrived = resolve));
      const slow = createServer((req, res) => {
        arrived();
        req.resume();
        void gate.then(() => res.writeHead(204).end());
      });
      await new Promise<void>((resolve) => slow.listen(0, "127.0.0.1", resolve));
      try {
        const placed = await carrier.placeCall({
          to: nextNumber(),
          url: `${svc.url}${at}/voice`,
          statusCallback: `http://127.0.0.1:${(slow.address() as AddressInfo).port}/status`,
          machineDetection: false,
        });
        await first;
        expect(sim.webhooksInFlight()).toBe(1);
        open();
        await sim.waitForCall(placed.callSid);
        expect(sim.webhooksInFlight()).toBe(0);
      } finally {
        slow.closeAllConnections();
        await new Promise((resolve) => slow.close(resolve));
      }
    });

    it("tells when a create-call request has arrived, before it answers", async () => {
      const to = nextNumber();
      sim.setOutcome(to, { kind: "api-timeout" });
      let answered = false;
      const placing = carrier.placeCall({ to, url: `${svc.url}/never`, statusCallback: `${svc.url}/status/never`, machineDetection: false });
      placing.then(
        () => (answered = true),
        () => (answered = true),
      );
      await sim.waitForCreateCall(to);
      expect(answered).toBe(false);
      expect(sim.calls().filter((c) => c.to === to)).toEqual([]);
    });

    it("keeps what the phone heard in order and tells the logger which challenge and number, the number masked", async () => {
      const at = route();
      const to = nextNumber();
      const call = await callWith(
        [
          say("Hello & welcome <friend>."),
          { kind: "pause", seconds: 1 },
          { kind: "say", parts: [{ text: "Your code is" }, { digit: "8" }, { digit: "1" }], language: "en-US", voice: "Polly.Joanna" },
          say("Goodbye."),
          { kind: "hangup" },
        ],
        { at, to },
      );
      expect(call.heard).toEqual(["Hello & welcome <friend>.", ...said(flavor, "Your code is", ["8", "1"]), "Goodbye."]);
      const masked = `${to.slice(0, 5)}•••${to.slice(-4)}`;
      const challenge = `ch_${at.slice(1)}`;
      expect(logged).toContainEqual({
        line: `the phone heard (challenge ${challenge}, ${masked}): Hello & welcome <friend>. Your code is 8 1 Goodbye.`,
        on: { challenge, to: masked },
      });
      expect(JSON.stringify(logged)).not.toContain(to);
    });
  });
});

describe.each(FLAVORS)("npm run simulator (%s)", (flavor) => {
  it("prints the variables that point a service at it, carries a call, and exits 0 on SIGTERM", async () => {
    const signingKey = flavor === "signalwire" ? "PSK_smoke_signing_key" : undefined;
    const baseVar = { twilio: "TWILIO_API_BASE_URL", signalwire: "SIGNALWIRE_API_BASE_URL", telnyx: "TELNYX_API_BASE_URL" }[flavor];
    const child = spawn(`${ROOT}node_modules/.bin/tsx`, ["src/simulator/main.ts"], {
      cwd: ROOT,
      env: {
        PATH: process.env.PATH ?? "",
        HOME: process.env.HOME ?? "/tmp",
        SIMULATOR_FLAVOR: flavor,
        SIMULATOR_PORT: "0",
        ...(signingKey ? { SIMULATOR_SIGNING_KEY: signingKey } : {}),
        SIMULATOR_OUTCOMES: "+14155550199=busy",
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    let err = "";
    const seen: Array<{ re: RegExp; resolve: () => void }> = [];
    child.stdout.on("data", (d: Buffer) => {
      out += d.toString();
      for (const w of [...seen]) if (w.re.test(out)) (seen.splice(seen.indexOf(w), 1), w.resolve());
    });
    child.stderr.on("data", (d: Buffer) => (err += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
    const waitFor = (re: RegExp) =>
      re.test(out)
        ? Promise.resolve()
        : new Promise<void>((resolve, reject) => {
            seen.push({ re, resolve });
            void exited.then((code) => reject(new Error(`exited ${code}; stdout:\n${out}\nstderr:\n${err}`)));
          });

    let svc: FakeService | undefined;
    try {
      await waitFor(/_API_BASE_URL=\S+\n/);
      const env = Object.fromEntries([...out.matchAll(/^([A-Z_]+)=(\S+)$/gm)].map((m) => [m[1]!, m[2]!]));
      expect(env.CARRIER).toBe(flavor);
      // Telnyx's base URL is its API root, /v2 included, as the SDK takes it.
      const baseUrl = env[baseVar]!.replace(/\/v2$/, "");
      // A real port, not the 0 it was asked for.
      expect(baseUrl).toMatch(/^http:\/\/127\.0\.0\.1:(?!0$)\d+$/);
      expect(out).toContain(`${flavor} simulator listening on ${baseUrl}`);
      let carrier: Carrier;
      if (flavor === "telnyx") {
        expect(env.TELNYX_PUBLIC_KEY).toMatch(/^[A-Za-z0-9+/]{43}=$/);
        const account = { flavor, accountSid: "", authToken: env.TELNYX_API_KEY!, signingKey: "", applicationId: env.TELNYX_APPLICATION_ID! };
        carrier = carrierFor(account, baseUrl, { publicKey: env.TELNYX_PUBLIC_KEY! });
      } else {
        const account =
          flavor === "twilio"
            ? { flavor, accountSid: env.TWILIO_ACCOUNT_SID!, authToken: env.TWILIO_AUTH_TOKEN!, signingKey: env.TWILIO_AUTH_TOKEN! }
            : { flavor, accountSid: env.SIGNALWIRE_PROJECT!, authToken: env.SIGNALWIRE_TOKEN!, signingKey: env.SIGNALWIRE_SIGNING_KEY! };
        expect(account.signingKey).toBe(signingKey ?? account.authToken);
        carrier = carrierFor(account, baseUrl);
      }
      svc = await startFakeService(carrier);
      svc.on("/voice", () => [say("Smoke test."), { kind: "hangup" }]);

      const placed = await carrier.placeCall({ to: "+14155550100", url: `${svc.url}/voice`, statusCallback: `${svc.url}/status`, machineDetection: false });
      expect(placed.callSid).toMatch(SID[flavor]);
      // A voice URL that names no challenge: the line names the masked number alone.
      await waitFor(/the phone heard \(\+1415•••0100\): Smoke test\./);
      expect(svc.requests.find((r) => r.path === "/voice")?.verified).toBe(true);

      // SIMULATOR_OUTCOMES scripts a number.
      await carrier.placeCall({ to: "+14155550199", url: `${svc.url}/voice`, statusCallback: `${svc.url}/status`, machineDetection: false });
      await waitFor(/the phone heard \(\+1415•••0199\): \(nothing\)/);
      expect(svc.requests.filter((r) => r.path === "/status").map((r) => r.webhook.params.CallStatus)).toContain("busy");

      child.kill("SIGTERM");
      expect(await exited).toBe(0);
    } finally {
      child.kill("SIGKILL");
      await svc?.close();
    }
  });
});

describe("SIMULATOR_OUTCOMES", () => {
  it("scripts each number: how the call ends, how long it rings, which keys are pressed at each prompt", () => {
    expect(parseOutcomes(" +14155550101=busy:2000, +14155550102=api-error:20003,+14155550103=answer:keys=7-#:0,,+14155550104=answer:keys=auto")).toEqual([
      ["+14155550101", { kind: "busy", ringMs: 2000 }],
      ["+14155550102", { kind: "api-error", status: 401, code: 20003, message: "simulated error 20003" }],
      ["+14155550103", { kind: "answer", keys: ["7", "", "#"], ringMs: 0 }],
      ["+14155550104", { kind: "answer", keys: "auto" }],
    ]);
  });

  it("stops the service at start with the entry at fault and the syntax to write instead", () => {
    for (const [value, problem] of [
      ["14155550101=busy", /"14155550101=busy": it does not start with an E\.164 number and =/],
      ["+14155550101=ring", /"\+14155550101=ring": "ring" is not an outcome/],
      ["+14155550101=answer:keys=1x", /keys "1x" may hold only 0-9, \*, # and -/],
      ["+14155550101=busy:soon", /"soon" is not a ring time in milliseconds/],
      ["+14155550101=api-timeout:5", /api-timeout takes no option/],
    ] as const) {
      const refused = (() => {
        try {
          loadConfig({ SIMULATOR_OUTCOMES: value });
        } catch (err) {
          return err;
        }
      })();
      expect(refused, value).toBeInstanceOf(ConfigError);
      const message = (refused as Error).message;
      expect(message).toMatch(/^SIMULATOR_OUTCOMES: /);
      expect(message).toMatch(problem);
      expect(message).toContain("write NUMBER=OUTCOME entries separated by commas, e.g. +14155550101=busy,");
      expect(message).toContain("answer[:RING_MS][:keys=KEYS]");
      expect(message.split("\n")).toHaveLength(1);
    }
  });

  describe("in the service's own simulator, as npm start runs it", () => {
    let t: TestService;
    beforeAll(async () => {
      t = await startTestService({
        db: "pglite",
        carrier: "twilio",
        env: {
          CARRIER: "simulator",
          VOICE_GATE: "true",
          SIMULATOR_OUTCOMES: "+14155550171=answer:keys=-,+14155550172=busy,+14155550173=api-error:21211",
        },
      });
    });
    afterAll(() => t?.close());
    const phone = () => t.service.simulator!;

    it("lets a developer try the gate with no key pressed: the code is not read", async () => {
      const created = await t.api("POST", "/request-auth", { number: "+14155550171" });
      expect(created.status).toBe(201);
      const call = await phone().waitForCall({ to: "+14155550171" });
      expect(call.keysPressed).toEqual([]);
      expect(call.heard.join(" ")).not.toContain(PHRASES.en!.codeIs);
      expect(call.heard.at(-1)).toBe(PHRASES.en!.noKey);
      expect((await t.api("GET", `/challenges/${created.body.id}`)).body.status).toBe("pending");
    });

    it("plays a busy line and a carrier's refusal, and answers an unscripted number with the gate's digit", async () => {
      const busy = await t.api("POST", "/request-auth", { number: "+14155550172" });
      await phone().waitForCall({ to: "+14155550172" });
      await expect.poll(async () => (await t.api("GET", `/challenges/${busy.body.id}`)).body).toMatchObject({ status: "failed", failure_code: "call-busy" });

      const refused = await t.api("POST", "/request-auth", { number: "+14155550173" });
      expect(refused.status).toBeGreaterThanOrEqual(400);
      expect(refused.body.error).toMatchObject({ carrier_code: "21211" });

      const created = await t.api("POST", "/request-auth", { number: "+14155550174" });
      const code = codeHeard((await phone().waitForCall({ to: "+14155550174" })).heard);
      expect((await t.api("POST", "/validate-auth", { id: created.body.id, auth_code: code })).status).toBe(200);
    });

    it("logs what the phone heard with the challenge id and the masked number, never the number itself", async () => {
      const created = await t.api("POST", "/request-auth", { number: "+14155550175" });
      const code = codeHeard((await phone().waitForCall({ to: "+14155550175" })).heard);
      const lines = t.logLines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => String(l.msg).startsWith("the phone heard"));
      const line = lines.find((l) => l.challenge === created.body.id);
      expect(line).toMatchObject({ level: 30, to: "+1415•••0175" });
      expect(line!.msg).toMatch(new RegExp(`^the phone heard \\(challenge ${created.body.id}, \\+1415•••0175\\): Hello\\.`));
      // Its one purpose in development: the code, read out so that it can be typed in.
      expect(line!.msg).toContain(code.split("").join(" "));
      expect(t.logLines.join("\n")).not.toContain("+14155550175");
    });
  });
});
