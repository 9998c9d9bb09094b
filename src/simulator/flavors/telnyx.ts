import { createPrivateKey, createPublicKey, generateKeyPairSync, randomBytes, randomUUID, sign, type KeyObject } from "node:crypto";
import type { Account, ApiFailure, CallDialect, CarrierFlavor, FlavorDefinition } from "../flavor.js";
import type { CallRecord } from "../types.js";

/**
 * Telnyx's TeXML, as its API reference describes it:
 * - create-call: POST /v2/texml/calls/{application id}, a JSON body (To, From, Url,
 *   Method, StatusCallback, StatusCallbackMethod, StatusCallbackEvent as one
 *   space-separated string, MachineDetection, Timeout), `Authorization: Bearer <API
 *   key>`; it answers 200 with a flat `{call_sid, from, to, status: "queued"}`, and
 *   errors as `{"errors": [{code, title, detail, source: {pointer}}]}` with Telnyx's
 *   codes (10009…).
 * - webhooks: form posts with TwiML's field names, signed with Ed25519 over
 *   `${telnyx-timestamp}|${raw body}` (headers telnyx-signature-ed25519 and
 *   telnyx-timestamp). The simulator makes its own key pair; the service is given the
 *   public half, base64 of its 32 raw bytes, as the portal shows it.
 * - machine detection (synchronous): the verdict comes as AnsweredBy in the status
 *   callback of the answer, sent before the voice document is fetched; the fetch itself
 *   does not carry it (Telnyx documents it only in the callback).
 * - <Gather> has no method attribute: its action is requested with the TeXML
 *   application's method, POST here; only <Say> and <Play> may be nested in it.
 */

const CREATE_CALL = /^\/v2\/texml\/calls\/([^/]+)$/;
const FETCH_CALL = /^\/v2\/texml\/Accounts\/([^/]+)\/Calls\/([^/]+?)(?:\.json)?$/;

/**
 * The account's key pair: the private half signs webhooks, the public half is
 * TELNYX_PUBLIC_KEY. From the account's signing key (a PEM private key) when given, else new.
 */
function keyPair(signingKey: string | undefined) {
  let privateKey: KeyObject, publicKey: KeyObject;
  if (signingKey) {
    privateKey = createPrivateKey(signingKey);
    publicKey = createPublicKey(privateKey);
  } else {
    ({ privateKey, publicKey } = generateKeyPairSync("ed25519"));
  }
  // An Ed25519 SPKI is a fixed 12-byte prefix and the 32 raw key bytes.
  const raw = publicKey.export({ format: "der", type: "spki" }).subarray(-32);
  return { privateKey, publicKeyBase64: raw.toString("base64") };
}

function telnyxCall(account: Account, connectionId: string): CallDialect {
  const base = (call: CallRecord) => ({
    AccountSid: account.accountSid,
    CallSid: call.sid,
    CallSidLegacy: call.sid,
    ConnectionId: connectionId,
    From: call.from,
    To: call.to,
  });
  return {
    voiceParams: (call) => ({ ...base(call), CallerId: call.from, CallingPartyType: "pstn", CallStatus: call.status }),
    gatherParams: (call, digits) => ({ ...base(call), Digits: digits }),
    statusParams: (call, sequence, durationSeconds) => ({
      ...base(call),
      CallStatus: call.status,
      CallbackSource: "call-progress-events",
      CallInitiatedAt: call.events[0]!.at.toISOString(),
      SequenceNumber: String(sequence),
      Timestamp: new Date().toISOString(),
      ...(call.answeredBy ? { AnsweredBy: call.answeredBy } : {}),
      ...(durationSeconds !== undefined ? { CallDuration: String(durationSeconds) } : {}),
    }),
    gatherMethod: () => "POST",
    gatherChildren: new Set(["Say", "Play"]),
    machineAnswer: "machine",
  };
}

