import { z } from "zod";
import { optional, url } from "../../config/env-types.js";
import type { CarrierPlugin } from "../carrier.js";
import type { TelnyxSettings } from "./settings.js";
import { TWIML_FIELDS } from "../twilio/index.js";

/**
 * Telnyx, voice through TeXML: the `telnyx` SDK places calls on a TeXML application;
 * webhooks are form posts signed with Ed25519 (signature.ts), their fields TwiML's.
 */

/** A raw Ed25519 public key: 32 bytes, base64 as the portal shows it. */
const ed25519Key = z
  .string()
  .trim()
  .refine((k) => /^[A-Za-z0-9+/]{43}=$/.test(k) && Buffer.from(k, "base64").length === 32, "must be the base64 Ed25519 public key from the portal (32 bytes)");

const variables = {
  TELNYX_API_KEY: optional(z.string().min(1)),
  TELNYX_PUBLIC_KEY: optional(ed25519Key),
  TELNYX_APPLICATION_ID: optional(z.string().regex(/^[\w-]{1,64}$/, "must be the TeXML application's id (digits, as the portal shows it)")),
  TELNYX_NUMBER: optional(z.string().min(1)),
  TELNYX_API_BASE_URL: optional(url),
};

export const telnyxCarrier = {
  name: "telnyx",
  title: "Telnyx",
  configSchema: z.object(variables),
  requiredVariables: ["TELNYX_API_KEY", "TELNYX_PUBLIC_KEY", "TELNYX_APPLICATION_ID", "TELNYX_NUMBER"],
  whereToFind: "the Telnyx portal: API Keys, Keys & Credentials > Public Key, your TeXML application, your number",
  settings: (v) => ({
    apiKey: v.TELNYX_API_KEY!,
    publicKey: v.TELNYX_PUBLIC_KEY!,
    applicationId: v.TELNYX_APPLICATION_ID!,
    from: v.TELNYX_NUMBER!,
    apiBaseUrl: v.TELNYX_API_BASE_URL,
  }),
  signatureHeaders: {
    "telnyx-signature-ed25519":
      "Ed25519 signature (base64) of `telnyx-timestamp|raw body`, checked with TELNYX_PUBLIC_KEY. It does not cover the URL: a request from another call than the one placed hears no code.",
    "telnyx-timestamp": "Unix seconds when it signed the request; more than 5 minutes away from now is refused (replay).",
  },
  // TeXML <Say>: `Polly.<Id>` and `Polly.<Id>-Neural`, no Google voices; man and woman
  // speak en-US only; alice takes a language, but no list of them is documented.
  voices: {
    polly: ["standard", "neural"],
    basic: { man: ["en-US"], woman: ["en-US"] },
  },
  webhookDocs: { markup: "TeXML", fields: TWIML_FIELDS },
  connect: async (settings, opts) => (await import("./client.js")).connectTelnyx(settings, opts),
} satisfies CarrierPlugin<typeof variables, TelnyxSettings>;

export type { TelnyxSettings } from "./settings.js";
