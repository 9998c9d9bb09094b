import { timingSafeEqual } from "node:crypto";
import twilio from "twilio";
import type { Carrier, CarrierOptions, PlaceCallRequest, WebhookRequest } from "../carrier.js";
import { createCall } from "./create-call.js";
import { sdkError } from "./errors.js";
import { LeanTwilioHttp } from "./http.js";
import type { TwilioSettings } from "./settings.js";
import { renderVoiceXml, type ResponseBuilder, type SayNode } from "./voice-xml.js";
import { answeringVerdict, parseTwimlWebhook } from "./webhook.js";

/** Create-call requests one process keeps open at once towards the carrier's API. */
const CALLS_IN_FLIGHT = 512;
/** What the operator checks when Twilio refuses the credentials (20003). */
const CREDENTIALS = ["TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN"];

export function connectTwilio(settings: TwilioSettings, opts: CarrierOptions): Carrier {
  const name = opts.name ?? "twilio";
  // autoRetry stays off: a retried create-call could ring the phone twice. The SDK's
  // agent allows 20 sockets per host by default: with a carrier taking 300 ms to
  // accept, that alone caps a process at ~66 calls/s however fast the rest is.
  const client = twilio(settings.accountSid, settings.authToken, {
    // The SDK's own client is the one that knows HTTP_PROXY and TWILIO_CA_BUNDLE.
    httpClient: settings.sdkHttpClient ? undefined : (new LeanTwilioHttp({ timeoutMs: opts.timeoutMs, maxSockets: CALLS_IN_FLIGHT }) as never),
    timeout: opts.timeoutMs,
    autoRetry: false,
    maxSockets: CALLS_IN_FLIGHT,
    maxTotalSockets: CALLS_IN_FLIGHT,
  });
  if (settings.apiBaseUrl) {
    client.api.baseUrl = settings.apiBaseUrl;
    // TWILIO_REGION / TWILIO_EDGE in the environment would rewrite the overridden host.
    client.region = undefined;
    client.edge = undefined;
  }

  return {
    name,
    placeCall: (req: PlaceCallRequest) =>
      createCall(name, opts.timeoutMs, CREDENTIALS, (o) => client.calls.create(o), settings.from, req),
    verifyWebhook(req: WebhookRequest) {
      const signature = req.headers["x-twilio-signature"];
      if (!signature) return false;
      // The URL as received is one of the strings the SDK's validator tries; it tries the
      // others (port added or taken away, query re-encoded) only when that one fails.
      const expected = Buffer.from(twilio.getExpectedTwilioSignature(settings.authToken, req.url, req.params));
      const given = Buffer.from(signature);
      if (given.length === expected.length && timingSafeEqual(given, expected)) return true;
      return twilio.validateRequest(settings.authToken, signature, req.url, req.params);
    },
    parseWebhook: parseTwimlWebhook,
    answeringVerdict,
    render(script) {
      const response = new twilio.twiml.VoiceResponse() as unknown as ResponseBuilder;
      const body = renderVoiceXml(response, script, (say: SayNode, ms) =>
        (say as unknown as { break(a: { time: string }): unknown }).break({ time: `${ms}ms` }),
      );
      return { contentType: "text/xml; charset=utf-8", body };
    },
    mapError: (err) => sdkError(name, err, opts.timeoutMs, CREDENTIALS),
  };
}
