import type { CallStatus } from "../../otp/call-status.js";
import { CarrierError, type PlaceCallRequest, type PlacedCall } from "../carrier.js";
import { sdkError } from "./errors.js";
import { callStatusOf } from "./webhook.js";

/**
 * The call progress the service asks to hear of. Not `initiated`: the create-call answer
 * already says the call is queued, and the carrier starting to dial adds nothing a
 * backend can act on, while each callback is a signed request to verify and a row to
 * write.
 */
const STATUS_EVENTS = ["ringing", "answered", "completed"];
/** Seconds the callee's phone rings before the carrier gives up with no-answer. */
const RING_SECONDS = 30;

/** The create-call options both SDKs take (SignalWire's is twilio-node underneath). */
export interface CreateCallOptions {
  to: string;
  from: string;
  url: string;
  method: "POST";
  statusCallback: string;
  statusCallbackMethod: "POST";
  statusCallbackEvent: string[];
  timeout: number;
  machineDetection?: "Enable";
}

/** One create-call through an SDK, its failures as CarrierError. Never retried: a retry could ring twice. */
export async function createCall(
  carrier: string,
  timeoutMs: number,
  /** The variables to check when the carrier refuses the credentials. */
  credentials: readonly string[],
  create: (opts: CreateCallOptions) => Promise<{ sid?: unknown; status?: unknown }>,
  from: string,
  req: PlaceCallRequest,
): Promise<PlacedCall> {
  let call;
  try {
    call = await create({
      to: req.to,
      from,
      url: req.url,
      method: "POST",
      statusCallback: req.statusCallback,
      statusCallbackMethod: "POST",
      statusCallbackEvent: STATUS_EVENTS,
      timeout: RING_SECONDS,
      ...(req.machineDetection ? { machineDetection: "Enable" } : {}),
    });
  } catch (err) {
    throw sdkError(carrier, err, timeoutMs, credentials);
  }
  if (typeof call?.sid !== "string" || call.sid.length === 0) {
    throw new CarrierError(carrier, "bad_response", "bad_response", `the ${carrier} API accepted the call but returned no call sid`);
  }
  const status: CallStatus = (typeof call.status === "string" && callStatusOf(call.status)) || "queued";
  return { callSid: call.sid, status };
}
