import { CarrierError } from "../carrier.js";
import { maskNumbers } from "../mask.js";
import { refusalOf } from "./refusals.js";

/**
 * The error mapping of Twilio and SignalWire: whatever their SDK threw, as a
 * CarrierError. Both SDKs are twilio-node underneath: RestException for a JSON error
 * reply, an Axios error for network trouble and timeouts, SyntaxError for a reply that
 * is not JSON. Every refusal keeps the carrier's own code (21211, 20003…), and a 4xx
 * one (nothing was placed) says what it means in our words. `credentials` are the
 * variables to check when the carrier refuses them.
 */
export function sdkError(carrier: string, err: unknown, timeoutMs: number, credentials: readonly string[]): CarrierError {
  if (err instanceof CarrierError) return err;
  const e = (typeof err === "object" && err !== null ? err : {}) as Record<string, unknown>;
  const message = typeof e.message === "string" ? e.message : String(err);

  if (typeof e.status === "number" && e.status >= 400) {
    // RestException {status, code, message, moreInfo}; TwilioServiceException {status, code, title, detail}.
    const code = e.code !== undefined && e.code !== null ? String(e.code) : `http_${e.status}`;
    // twilio 6 makes a RestException even of a body that is not JSON (an HTML 502 from a
    // proxy): no code, only its own placeholder message. That is not the carrier's API speaking.
    const text = [e.title, e.detail, e.message].find(
      (v): v is string => typeof v === "string" && v.length > 0 && !/^\[HTTP \d+\] Failed to execute request$/.test(v),
    );
    if (text === undefined && code.startsWith("http_")) {
      return new CarrierError(carrier, "bad_response", code, `the ${carrier} API answered HTTP ${e.status} with something that is not its error format`, e.status);
    }
    // A 4xx is a refusal of the request: the carrier placed nothing. A 5xx may come after it did.
    const refused = e.status < 500 ? refusalOf(code, e.status, credentials) : {};
    return new CarrierError(carrier, "rejected", code, maskNumbers(text ?? `HTTP ${e.status}`), e.status, refused);
  }
  const code = typeof e.code === "string" ? e.code : undefined;
  if (code === "ECONNABORTED" || code === "ETIMEDOUT" || code === "ESOCKETTIMEDOUT" || /timeout/i.test(message)) {
    return new CarrierError(carrier, "timeout", "timeout", `no answer from the ${carrier} API within ${timeoutMs} ms`);
  }
  if (code && /^E[A-Z_]+$/.test(code)) {
    return new CarrierError(carrier, "unreachable", code, `cannot reach the ${carrier} API (${code}); check the network and the API base URL`);
  }
  if (err instanceof SyntaxError) {
    return new CarrierError(carrier, "bad_response", "bad_response", `the ${carrier} API answered with something that is not JSON`);
  }
  const status = typeof (e.response as { status?: unknown } | undefined)?.status === "number"
    ? ((e.response as { status: number }).status)
    : undefined;
  return new CarrierError(carrier, "bad_response", code ?? "bad_response", maskNumbers(message), status);
}
