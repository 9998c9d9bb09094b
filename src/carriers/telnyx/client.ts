import Telnyx, { APIConnectionError, APIConnectionTimeoutError, APIError } from "telnyx";
import { CarrierError, type Carrier, type CarrierOptions, type PlaceCallRequest, type PlacedCall, type WebhookRequest } from "../carrier.js";
import { maskNumbers } from "../mask.js";
import type { TelnyxSettings } from "./settings.js";
import { refusalOf, type TelnyxErrorObject } from "./refusals.js";
import { ed25519PublicKey, verifyTelnyxSignature } from "./signature.js";
import { renderTexml } from "./texml.js";
import { answeringVerdict, callStatusOf, parseTexmlWebhook } from "./webhook.js";

const API_ROOT = "https://api.telnyx.com/v2";
/**
 * The progress events asked for, as TeXML takes them: one string, space-separated.
 * Not `initiated`: the create-call answer already says the call is queued.
 */
const STATUS_EVENTS = "ringing answered completed";
/** Seconds the callee's phone rings before Telnyx gives up (TeXML: 5 to 120). */
const RING_SECONDS = 30;

/**
 * The SDK's create-call for a TeXML application (`texml.calls.create`, POST
 * /texml/calls/{application id}) declares From, To, Url, Method and Texml only; the
 * status callback, its events, machine detection and the ring timeout are the
 * parameters Telnyx documents for TeXML calls (API reference and the AMD guide, which
 * posts them to this same path). The SDK sends the body as JSON as given.
 */
type CreateParams = Parameters<Telnyx["texml"]["calls"]["create"]>[1] & {
  StatusCallback: string;
  StatusCallbackMethod: "POST";
  StatusCallbackEvent: string;
  Timeout: number;
  MachineDetection?: "Enable";
};

export function connectTelnyx(settings: TelnyxSettings, opts: CarrierOptions): Carrier {
  const name = opts.name ?? "telnyx";
  const client = new Telnyx({
    apiKey: settings.apiKey,
    // Explicit, so TELNYX_BASE_URL in the environment cannot redirect the API key elsewhere.
    baseURL: settings.apiBaseUrl ?? API_ROOT,
    timeout: opts.timeoutMs,
    // The SDK retries connection errors, timeouts, 408, 409, 429 and 5xx twice by
    // default: a retried create-call could ring the phone twice.
    maxRetries: 0,
    // Its debug log would print request bodies, which hold the phone number.
    logLevel: "off",
  });
  const key = ed25519PublicKey(settings.publicKey);
  const nowSeconds = opts.nowSeconds ?? (() => Math.floor(Date.now() / 1000));

  function mapError(err: unknown): CarrierError {
    if (err instanceof CarrierError) return err;
    if (err instanceof APIConnectionTimeoutError) {
      return new CarrierError(name, "timeout", "timeout", `no answer from the ${name} API within ${opts.timeoutMs} ms`);
    }
    if (err instanceof APIError && typeof err.status === "number") {
      // Telnyx errors: {"errors": [{"code": "10002", "title": "Invalid phone number", "detail": "…"}]}
      const first = (err.error as { errors?: TelnyxErrorObject[] } | undefined)?.errors?.[0];
      if (!first) {
        return new CarrierError(name, "bad_response", `http_${err.status}`, `the ${name} API answered HTTP ${err.status} with something that is not its error format`, err.status);
      }
      const code = first.code !== undefined && first.code !== null ? String(first.code) : `http_${err.status}`;
      const text = [first.detail, first.title].find((v): v is string => typeof v === "string" && v.length > 0) ?? `HTTP ${err.status}`;
      // A 4xx is a refusal of the request: Telnyx placed nothing. A 5xx may come after it did.
      const refused = err.status < 500 ? refusalOf(first, err.status, err.headers) : {};
      return new CarrierError(name, "rejected", code, maskNumbers(text), err.status, refused);
    }
    if (err instanceof APIConnectionError) {
      // fetch's TypeError("fetch failed") holds node's error, with its code, as its cause.
      let cause: unknown = err.cause;
      for (let i = 0; i < 4 && cause && !(cause as { code?: unknown }).code; i++) cause = (cause as { cause?: unknown }).cause;
      const code = (cause as { code?: unknown } | undefined)?.code;
      const word = typeof code === "string" && /^E[A-Z_]+$/.test(code) ? code : "connection_error";
      return new CarrierError(name, "unreachable", word, `cannot reach the ${name} API (${word}); check the network and TELNYX_API_BASE_URL`);
    }
    const message = err instanceof Error ? err.message : String(err);
    return new CarrierError(name, "bad_response", "bad_response", maskNumbers(message));
  }

  return {
    name,
    async placeCall(req: PlaceCallRequest): Promise<PlacedCall> {
      const params: CreateParams = {
        To: req.to,
        From: settings.from,
        Url: req.url,
        Method: "POST",
        StatusCallback: req.statusCallback,
        StatusCallbackMethod: "POST",
        StatusCallbackEvent: STATUS_EVENTS,
        Timeout: RING_SECONDS,
        ...(req.machineDetection ? { MachineDetection: "Enable" as const } : {}),
      };
      let created: unknown;
      try {
        created = await client.texml.calls.create(settings.applicationId, params);
      } catch (err) {
        throw mapError(err);
      }
      // A flat call object; the older form of this endpoint wrapped it in `data`.
      const call = ((created as { data?: unknown })?.data ?? created) as { call_sid?: unknown; status?: unknown } | undefined;
      if (typeof call?.call_sid !== "string" || call.call_sid.length === 0) {
        throw new CarrierError(name, "bad_response", "bad_response", `the ${name} API accepted the call but returned no call_sid`);
      }
      return { callSid: call.call_sid, status: (typeof call.status === "string" && callStatusOf(call.status)) || "queued" };
    },
    verifyWebhook(req: WebhookRequest) {
      // The signature covers the body only: a GET's query string (where its fields
      // travel) would be unsigned. Calls are placed with POST; a GET is refused.
      if (req.method !== "POST") return false;
      return verifyTelnyxSignature(key, req.headers["telnyx-signature-ed25519"], req.headers["telnyx-timestamp"], req.rawBody, nowSeconds());
    },
    parseWebhook: parseTexmlWebhook,
    answeringVerdict,
    render: (script) => ({ contentType: "text/xml; charset=utf-8", body: renderTexml(script) }),
    mapError,
  };
}
