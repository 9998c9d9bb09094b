import type { IncomingHttpHeaders } from "node:http";
import type { CallRecord, CallRequest } from "./types.js";

export type { CallRequest } from "./types.js";

/**
 * The seam between the simulator and the carrier it plays. The HTTP server, the call
 * player and the Simulator object know nothing of a carrier's paths, field names,
 * error shapes or signatures: each flavor says them here, so a carrier is one file in
 * flavors/ and one line in flavors/index.ts. What the player still assumes of every
 * carrier: webhooks are form posts (or GETs with the fields in the query string), and
 * the voice XML is TwiML's verbs (Say, Play, Pause, Gather, Redirect, Hangup), which
 * every carrier played so far speaks (LaML and TeXML are TwiML's dialects).
 */

/** The account the simulator plays, as the service is configured with it. */
export interface Account {
  /** Twilio: the Account SID (AC…); SignalWire: the project id; Telnyx: the account id webhooks name. */
  accountSid: string;
  /** The API password: Twilio auth token, SignalWire API token, Telnyx API key. */
  authToken: string;
  /** SignalWire's webhook signing key; the token when unset. Twilio always signs with the auth token. */
  signingKey?: string;
  /** Telnyx: the TeXML application calls are placed on. */
  applicationId?: string;
}

/** An error answer of the carrier's REST API, before the flavor shapes its body. */
export interface ApiFailure {
  status: number;
  code: number;
  message: string;
  /** The request field at fault ("To", "From"), for carriers whose errors name it. */
  field?: string;
  /** Headers sent with the answer (a 429's Retry-After or rate-limit headers). */
  headers?: Record<string, string>;
}


/**
 * The REST operations the simulator serves, read from a request path; `account` is
 * the account the path names, for carriers that put it there.
 */
export type ApiRoute = { op: "create-call"; account?: string } | { op: "fetch-call"; account?: string; sid: string };

/** A webhook request as it goes on the wire, for signing. */
export interface OutgoingWebhook {
  url: string;
  /** The POST parameters (none for GET: they are in the URL). */
  params: Record<string, string>;
  /** The body exactly as sent ("" for GET), for carriers that sign the bytes. */
  body: string;
  /** Unix seconds to sign as, for carriers whose signature carries a time (tests replay old ones); unset: now. */
  timestamp?: number;
}

/** How a carrier's voice platform talks to the service during a call. */
export interface CallDialect {
  /** The fields of a request for a voice document (the call's Url, a Redirect). */
  voiceParams(call: CallRecord): Record<string, string>;
  /** The fields of a Gather's action request, with the keys pressed. */
  gatherParams(call: CallRecord, digits: string): Record<string, string>;
  /** The fields of a status callback; `sequence` counts them from 0. */
  statusParams(call: CallRecord, sequence: number, durationSeconds?: number): Record<string, string>;
  /** The method a Gather's action is requested with, from its attributes. */
  gatherMethod(attrs: Record<string, string>): string;
  /** The verbs that may stand inside a Gather. */
  gatherChildren: ReadonlySet<string>;
  /** AnsweredBy for an answering machine, with machine detection on. */
  machineAnswer: string;
}

/** One carrier, playing one account. */
export interface CarrierFlavor {
  /** Which operation a path names, and the account it names; undefined for any other path. */
  route(path: string): ApiRoute | undefined;
  /** Whether the request's credentials are the account's (and the path names that account). */
  authorized(headers: IncomingHttpHeaders, route: ApiRoute): boolean;
  /** The create-call request's body, read as the carrier reads it, or the carrier's refusal. */
  readCreateCall(body: string): { request: CallRequest } | { refused: ApiFailure };
  /** A new call id in the carrier's format. */
  newSid(): string;
  /** The HTTP status of a successful create-call answer. */
  createdStatus: number;
  /** The call as the REST API shows it. */
  resource(call: CallRecord): unknown;
  /** An error as the REST API's body carries it. */
  errorBody(failure: ApiFailure): unknown;
  failures: {
    notFound(path: string): ApiFailure;
    unauthenticated: ApiFailure;
    methodNotAllowed: ApiFailure;
    /** The request could not be read at all (too large, cut off). */
    badRequest(message: string): ApiFailure;
  };
  /** The User-Agent of the carrier's webhook requests. */
  userAgent: string;
  /** The signature headers the carrier sends with this webhook request. */
  sign(webhook: OutgoingWebhook): Record<string, string>;
  call: CallDialect;
  /** The service's variables that point it at this simulator (its API at apiBaseUrl), in the order printed. */
  serviceEnv(apiBaseUrl: string, from: string): Record<string, string>;
}

/** A carrier the simulator can play: the flavor for an account, and what `npm run simulator` needs. */
export interface FlavorDefinition {
  forAccount(account: Account): CarrierFlavor;
  /** A fresh account id in the carrier's format. */
  newAccountId(): string;
}
