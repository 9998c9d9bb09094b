import twilio from "twilio";
import type { TwilioSettings } from "../config.js";
import { CarrierError, type Carrier, type CarrierName, type PlaceCallRequest, type WebhookRequest } from "./carrier.js";
import { sdkError } from "./sdk-errors.js";
import { renderVoiceXml, type ResponseBuilder, type SayNode } from "./voice-xml.js";

export const STATUS_EVENTS = ["initiated", "ringing", "answered", "completed"] as const;
/** Seconds the callee's phone rings before the carrier gives up with no-answer. */
export const RING_SECONDS = 30;

export interface CarrierOptions {
  timeoutMs: number;
  /** "simulator" when this client talks to the in-process simulator. */
  name?: CarrierName;
}

export function createTwilioCarrier(settings: TwilioSettings, opts: CarrierOptions): Carrier {
  const name = opts.name ?? "twilio";
  // autoRetry stays off: a retried create-call could ring the phone twice.
  const client = twilio(settings.accountSid, settings.authToken, { timeout: opts.timeoutMs, autoRetry: false });
  if (settings.apiBaseUrl) {
    client.api.baseUrl = settings.apiBaseUrl;
    // TWILIO_REGION / TWILIO_EDGE in the environment would rewrite the overridden host.
    client.region = undefined;
    client.edge = undefined;
  }

  return {
    name,
    async placeCall(req: PlaceCallRequest) {
      let call;
      try {
        call = await client.calls.create({
          to: req.to,
          from: settings.from,
          url: req.url,
          method: "POST",
          statusCallback: req.statusCallback,
          statusCallbackMethod: "POST",
          statusCallbackEvent: [...STATUS_EVENTS],
          timeout: RING_SECONDS,
          ...(req.machineDetection ? { machineDetection: "Enable" } : {}),
        });
      } catch (err) {
        throw sdkError(name, err, opts.timeoutMs);
      }
      if (typeof call?.sid !== "string" || call.sid.length === 0) {
        throw new CarrierError(name, "bad_response", "bad_response", `the ${name} API accepted the call but returned no call sid`);
      }
      return { callSid: call.sid, status: call.status ?? "queued" };
    },
    verifySignature(req: WebhookRequest) {
      const signature = req.headers["x-twilio-signature"];
      if (!signature) return false;
      return twilio.validateRequest(settings.authToken, signature, req.url, req.params);
    },
    voiceResponse(script) {
      const response = new twilio.twiml.VoiceResponse() as unknown as ResponseBuilder;
      return renderVoiceXml(response, script, (say: SayNode, ms) =>
        (say as unknown as { break(a: { time: string }): unknown }).break({ time: `${ms}ms` }),
      );
    },
  };
}
