import twilio from "twilio";
import type { Account, ApiFailure, CallDialect, CarrierFlavor } from "../flavor.js";
import type { CallRecord } from "../types.js";

/**
 * The Twilio REST API and its webhooks, which SignalWire's LaML API copies field for
 * field: form bodies, Basic auth with the account id and API password, Twilio's error
 * codes, and an HMAC-SHA1 signature of the URL and POST parameters. Both paths are
 * served for either carrier; the flavors differ only in what LamlDifferences lists.
 */

const CALLS_PATH = /^\/(?:api\/laml\/)?2010-04-01\/Accounts\/([^/]+)\/Calls\.json$/;
const CALL_PATH = /^\/(?:api\/laml\/)?2010-04-01\/Accounts\/([^/]+)\/Calls\/([^/]+)\.json$/;

export interface LamlDifferences {
  newSid(): string;
  signatureHeader: string;
  signingKey: string;
  userAgent: string;
  serviceEnv(apiBaseUrl: string, from: string): Record<string, string>;
}

/** Twilio's webhook fields; LaML's are the same. AnsweredBy comes with every request once known. */
function lamlCall(account: Account): CallDialect {
  const base = (call: CallRecord) => ({
    CallSid: call.sid,
    AccountSid: account.accountSid,
    From: call.from,
    To: call.to,
    Caller: call.from,
    Called: call.to,
    Direction: "outbound-api",
    ApiVersion: "2010-04-01",
    CallStatus: call.status,
    ...(call.answeredBy ? { AnsweredBy: call.answeredBy } : {}),
  });
  return {
    voiceParams: base,
    gatherParams: (call, digits) => ({ ...base(call), Digits: digits, FinishedOnKey: "" }),
    statusParams: (call, sequence, durationSeconds) => ({
      ...base(call),
      CallbackSource: "call-progress-events",
      SequenceNumber: String(sequence),
      Timestamp: new Date().toUTCString(),
      ...(durationSeconds !== undefined ? { CallDuration: String(durationSeconds) } : {}),
    }),
    gatherMethod: (attrs) => (attrs.method ?? "POST").toUpperCase(),
    gatherChildren: new Set(["Say", "Play", "Pause"]),
    machineAnswer: "machine_start",
  };
}

export function lamlFlavor(account: Account, differ: LamlDifferences): CarrierFlavor {
  const expectedAuth = `Basic ${Buffer.from(`${account.accountSid}:${account.authToken}`).toString("base64")}`;
  const fail = (status: number, code: number, message: string): ApiFailure => ({ status, code, message });

  return {
    route(path) {
      const calls = CALLS_PATH.exec(path);
      if (calls) return { op: "create-call", account: calls[1]! };
      const single = CALL_PATH.exec(path);
      if (single) return { op: "fetch-call", account: single[1]!, sid: single[2]! };
      return undefined;
    },

    authorized: (headers, route) =>
      headers.authorization === expectedAuth && decodeURIComponent(route.account!) === account.accountSid,

    readCreateCall(body) {
      const form = new Map<string, string[]>();
      for (const [k, v] of new URLSearchParams(body)) form.set(k, [...(form.get(k) ?? []), v]);
      const one = (k: string) => form.get(k)?.[0];
      const to = one("To");
      const from = one("From");
      const url = one("Url");
      if (!to) return { refused: fail(400, 21201, "No 'To' number is specified") };
      if (!from) return { refused: fail(400, 21603, "A 'From' phone number is required.") };
      if (!url) return { refused: fail(400, 21205, "Url parameter is required.") };
      if (!/^https?:\/\//.test(url) || !URL.canParse(url)) return { refused: fail(400, 21205, "Url is not a valid URL: " + url) };
      if (!/^\+[1-9]\d{6,14}$/.test(to)) return { refused: fail(400, 21211, `The 'To' number ${to} is not a valid phone number.`) };
      const request = {
        to,
        from,
        url,
        method: (one("Method") ?? "POST").toUpperCase(),
        statusCallback: one("StatusCallback"),
        statusCallbackMethod: (one("StatusCallbackMethod") ?? "POST").toUpperCase(),
        statusCallbackEvents: (form.get("StatusCallbackEvent") ?? []).flatMap((v) => v.split(/[\s,]+/)).filter(Boolean),
        machineDetection: /^(enable|detectmessageend)$/i.test(one("MachineDetection") ?? ""),
      };
      return { request };
    },

    newSid: differ.newSid,

    createdStatus: 201,

    resource(call) {
      const now = new Date().toUTCString();
      return {
        sid: call.sid,
        account_sid: account.accountSid,
        to: call.to,
        to_formatted: call.to,
        from: call.from,
        from_formatted: call.from,
        status: call.status,
        direction: "outbound-api",
        api_version: "2010-04-01",
        answered_by: call.answeredBy ?? null,
        date_created: now,
        date_updated: now,
        start_time: null,
        end_time: null,
        duration: null,
        price: null,
        price_unit: "USD",
        caller_name: null,
        forwarded_from: null,
        group_sid: null,
        parent_call_sid: null,
        phone_number_sid: null,
        queue_time: "0",
        trunk_sid: null,
        uri: `/2010-04-01/Accounts/${account.accountSid}/Calls/${call.sid}.json`,
        subresource_uris: {},
      };
    },

    errorBody: ({ status, code, message }) => ({ code, message, more_info: `https://www.twilio.com/docs/errors/${code}`, status }),

    failures: {
      notFound: (path) => fail(404, 20404, `The requested resource ${path} was not found`),
      unauthenticated: fail(401, 20003, "Authenticate"),
      methodNotAllowed: fail(405, 20004, "Method not allowed"),
      badRequest: (message) => fail(400, 20001, message),
    },

    userAgent: differ.userAgent,

    sign: ({ url, params }) => ({ [differ.signatureHeader]: twilio.getExpectedTwilioSignature(differ.signingKey, url, params) }),

    call: lamlCall(account),

    serviceEnv: differ.serviceEnv,
  };
}
