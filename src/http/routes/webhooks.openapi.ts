import { createRoute } from "@hono/zod-openapi";
import { z } from "zod";
import { CARRIERS } from "../../carriers/registry.js";
import { errorResponses } from "../error-docs.js";
import { publicRoute, withRequestId } from "../openapi-route.js";

/** The carrier webhooks as the OpenAPI document declares them. */

const formValue = z.union([z.string(), z.array(z.string())]);
const field = (description: string) => formValue.optional().meta({ description });

const carriers = Object.values(CARRIERS);
/** A list in prose: "a, b or c". */
const either = (items: string[]) => items.join(", ").replace(/, ([^,]+)$/, " or $1");

/** Each carrier's documented fields; a field several carriers send says which. */
const fields: Record<string, { description: string; carriers: string[] }> = {};
for (const c of carriers) {
  for (const [name, description] of Object.entries(c.webhookDocs.fields)) {
    (fields[name] ??= { description, carriers: [] }).carriers.push(c.title);
  }
}

/** What a webhook POST may carry: text fields only (the route refuses anything else before the signature check). */
export const webhookForm = z
  .object(
    Object.fromEntries(
      Object.entries(fields).map(([name, f]) => [
        name,
        field(f.carriers.length === carriers.length ? f.description : `${f.description} (${either(f.carriers)})`),
      ]),
    ),
  )
  .catchall(formValue)
  .meta({
    id: "CarrierWebhookForm",
    description:
      "The carrier's form fields, all covered by its signature; each carrier's fields are read by its own module and nothing else. Text only; a repeated field keeps every value for the signature and its first value is used.",
  });

const example = {
  CallSid: "CA5e1f0c9a8b7d6e5f4a3b2c1d0e9f8a7b",
  AccountSid: "AC0123456789abcdef0123456789abcdef",
  From: "+15005550006",
  To: "+14155550123",
  Direction: "outbound-api",
  ApiVersion: "2010-04-01",
};

/** Header names as the carriers write them in their documentation. */
const headerName = (lower: string) => lower.replace(/(^|-)([a-z])/g, (_, dash: string, ch: string) => dash + ch.toUpperCase()).replace("Signalwire", "SignalWire");

const signatures = z.object(
  Object.fromEntries(
    carriers.flatMap((c) =>
      Object.entries(c.signatureHeaders).map(([name, description]) => [
        headerName(name),
        z.string().optional().meta({ description: `${c.title}: ${description}` }),
      ]),
    ),
  ),
);
const markups = either(carriers.map((c) => `${c.webhookDocs.markup} (${c.title})`));

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

/**
 * Documented as a JSON Schema rather than the zod schema: @hono/zod-openapi would then
 * parse every webhook's form through FormData before the route does, a large share of
 * a webhook's CPU; the route reads the form itself and checks it against webhookForm.
 */
const webhookFormJson = (z.toJSONSchema(webhookForm) as { $defs: Record<string, Record<string, unknown>> }).$defs.CarrierWebhookForm!;

const formBody = (summary: string, value: Record<string, string>) => {
  const media = { schema: webhookFormJson, examples: { call: { summary, value } } };
  return { required: true, content: { "application/x-www-form-urlencoded": media, "multipart/form-data": media } };
};

export const voiceRoute = createRoute({
  method: "post",
  path: "/call-2fa",
  tags: ["Carrier webhooks"],
  summary: "The call's voice XML (carrier webhook)",
  description:
    `Called by the carrier, not by you: the service hands this URL to the carrier with each call. Answered only when the signature matches; then the ${markups} that reads the code twice and offers to repeat it. A challenge that has ended, or a request from another call, hears that the code is no longer available. The service always asks the carrier for POST; a GET is refused with 405.`,
  security: publicRoute,
  request: { query, headers: signatures, body: formBody("The call was answered", { ...example, CallStatus: "in-progress" }) },
  responses: {
    200: {
      description: "Voice XML for the carrier.",
      headers: withRequestId(),
      content: { "text/xml": { schema: z.string(), example: TWIML } },
    },
    ...errorResponses(
      ["invalid_request", "invalid_signature", "payload_too_large", "unsupported_media_type", "internal_error", "service_unavailable"],
      { invalid_request: { message: "carrier webhooks carry text fields only" }, unsupported_media_type: { message: "carrier webhooks are form posts" } },
    ),
  },
});

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
