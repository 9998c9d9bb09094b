import { z } from "zod";
import type { ErrorCode } from "../http/errors.js";

/**
 * Supabase's Send SMS hook in our words: what its request carries and which of it we read,
 * and how our answers become its error shape. Supabase Auth POSTs
 * `{user: {phone, …}, sms: {otp}}` (newer versions add `sms.phone`, the number the code is
 * for, which differs from `user.phone` for MFA factors and phone changes, and `metadata`),
 * signed per Standard Webhooks. It reads an answer only when it is 200 (or 202): `{}` means
 * sent, and `{"error": {"http_code": N, "message": "…"}}` fails the sign-in with that status
 * and message. Any other status fails it with a generic 500, and a 429 or 503 carrying
 * Retry-After makes it send the same request again at once, so refusals are answered 200.
 */

/** Supabase keeps numbers as E.164 digits, with or without the `+`. */
const phone = z.string().trim().max(32).regex(/^\+?[\d\s().-]{3,}$/);

export const sendSmsPayload = z.object({
  user: z.looseObject({ phone: z.union([phone, z.literal("")]).optional() }),
  sms: z.looseObject({
    // Never echoed: the messages name the field, not its value.
    otp: z.string({ error: "sms.otp must be a string of digits" }).regex(/^\d{4,10}$/, "sms.otp must be 4 to 10 digits"),
    phone: z.union([phone, z.literal("")]).optional(),
  }),
});

export type SendSmsPayload = z.infer<typeof sendSmsPayload>;

/** The number to call: the one the code is for, else the user's own; undefined when neither is given. */
export function destination(payload: SendSmsPayload): string | undefined {
  const raw = payload.sms.phone || payload.user.phone;
  if (!raw) return undefined;
  return /^\d+$/.test(raw) ? `+${raw}` : raw;
}

export interface HookError {
  /** The status Supabase answers the sign-in with. */
  http_code: number;
  /** Shown to the person signing in: plain words, nothing of our configuration. */
  message: string;
}

const wait = (seconds: unknown) => (typeof seconds === "number" ? ` Try again in ${seconds} seconds.` : " Try again later.");

/**
 * Our refusal as the person signing in should read it. The catalogue's messages speak to
 * the operator (variables, limits' names); the service's log keeps those.
 */
export function hookError(code: ErrorCode, status: number, details?: Record<string, unknown>): HookError {
  switch (code) {
    case "invalid_number":
      return { http_code: 400, message: "This phone number cannot be called. Check it and try again." };
    case "destination_not_allowed":
      return { http_code: 400, message: "Verification calls to this phone number are not allowed." };
    case "rate_limited":
      return { http_code: 429, message: `Too many verification calls to this phone number.${wait(details?.retry_after_seconds)}` };
    case "attempts_exhausted":
      return { http_code: 429, message: `Too many wrong codes for this phone number.${wait(details?.retry_after_seconds)}` };
    case "carrier_throttled":
    case "carrier_auth_failed":
    case "service_unavailable":
    case "shutting_down":
      return { http_code: 503, message: "The verification call could not be placed right now. Try again shortly." };
    case "carrier_error":
    case "carrier_timeout":
      return { http_code: status, message: "The verification call could not be placed. Try again shortly." };
    default:
      return { http_code: status >= 500 ? 500 : status, message: "The verification call could not be placed." };
  }
}
