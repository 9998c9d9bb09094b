import type { VoiceScript } from "../voice/script.types.js";

export type CarrierName = "twilio" | "signalwire" | "simulator";

export interface PlaceCallRequest {
  to: string; // E.164
  url: string; // absolute voice webhook URL (carries an opaque challenge id, never the code)
  statusCallback: string; // absolute URL for call progress events
  /** Ask the carrier to tell a person from an answering machine (AnsweredBy). */
  machineDetection: boolean;
}

export interface PlacedCall {
  callSid: string;
  status: string; // the carrier's initial status, normally "queued"
}

export interface WebhookRequest {
  /** The exact public URL the carrier requested: PUBLIC_BASE_URL + raw request target. */
  url: string;
  /** Form parameters of a POST (every value of a repeated key kept); empty for GET. */
  params: Record<string, string | string[]>;
  /** The signature headers, by lower-cased name. */
  headers: Record<string, string | undefined>;
}

export interface Carrier {
  readonly name: CarrierName;
  /** Places one outbound call. Never retries: a retry could ring a phone twice. Throws CarrierError. */
  placeCall(req: PlaceCallRequest): Promise<PlacedCall>;
  /** Checks the carrier's webhook signature with the SDK's own validator. */
  verifySignature(req: WebhookRequest): boolean;
  /** Renders a voice script as the carrier's XML (TwiML / LaML) with the SDK's builder. */
  voiceResponse(script: VoiceScript): string;
}

export type CarrierFailure =
  | "timeout" // no answer from the carrier's API within CARRIER_TIMEOUT_MS
  | "unreachable" // connection refused, DNS failure, reset
  | "rejected" // the carrier answered with an error (auth, invalid number, 5xx…)
  | "bad_response"; // the carrier answered something that is not its API's shape

export class CarrierError extends Error {
  constructor(
    readonly carrier: CarrierName,
    readonly failure: CarrierFailure,
    /** The carrier's own error code when it gave one (e.g. 21211), else a short word. */
    readonly carrierCode: string,
    message: string,
    /** HTTP status the carrier's API answered with, when there was an answer. */
    readonly carrierStatus?: number,
  ) {
    super(message);
    this.name = "CarrierError";
  }
}