function telnyxForAccount(account: Account): CarrierFlavor {
  const applicationId = account.applicationId ?? String(randomBytes(8).readBigUInt64BE() >> 1n);
  const { privateKey, publicKeyBase64 } = keyPair(account.signingKey);
  const fail = (status: number, code: number, message: string, field?: string): ApiFailure => ({ status, code, message, ...(field ? { field } : {}) });

  return {
    route(path) {
      const create = CREATE_CALL.exec(path);
      if (create) return { op: "create-call", account: create[1]! };
      const single = FETCH_CALL.exec(path);
      if (single) return { op: "fetch-call", account: single[1]!, sid: decodeURIComponent(single[2]!) };
      return undefined;
    },

    authorized: (headers, route) =>
      headers.authorization === `Bearer ${account.authToken}` &&
      (route.op !== "create-call" || decodeURIComponent(route.account!) === applicationId),

    readCreateCall(body) {
      let json: Record<string, unknown>;
      try {
        json = JSON.parse(body) as Record<string, unknown>;
      } catch {
        return { refused: fail(400, 10015, "The request failed because it was not well-formed.") };
      }
      if (typeof json !== "object" || json === null) return { refused: fail(400, 10015, "The request failed because it was not well-formed.") };
      const one = (k: string) => (typeof json[k] === "string" ? (json[k] as string) : undefined);
      const to = one("To");
      const from = one("From");
      const url = one("Url");
      if (!to) return { refused: fail(422, 10004, "A required parameter was missing: To.") };
      if (!from) return { refused: fail(422, 10004, "A required parameter was missing: From.") };
      // Without Url the application's own XML request URL would be used; the simulator has none.
      if (!url || !/^https?:\/\//.test(url) || !URL.canParse(url)) return { refused: fail(422, 10003, "The URL provided was invalid, malformed, or too long.") };
      if (!/^\+[1-9]\d{6,14}$/.test(to)) return { refused: fail(422, 10016, `The specified phone number parameter must be in +E.164 format: ${to}`, "To") };
      if (!/^\+[1-9]\d{6,14}$/.test(from)) return { refused: fail(422, 10016, `The specified phone number parameter must be in +E.164 format: ${from}`, "From") };
      const request = {
        to,
        from,
        url,
        method: (one("Method") ?? one("UrlMethod") ?? "POST").toUpperCase(),
        statusCallback: one("StatusCallback"),
        statusCallbackMethod: (one("StatusCallbackMethod") ?? "POST").toUpperCase(),
        statusCallbackEvents: (one("StatusCallbackEvent") ?? "").split(/\s+/).filter(Boolean),
        machineDetection: /^(enable|detectmessageend)$/i.test(one("MachineDetection") ?? ""),
      };
      return { request };
    },

    newSid: () => `v3:${randomBytes(30).toString("base64url")}`,

    createdStatus: 200,

    resource: (call) => ({ call_sid: call.sid, from: call.from, to: call.to, status: call.status }),

    // `source.pointer` locates the request field at fault, as in every Telnyx API error.
    errorBody: ({ code, message, field }) => ({
      errors: [
        {
          code: String(code),
          title: message,
          detail: message,
          ...(field ? { source: { pointer: `/${field}` } } : {}),
          meta: { url: `https://developers.telnyx.com/docs/overview/errors/${code}` },
        },
      ],
    }),

    failures: {
      notFound: () => fail(404, 10005, "The requested resource or URL could not be found."),
      unauthenticated: fail(401, 10009, "The required authentication headers were either invalid or not included in the request."),
      methodNotAllowed: fail(405, 10015, "The request failed because it was not well-formed."),
      badRequest: (message) => fail(400, 10015, message),
    },

    userAgent: "telnyx-webhooks",

    sign({ body, timestamp }) {
      const t = String(timestamp ?? Math.floor(Date.now() / 1000));
      const signature = sign(null, Buffer.from(`${t}|${body}`, "utf8"), privateKey).toString("base64");
      return { "telnyx-signature-ed25519": signature, "telnyx-timestamp": t };
    },

    call: telnyxCall(account, applicationId),

    serviceEnv: (apiBaseUrl, from) => ({
      CARRIER: "telnyx",
      TELNYX_API_KEY: account.authToken,
      TELNYX_PUBLIC_KEY: publicKeyBase64,
      TELNYX_APPLICATION_ID: applicationId,
      TELNYX_NUMBER: from,
      TELNYX_API_BASE_URL: `${apiBaseUrl}/v2`,
    }),
  };
}

export const telnyxFlavor: FlavorDefinition = {
  forAccount: telnyxForAccount,
  newAccountId: () => randomUUID(),
};
