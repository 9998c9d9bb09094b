import { z } from "zod";
import { optional, url } from "../../config/env-types.js";
import type { CarrierPlugin } from "../carrier.js";
import type { TwilioSettings } from "./settings.js";

/** Twilio: the `twilio` SDK places calls and checks signatures; its builder writes TwiML. */

const variables = {
  TWILIO_ACCOUNT_SID: optional(z.string().regex(/^AC[0-9a-fA-F]{32}$/, "must look like AC followed by 32 hex digits")),
  TWILIO_AUTH_TOKEN: optional(z.string().min(1)),
  TWILIO_NUMBER: optional(z.string().min(1)),
  TWILIO_API_BASE_URL: optional(url),
  // Read by the twilio SDK itself; here only to know that its own HTTP client is needed.
  TWILIO_CA_BUNDLE: optional(z.string().min(1)),
};

/** TwiML's webhook fields, shared with SignalWire's LaML. */
export const TWIML_FIELDS = {
  CallSid: "The call's id at the carrier. A voice webhook from another call than the one placed for the challenge hears no code.",
  AccountSid: "The carrier account (Twilio, Telnyx) or project (SignalWire).",
  CallStatus: "queued, initiated, ringing, in-progress, completed, busy, no-answer, failed or canceled.",
  AnsweredBy: "The answering-machine verdict (human, machine_start, fax, …) when detection is on; a machine hears no code.",
  Digits: "The key pressed, on the gate and repeat steps.",
};

export const twilioCarrier = {
  name: "twilio",
  title: "Twilio",
  configSchema: z.object(variables),
  requiredVariables: ["TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "TWILIO_NUMBER"],
  whereToFind: "the Twilio console",
  settings: (v) => ({
    accountSid: v.TWILIO_ACCOUNT_SID!,
    authToken: v.TWILIO_AUTH_TOKEN!,
    from: v.TWILIO_NUMBER!,
    apiBaseUrl: v.TWILIO_API_BASE_URL,
    sdkHttpClient: v.HTTP_PROXY !== undefined || v.TWILIO_CA_BUNDLE !== undefined,
  }),
  signatureHeaders: {
    "x-twilio-signature":
      "HMAC-SHA1 (base64) over PUBLIC_BASE_URL + this path and query + the sorted form fields, keyed with TWILIO_AUTH_TOKEN.",
  },
  // TwiML <Say>: Polly voices in all three engines, Google voices as `Google.<name>`.
  // Basic voices: man and woman speak en, en-gb, es, fr and de; alice the locales its list gives.
  voices: {
    polly: ["standard", "neural", "generative"],
    googlePrefix: "Google.",
    basic: {
      man: ["en-US", "en-GB", "es-ES", "fr-FR", "de-DE"],
      woman: ["en-US", "en-GB", "es-ES", "fr-FR", "de-DE"],
      alice: ["en-US", "en-GB", "en-AU", "en-CA", "en-IN", "es-ES", "es-MX", "fr-FR", "fr-CA", "de-DE", "pt-BR", "pt-PT"],
    },
  },
  webhookDocs: { markup: "TwiML", fields: TWIML_FIELDS },
  connect: async (settings, opts) => (await import("./client.js")).connectTwilio(settings, opts),
} satisfies CarrierPlugin<typeof variables, TwilioSettings>;

export type { TwilioSettings } from "./settings.js";
