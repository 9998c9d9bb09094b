import { z } from "zod";
import { optional, url } from "../../config/env-types.js";
import type { CarrierPlugin } from "../carrier.js";
import type { SignalWireSettings } from "./settings.js";
import { TWIML_FIELDS } from "../twilio/index.js";

/**
 * SignalWire's LaML API, Twilio's wire format: its own SDK (a fork of twilio-node)
 * places calls and checks signatures; reading webhooks and mapping errors are Twilio's.
 */

/**
 * The space's host name: the SDK's base URL is `https://${space}`. The dashboard shows
 * the space as a URL, so a pasted https://example.signalwire.com/ is cut to its host
 * rather than making every call go to https://https://example.signalwire.com/.
 */
const spaceHost = z
  .string()
  .trim()
  .transform((s, ctx) => {
    let host = s.replace(/\/+$/, "");
    if (/^[a-z][a-z0-9+.-]*:\/\//i.test(s)) {
      const url = URL.canParse(s) ? new URL(s) : undefined;
      host = url && /^https?:$/.test(url.protocol) ? url.host : "";
    }
    if (/^[a-z0-9](?:[a-z0-9.-]*[a-z0-9])?(?::\d{1,5})?$/i.test(host)) return host.toLowerCase();
    ctx.addIssue({ code: "custom", message: "must be your space's host name, such as example.signalwire.com (from the dashboard's address)" });
    return z.NEVER;
  });

const variables = {
  SIGNALWIRE_PROJECT: optional(z.string().min(1)),
  SIGNALWIRE_TOKEN: optional(z.string().min(1)),
  SIGNALWIRE_SPACE: optional(spaceHost),
  SIGNALWIRE_NUMBER: optional(z.string().min(1)),
  SIGNALWIRE_SIGNING_KEY: optional(z.string().min(1)),
  SIGNALWIRE_API_BASE_URL: optional(url),
};

/**
 * Our tags that the language list of SignalWire's <Say> was seen to name. Its French and
 * Portuguese entries could not be checked, so basic voices are refused there until they are.
 */
const SAY_TAGS = ["en-US", "en-GB", "en-AU", "en-CA", "en-IN", "en-GB-WLS", "es-ES", "es-MX", "es-US", "de-DE"];

export const signalwireCarrier = {
  name: "signalwire",
  title: "SignalWire",
  configSchema: z.object(variables),
  requiredVariables: ["SIGNALWIRE_PROJECT", "SIGNALWIRE_TOKEN", "SIGNALWIRE_SPACE", "SIGNALWIRE_NUMBER"],
  whereToFind: "the SignalWire dashboard",
  settings: (v) => ({
    project: v.SIGNALWIRE_PROJECT!,
    token: v.SIGNALWIRE_TOKEN!,
    space: v.SIGNALWIRE_SPACE!,
    from: v.SIGNALWIRE_NUMBER!,
    signingKey: v.SIGNALWIRE_SIGNING_KEY ?? v.SIGNALWIRE_TOKEN!,
    apiBaseUrl: v.SIGNALWIRE_API_BASE_URL,
  }),
  signatureHeaders: {
    "x-signalwire-signature": "computed as Twilio's with SIGNALWIRE_SIGNING_KEY (X-Twilio-Signature is accepted too).",
  },
  // cXML <Say>: `Polly.<Id>` and `Polly.<Id>-Neural` (no generative engine is documented
  // there), Google voices as `gcloud.<name>`; man, woman and alice (deprecated).
  voices: { polly: ["standard", "neural"], googlePrefix: "gcloud.", basic: { man: SAY_TAGS, woman: SAY_TAGS, alice: SAY_TAGS } },
  webhookDocs: { markup: "LaML", fields: TWIML_FIELDS },
  connect: async (settings, opts) => (await import("./client.js")).connectSignalWire(settings, opts),
} satisfies CarrierPlugin<typeof variables, SignalWireSettings>;

export type { SignalWireSettings } from "./settings.js";
