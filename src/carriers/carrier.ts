import type { z } from "zod";
import type { CallStatus } from "../otp/call-status.js";
import type { VoiceScript } from "../voice/script.types.js";
import type { CarrierVoices } from "../voice/voice-names.js";

/**
 * The seam between the service and a carrier. A carrier is one folder in src/carriers/
 * exporting a CarrierPlugin (its variables, its signature headers, how it connects) and
 * one line in registry.ts. Once connected it is a Carrier: the service places calls,
 * checks and reads webhooks, and renders voice scripts only through it, so no code
 * outside the carrier's folder knows its field names, status words or error codes.
 */

export interface PlaceCallRequest {
  to: string; // E.164
  url: string; // absolute voice webhook URL (carries an opaque challenge id, never the code)
  statusCallback: string; // absolute URL for call progress events
  /** Ask the carrier to tell a person from an answering machine. */
  machineDetection: boolean;
}

export interface PlacedCall {
  callSid: string;
  /** The call's first status, in our words: normally "queued". */
  status: CallStatus;
}

/** A webhook request as the carrier sent it, for its signature check and for reading it. */
export interface WebhookRequest {
  /** The exact public URL the carrier requested: PUBLIC_BASE_URL + raw request target. */
  url: string;
  method: string;
  /** The body exactly as received ("" for GET): some carriers sign the bytes. */
  rawBody: string;
  /** Form parameters of a POST (every value of a repeated key kept); empty for GET. */
  params: Record<string, string | string[]>;
  /** The carriers' signature headers (registry's SIGNATURE_HEADERS), by lower-cased name. */
  headers: Record<string, string | undefined>;
}

/** What answered the call, in our words; `detail` is the carrier's own word, kept for the record. */
export type AnsweringVerdict = "human" | "machine" | "fax" | "unknown";
export interface AnsweredBy {
  verdict: AnsweringVerdict;
  detail: string;
}

/** A webhook read into our words. Every field is optional: not every request carries each. */
export interface CallEvent {
  /** The call's id at the carrier. */
  callId?: string;
  /** The call's progress, when the request reports one we know. */
  status?: CallStatus;
  answeredBy?: AnsweredBy;
  /** The keys pressed on a Gather. */
  digits?: string;
}

/** A voice document as the carrier's HTTP answer carries it. */
export interface VoiceDocument {
  contentType: string;
  body: string;
}

export interface Carrier {
  /** The registry's name; "simulator" for the Twilio client pointed at the in-process simulator. */
  readonly name: string;
  /** Places one outbound call. Never retries: a retry could ring a phone twice. Throws CarrierError. */
  placeCall(req: PlaceCallRequest): Promise<PlacedCall>;
  /** Whether the request carries the carrier's valid signature for exactly this request. */
  verifyWebhook(req: WebhookRequest): boolean;
  /** The request in our words. Only called once verifyWebhook said yes. */
  parseWebhook(req: WebhookRequest): CallEvent;
  /** Our verdict for a stored `detail` of AnsweredBy (one parseWebhook gave earlier). */
  answeringVerdict(detail: string): AnsweringVerdict;
  /** A voice script as the carrier's voice XML. */
  render(script: VoiceScript): VoiceDocument;
  /** Whatever the carrier's SDK threw, as a CarrierError (placeCall already throws only those). */
  mapError(err: unknown): CarrierError;
}

export interface CarrierOptions {
  timeoutMs: number;
  /** "simulator" when the client talks to the in-process simulator. */
  name?: string;
  /** Seconds since the epoch, for carriers whose signatures carry a timestamp (tests move it). */
  nowSeconds?: () => number;
}

/** Variables every carrier may read besides its own (read by an SDK itself). */
export interface SharedVariables {
  HTTP_PROXY?: string;
}

/** One carrier as the registry lists it. `Shape` is its variables, `Settings` what it makes of them. */
export interface CarrierPlugin<Shape extends z.ZodRawShape = z.ZodRawShape, Settings = unknown> {
  readonly name: string;
  /** As people write it, for messages: "Twilio". */
  readonly title: string;
  /** Its environment variables (TWILIO_*…), each optional: CARRIER decides which are required. */
  readonly configSchema: z.ZodObject<Shape>;
  /** The variables it cannot work without, in the order a message lists them. */
  readonly requiredVariables: ReadonlyArray<keyof Shape & string>;
  /** Where its users find those values, for the message when one is missing. */
  readonly whereToFind: string;
  /** Its settings from its variables, once every required one is set. */
  settings(vars: z.output<z.ZodObject<Shape>> & SharedVariables): Settings;
  /** Its webhook signature headers: lower-cased name → what the OpenAPI document says of it. */
  readonly signatureHeaders: Readonly<Record<string, string>>;
  /** The voices its voice XML takes, so that VOICE is checked, and spelt, for it at startup. */
  readonly voices: CarrierVoices;
  /** Its voice markup's name ("TwiML"), and its webhook form fields → descriptions, for the OpenAPI document. */
  readonly webhookDocs: { markup: string; fields: Readonly<Record<string, string>> };
  /** The connected carrier. Loads its SDK only now: SDKs are large, and only one is used. */
  connect(settings: Settings, opts: CarrierOptions): Promise<Carrier>;
}

export type CarrierFailure =
  | "timeout" // no answer from the carrier's API within CARRIER_TIMEOUT_MS
  | "unreachable" // connection refused, DNS failure, reset
  | "rejected" // the carrier answered with an error (auth, invalid number, 5xx…)
  | "bad_response"; // the carrier answered something that is not its API's shape

/**
 * A refusal in our words. Set only when the carrier's API refused the create-call
 * request outright (a 4xx): then no call was placed and nobody's phone rang. Each
 * carrier's folder maps its own codes to these; nothing outside it knows the codes.
 */
export type CarrierRefusal =
  | "invalid_number" // the destination is not a phone number, or cannot be reached
  | "destination_not_allowed" // the carrier account may not call it (geographic permissions, blocklist, trial account)
  | "credentials" // the carrier refused the service's own credentials
  | "throttled" // the carrier asks the service to slow down
  | "other"; // refused for another reason (the caller ID, a parameter…)

export interface RefusalDetails {
  refusal?: CarrierRefusal;
  /** For "throttled": how long the carrier asks the service to wait. */
  retryAfterSeconds?: number;
  /** For "credentials": the environment variables holding what the carrier refused. */
  variables?: readonly string[];
}

export class CarrierError extends Error {
  readonly refusal?: CarrierRefusal;
  readonly retryAfterSeconds?: number;
  readonly variables?: readonly string[];
  constructor(
    readonly carrier: string,
    readonly failure: CarrierFailure,
    /** The carrier's own error code when it gave one (e.g. 21211), else a short word. */
    readonly carrierCode: string,
    message: string,
    /** HTTP status the carrier's API answered with, when there was an answer. */
    readonly carrierStatus?: number,
    details: RefusalDetails = {},
  ) {
    super(message);
    this.name = "CarrierError";
    this.refusal = details.refusal;
    this.retryAfterSeconds = details.retryAfterSeconds;
    this.variables = details.variables;
  }
}
