import { createRoute } from "@hono/zod-openapi";
import { z } from "zod";
import { errorResponses } from "../error-docs.js";
import { publicRoute, withRequestId } from "../openapi-route.js";

/** The carrier webhooks as the OpenAPI document declares them. */

const formValue = z.union([z.string(), z.array(z.string())]);
const field = (description: string) => formValue.optional().meta({ description });

/** What a webhook POST may carry: text fields only (the route refuses anything else before the signature check). */
export const webhookForm = z
  .object({
    CallSid: field("The call's id at the carrier. A voice webhook from another call than the one placed for the challenge hears no code."),
    AccountSid: field("The carrier account (Twilio) or project (SignalWire)."),
    CallStatus: field("queued, initiated, ringing, in-progress, completed, busy, no-answer, failed or canceled."),
    AnsweredBy: field("The answering-machine verdict (human, machine_start, fax, …) when detection is on; a machine hears no code."),
    Digits: field("The key pressed, on the gate and repeat steps."),
  })
  .catchall(formValue)
  .meta({
    id: "CarrierWebhookForm",
    description:
      "The carrier's form fields, all covered by its signature. Text only; a repeated field keeps every value for the signature and its first value is used.",
  });

const example = {
  CallSid: "CA5e1f0c9a8b7d6e5f4a3b2c1d0e9f8a7b",
  AccountSid: "AC0123456789abcdef0123456789abcdef",
  From: "+15005550006",
  To: "+14155550123",
  Direction: "outbound-api",
  ApiVersion: "2010-04-01",
};

const signatures = z.object({
  "X-Twilio-Signature": z.string().optional().meta({
    param: { example: "0uYgPdm4Kpx5vQ6d9T7yGBZ2zGc=" },
    description: "Twilio's HMAC-SHA1 (base64) over PUBLIC_BASE_URL + this path and query + the sorted form fields, keyed with TWILIO_AUTH_TOKEN.",
  }),
  "X-SignalWire-Signature": z.string().optional().meta({
    description: "SignalWire's signature, computed the same way with SIGNALWIRE_SIGNING_KEY (X-Twilio-Signature is accepted too).",
  }),
});

// Documented, not enforced: a webhook is answered only after its signature is checked,
// so these accept any text (repeated too) and the handler treats what it cannot use as unknown.
const anyText = formValue.optional();
const query = z.object({
  c: anyText.meta({ param: { example: "ch_w_pghrJuwBSBg7x0NbcBpA" }, description: "The challenge: a random id, never the code." }),
  step: anyText.meta({ description: "Set by the service's own follow-up URLs: `gate` after the gate key, `code` after the code was read." }),
  n: anyText.meta({ description: "Set by the service's own follow-up URLs: how many times the gate was asked, or the code repeated." }),
});

const TWIML =
  '<?xml version="1.0" encoding="UTF-8"?><Response><Say language="en-US" voice="Polly.Joanna">Hello. This is voice-otp with your verification code.</Say><Pause length="1"/><Gather action="https://otp.example.com/call-2fa?c=ch_w_pghrJuwBSBg7x0NbcBpA&amp;step=code&amp;n=1" method="POST" numDigits="1" timeout="5" input="dtmf"><Say language="en-US" voice="Polly.Joanna">Your code is:</Say><Say language="en-US" voice="Polly.Joanna"><say-as interpret-as="digits">4</say-as><break time="700ms"/><say-as interpret-as="digits">7</say-as><break time="700ms"/><say-as interpret-as="digits">1</say-as><break time="700ms"/><say-as interpret-as="digits">9</say-as><break time="700ms"/></Say><Say language="en-US" voice="Polly.Joanna">Again:</Say><Say language="en-US" voice="Polly.Joanna"><say-as interpret-as="digits">4</say-as><break time="700ms"/><say-as interpret-as="digits">7</say-as><break time="700ms"/><say-as interpret-as="digits">1</say-as><break time="700ms"/><say-as interpret-as="digits">9</say-as><break time="700ms"/></Say><Say language="en-US" voice="Polly.Joanna">Press any key to hear it again.</Say></Gather><Say language="en-US" voice="Polly.Joanna">Goodbye.</Say><Hangup/></Response>';

const formBody = (summary: string, value: Record<string, string>) => {
  const media = { schema: webhookForm, examples: { call: { summary, value } } };
  return { required: true, content: { "application/x-www-form-urlencoded": media, "multipart/form-data": media } };
};

const voice = (method: "get" | "post") =>
  createRoute({
    method,
    path: "/call-2fa",
    tags: ["Carrier webhooks"],
    summary: method === "post" ? "The call's voice XML (carrier webhook)" : "The call's voice XML, fetched with GET (carrier webhook)",
    description:
      "Called by the carrier, not by you: the service hands this URL to the carrier with each call. Answered only when the signature matches; then the TwiML (Twilio) or LaML (SignalWire) that reads the code twice and offers to repeat it. A challenge that has ended, or a request from another call, hears that the code is no longer available." +
      (method === "get" ? " With GET the carrier's fields come in the query string, covered by the signature over the URL." : ""),
    security: publicRoute,
    request: { query, headers: signatures, ...(method === "post" ? { body: formBody("The call was answered", { ...example, CallStatus: "in-progress" }) } : {}) },
    responses: {
      200: {
        description: "Voice XML for the carrier.",
        headers: withRequestId(),
        content: { "text/xml": { schema: z.string(), example: TWIML } },
      },
      ...errorResponses(
        method === "post"
          ? ["invalid_request", "invalid_signature", "payload_too_large", "unsupported_media_type", "internal_error", "service_unavailable"]
          : ["invalid_signature", "internal_error", "service_unavailable"],
        { invalid_request: { message: "carrier webhooks carry text fields only" }, unsupported_media_type: { message: "carrier webhooks are form posts" } },
      ),
    },
  });

export const voiceRoutes = { get: voice("get"), post: voice("post") };

export const callStatusRoute = createRoute({
  method: "post",
  path: "/call-status",
  tags: ["Carrier webhooks"],
  summary: "Call progress (carrier webhook)",
  description:
    "Called by the carrier, not by you. Records the call's progress once the signature matches; events only move forward, and a call nobody answered (busy, no-answer, failed, canceled) ends its challenge.",
  security: publicRoute,
  request: { query: query.pick({ c: true }), headers: signatures, body: formBody("The phone is ringing", { ...example, CallStatus: "ringing" }) },
  responses: {
    204: { description: "Recorded (or ignored: a replayed, late or unknown event).", headers: withRequestId() },
    ...errorResponses(["invalid_request", "invalid_signature", "payload_too_large", "unsupported_media_type", "internal_error", "service_unavailable"], {
      invalid_request: { message: "carrier webhooks carry text fields only" },
      unsupported_media_type: { message: "carrier webhooks are form posts" },
    }),
  },
});
