// voice-otp as the delivery of better-auth's phone-number plugin: better-auth makes,
// stores and checks the code; voice-otp calls the number and reads that code aloud
// (POST /request-auth with `code`, which the key's service must allow).
//
// better-auth is imported here for its types only. What is needed of it at run time
// (APIError, getIP) is loaded when a code is sent, from the better-auth that is calling,
// so installing voice-otp never requires better-auth.
import type { GenericEndpointContext } from "better-auth";
import type { PhoneNumberOptions } from "better-auth/plugins/phone-number";
import { VoiceOtpClient, VoiceOtpError, type ClientOptions } from "../client/index.js";

export interface VoiceOtpSendOTPOptions extends Pick<ClientOptions, "baseUrl" | "apiKey" | "timeoutMs" | "retries" | "fetch"> {
  /** The language of the call (`en`, `es-MX`…). Without it, voice-otp picks by the number's country, else the service's language. */
  language?: string;
}

type SendOTP = PhoneNumberOptions["sendOTP"];
type BetterAuthApi = typeof import("better-auth/api");
type APIError = InstanceType<BetterAuthApi["APIError"]>;

/**
 * A `sendOTP` for better-auth's phone-number plugin (also fits `sendPasswordResetOTP`).
 * It resolves once the carrier accepted the call. A refusal throws better-auth's
 * APIError, so the request answers 400 (`INVALID_PHONE_NUMBER`, `DESTINATION_NOT_ALLOWED`),
 * 429 (`RATE_LIMITED`, `ATTEMPTS_EXHAUSTED`, with Retry-After) or 5xx; the VoiceOtpError
 * behind it is the APIError's `cause`. A 5xx is also written to better-auth's logger,
 * which does not log the APIErrors it answers with.
 */
export function voiceOtpSendOTP(options: VoiceOtpSendOTPOptions): SendOTP {
  const { language, ...clientOptions } = options;
  const client = new VoiceOtpClient(clientOptions);
  return async ({ phoneNumber, code }, ctx) => {
    const api: BetterAuthApi = await import("better-auth/api");
    try {
      await client.requestAuth(phoneNumber, {
        code,
        language,
        clientIp: endUserAddress(api, ctx),
        // A fresh key per code: the client may then retry a request whose answer was lost
        // (the service replays it instead of ringing the phone twice).
        idempotencyKey: crypto.randomUUID(),
      });
    } catch (err) {
      // Anything else is a bug: better-auth logs it and answers 500 itself.
      if (!(err instanceof VoiceOtpError)) throw err;
      const refusal = asApiError(api, err);
      if (refusal.statusCode >= 500) {
        // voice-otp's messages never hold a code; the request id finds its side in its log.
        const line = `voice-otp did not place the call: ${err.code} (${err.status || "no answer"}${err.requestId ? `, request ${err.requestId}` : ""}): ${err.message}`;
        ctx?.context.logger[refusal.statusCode === 500 ? "error" : "warn"](line);
      }
      throw refusal;
    }
  };
}

/**
 * The end user's address as better-auth itself resolves it (its `advanced.ipAddress`
 * headers and trusted proxies), for voice-otp's calls-per-address limit. A loopback
 * address is better-auth's development fallback, not a user: left out.
 */
function endUserAddress(api: BetterAuthApi, ctx: GenericEndpointContext | undefined): string | undefined {
  const source = ctx?.request ?? ctx?.headers;
  if (!ctx || !source) return undefined;
  const ip = api.getIP(source, ctx.context.options);
  if (!ip || ip === "::1" || ip.startsWith("127.")) return undefined;
  return ip;
}

/**
 * What the end user's request answers. A refusal about the number or its limits is
 * theirs to act on and keeps voice-otp's message (never a code); anything else (a wrong
 * key, a service that may not take codes, the carrier failing) is the deployment's, and
 * says only that the call could not be placed.
 */
function asApiError({ APIError }: BetterAuthApi, err: VoiceOtpError): APIError {
  const cause = { cause: err };
  // An empty or overlong number fails voice-otp's validation before it is parsed: the same mistake.
  const badNumber = err.code === "invalid_number" || (err.code === "invalid_request" && err.details.field === "number");
  if (badNumber) return new APIError("BAD_REQUEST", { code: "INVALID_PHONE_NUMBER", message: err.message, ...cause });
  if (err.code === "destination_not_allowed") return new APIError("BAD_REQUEST", { code: "DESTINATION_NOT_ALLOWED", message: err.message, ...cause });
  if (err.status === 429) {
    const retryAfter = Number(err.details.retry_after_seconds ?? 0);
    const headers = retryAfter > 0 ? { "Retry-After": String(retryAfter) } : {};
    return new APIError("TOO_MANY_REQUESTS", { code: err.code.toUpperCase(), message: err.message, ...cause }, headers);
  }
  if (err.status === 503 || err.status === 0) {
    return new APIError("SERVICE_UNAVAILABLE", { code: "VOICE_CALL_UNAVAILABLE", message: "the verification call cannot be placed right now; try again shortly", ...cause });
  }
  if (err.status === 502 || err.status === 504) {
    return new APIError("BAD_GATEWAY", { code: "VOICE_CALL_FAILED", message: "the verification call could not be placed; try again", ...cause });
  }
  // 401, 403, another 4xx: the deployment's configuration.
  return new APIError("INTERNAL_SERVER_ERROR", { code: "VOICE_CALL_FAILED", message: "the verification call could not be placed", ...cause });
}
