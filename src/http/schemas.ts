import { isIP } from "node:net";
import { z } from "zod";
import { LANGUAGES } from "../voice/phrases.js";

/**
 * Request shapes: one schema validates (readBody), types the handler and documents
 * the route (the OpenAPI declarations next to each route). `.meta()` only adds
 * descriptions; it changes nothing a schema accepts.
 */

const text = (max: number) => z.string().trim().min(1).max(max);

export const requestAuthBody = z
  .object({
    number: text(32).meta({
      description: "The number to call: E.164 (`+14155550123`) or a national number in DEFAULT_COUNTRY (`(415) 555-0123`).",
    }),
    language: text(16)
      .optional()
      .meta({
        description:
          `A language (${LANGUAGES.map((l) => `\`${l}\``).join(", ")}), spoken in its usual region, or a regional tag with voices such as \`pt-PT\`, \`de-CH\` or \`ar-AE\`. Without it: the number's country's language when the key's service lists it in \`languages\`, else the service's \`language\`.`,
      }),
    // The end user's address: the caller is usually one backend server, so its own says nothing.
    client_ip: z
      .string()
      .trim()
      .refine((v) => isIP(v) !== 0, "client_ip must be an IPv4 or IPv6 address")
      .optional()
      .meta({ description: "The end user's IPv4 or IPv6 address, so that CALLS_PER_IP_PER_HOUR applies to it." }),
    // The messages never repeat the value: a validation error is answered and may be logged.
    code: z
      .string({ error: "code must be a string of 4 to 10 digits (a JSON number would lose leading zeros)" })
      .regex(/^\d{4,10}$/, "code must be 4 to 10 digits")
      .optional()
      .meta({
        description:
          "Your own code, when your sign-in system makes it (Supabase, Auth0, better-auth): 4 to 10 digits, whatever the service's `code_length`. Only for a key whose service has `allow_custom_code` (else 403 `custom_code_not_allowed`). It is sealed and spoken like a code of ours, checked by /validate-auth like one, wiped when the call ends, and never echoed: no response, error, log line or event holds it.",
      }),
  })
  .meta({ id: "RequestAuthBody", description: "Asks for a call that reads a new code to `number`." });

export const validateAuthBody = z
  .object({
    number: text(32)
      .optional()
      .meta({ description: "The number as given to /request-auth (any format it accepts); its latest challenge is checked." }),
    id: text(64).optional().meta({ description: "The challenge id from /request-auth." }),
    auth_code: z
      .string({ error: "auth_code must be a string of digits (a JSON number would lose leading zeros)" })
      .trim()
      .regex(/^\d{1,20}$/, "auth_code must be digits only")
      .meta({ description: "What the user typed: digits only, as a string (a JSON number would lose leading zeros)." }),
  })
  .refine((b) => (b.number === undefined) !== (b.id === undefined), {
    message: "send either number or id, not both",
    path: ["number"],
  })
  .meta({ id: "ValidateAuthBody", description: "Checks a code. Send either `number` or `id`, not both." });

/** A challenge id as the routes accept it; anything else is answered as unknown (404, or no code on a call). */
export const challengeId = z
  .string()
  .regex(/^[\w-]{1,64}$/)
  .meta({ description: "A challenge id, as returned by /request-auth." });

/** Idempotency-Key: 1-255 visible ASCII characters. */
export const idempotencyKey = z
  .string()
  .regex(/^[\x21-\x7e]{1,255}$/)
  .meta({
    description:
      "Makes a retry safe: a repeat with the same key and body (compared by its fields) within 24 hours replays the first answer and places no second call; a refusal (409, 429) or a failure (500, 503) is not kept. 1-255 visible ASCII characters, e.g. a UUID per sign-in attempt.",
  });

export type RequestAuthBody = z.infer<typeof requestAuthBody>;
export type ValidateAuthBody = z.infer<typeof validateAuthBody>;
