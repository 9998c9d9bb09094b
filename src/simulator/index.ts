import { randomBytes, randomUUID } from "node:crypto";
import { EventEmitter } from "node:events";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import twilio from "twilio";
import { Closing } from "./closing.js";
import { runCall } from "./call.js";
import type { CallRecord, Flavor, Outcome } from "./types.js";

export { API_ERRORS, type CallRecord, type Flavor, type Outcome } from "./types.js";

export interface SimulatorOptions {
  flavor: Flavor;
  /** Twilio: the Account SID (AC…); SignalWire: the project id. */
  accountSid: string;
  /** The API password: Twilio auth token or SignalWire API token. */
  authToken: string;
  /** SignalWire's webhook signing key; the token when unset. Twilio always signs with the auth token. */
  signingKey?: string;
  host?: string;
  port?: number;
  /** Receives "the phone heard: …" after each call. */
  logger?: (line: string) => void;
  defaultOutcome?: Outcome;
  /** How long each call stage (dialling, ringing) takes. */
  ringMs?: number;
}

export type CallMatch = string | { sid: string } | { to: string } | ((call: CallRecord) => boolean);

export interface Simulator {
  url: string;
  flavor: Flavor;
  setOutcome(number: string, outcome: Outcome): void;
  calls(): CallRecord[];
  /** Resolves with the call once it has ended. */
  waitForCall(match: CallMatch, opts?: { timeoutMs?: number }): Promise<CallRecord>;
  /** Resolves with the call once it rings on a held phone (Outcome `hold`), its webhook not yet fetched. */
  waitForHeld(match: CallMatch, opts?: { timeoutMs?: number }): Promise<CallRecord>;
  /** Answers a held call: the carrier fetches its webhook now. */
  pickUp(sid: string): void;
  /** Resolves once a create-call request for this number has arrived, before it is answered (or delayed, or refused). */
  waitForCreateCall(to: string, opts?: { timeoutMs?: number }): Promise<void>;
  /** The signature headers the carrier would send for this request (for replaying and forging in tests). */
  sign(url: string, params: Record<string, string>): Record<string, string>;
  /** Webhook requests sent and not answered yet (or not failed yet). */
  webhooksInFlight(): number;
  close(): Promise<void>;
}

const BODY_LIMIT = 64 * 1024;
const CALLS_PATH = /^\/(?:api\/laml\/)?2010-04-01\/Accounts\/([^/]+)\/Calls\.json$/;
const CALL_PATH = /^\/(?:api\/laml\/)?2010-04-01\/Accounts\/([^/]+)\/Calls\/([^/]+)\.json$/;

function send(res: ServerResponse, status: number, body: unknown) {
  res.writeHead(status, { "Content-Type": "application/json" }).end(JSON.stringify(body));
}
const apiError = (res: ServerResponse, status: number, code: number, message: string) =>
  send(res, status, { code, message, more_info: `https://www.twilio.com/docs/errors/${code}`, status });

function readForm(req: IncomingMessage): Promise<Map<string, string[]>> {
  return new Promise((resolve, reject) => {
    let size = 0;
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => {
      size += c.length;
      if (size > BODY_LIMIT) return reject(new Error("body too large"));
      chunks.push(c);
    });
    req.on("end", () => {
      const form = new Map<string, string[]>();
      for (const [k, v] of new URLSearchParams(Buffer.concat(chunks).toString("utf8"))) {
        form.set(k, [...(form.get(k) ?? []), v]);
      }
      resolve(form);
    });
    req.on("error", reject);
  });
}

/** A stand-in for the carrier's REST API and its voice platform, over real HTTP. */
export async function startSimulator(opts: SimulatorOptions): Promise<Simulator> {
  const outcomes = new Map<string, Outcome>();
  const records: CallRecord[] = [];
  const running = new Set<Promise<void>>();
  // Calls whose run has finished, logger line included: waitForCall resolves only then,
  // so a test that awaits it sees everything the call did (call.ended is set a few ticks earlier).
  const finished = new WeakSet<CallRecord>();
  const held = new Set<Socket>();
  // Held calls ringing until pickUp, by sid.
  const ringing = new Map<string, () => void>();
  // The To of every create-call request received, in order, whatever its answer.
  const requested: string[] = [];
  const updates = new EventEmitter().setMaxListeners(0);
  const closing = new Closing();
  const webhooks = { inFlight: 0 };
  const signingKey = opts.flavor === "signalwire" ? (opts.signingKey ?? opts.authToken) : opts.authToken;
  const signatureHeader = opts.flavor === "twilio" ? "X-Twilio-Signature" : "X-SignalWire-Signature";
  const expectedAuth = `Basic ${Buffer.from(`${opts.accountSid}:${opts.authToken}`).toString("base64")}`;
  const newSid = () => (opts.flavor === "twilio" ? `CA${randomBytes(16).toString("hex")}` : randomUUID());

  const sign = (url: string, params: Record<string, string>) => ({
    [signatureHeader]: twilio.getExpectedTwilioSignature(signingKey, url, params),
  });

  function resource(call: CallRecord) {
    const now = new Date().toUTCString();
    return {
      sid: call.sid,
      account_sid: opts.accountSid,
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
      uri: `/2010-04-01/Accounts/${opts.accountSid}/Calls/${call.sid}.json`,
      subresource_uris: {},
    };
  }

  /** A held call rings until pickUp(sid), or until the simulator closes. */
  function pickedUp(call: CallRecord): Promise<void> {
    return new Promise<void>((resolve) => {
      if (closing.closed) return resolve();
      const answer = () => {
        ringing.delete(call.sid);
        forget();
        resolve();
      };
      ringing.set(call.sid, answer);
      const forget = closing.onClose(answer);
      updates.emit("change");
    });
  }

  async function createCall(req: IncomingMessage, res: ServerResponse) {
    const form = await readForm(req);
    const one = (k: string) => form.get(k)?.[0];
    const to = one("To");
    const from = one("From");
    const url = one("Url");
    if (!to) return apiError(res, 400, 21201, "No 'To' number is specified");
    if (!from) return apiError(res, 400, 21603, "A 'From' phone number is required.");
    if (!url) return apiError(res, 400, 21205, "Url parameter is required.");
    if (!/^https?:\/\//.test(url) || !URL.canParse(url)) return apiError(res, 400, 21205, "Url is not a valid URL: " + url);
    if (!/^\+[1-9]\d{6,14}$/.test(to)) return apiError(res, 400, 21211, `The 'To' number ${to} is not a valid phone number.`);
    requested.push(to);
    updates.emit("change");

    const outcome = outcomes.get(to) ?? opts.defaultOutcome ?? { kind: "answer" };
    switch (outcome.kind) {
      case "api-error":
        return apiError(res, outcome.status, outcome.code, outcome.message);
      case "api-malformed":
        res.writeHead(502, { "Content-Type": "text/html" }).end("<html><body><h1>502 Bad Gateway</h1></body></html>");
        return;
      case "api-timeout":
        held.add(req.socket); // never answered; cut when the simulator closes
        return;
    }
    if (outcome.apiDelayMs) await new Promise((r) => setTimeout(r, outcome.apiDelayMs));

    const call: CallRecord = {
      sid: newSid(),
      to,
      from,
      url,
      method: (one("Method") ?? "POST").toUpperCase(),
      statusCallback: one("StatusCallback"),
      statusCallbackMethod: (one("StatusCallbackMethod") ?? "POST").toUpperCase(),
      statusCallbackEvents: (form.get("StatusCallbackEvent") ?? []).flatMap((v) => v.split(/[\s,]+/)).filter(Boolean),
      machineDetection: /^(enable|detectmessageend)$/i.test(one("MachineDetection") ?? ""),
      status: "queued",
      heard: [],
      keysPressed: [],
      events: [{ status: "queued", at: new Date() }],
      requests: [],
      webhookErrors: [],
      ended: false,
    };
    records.push(call);
    send(res, 201, resource(call));

    const run = runCall(
      {
        flavor: opts.flavor,
        accountSid: opts.accountSid,
        sign,
        closing,
        ringMs: opts.ringMs ?? 300,
        changed: () => updates.emit("change"),
        pickedUp,
        webhooks,
      },
      call,
      outcome,
    )
      .catch((err) => {
        call.webhookErrors.push(`simulator: ${(err as Error).message}`);
      })
      .finally(() => {
        running.delete(run);
        if (!closing.closed) opts.logger?.(`the phone heard: ${call.heard.join(" ") || "(nothing)"}`);
        finished.add(call);
        updates.emit("change");
      });
    running.add(run);
  }

  const server = createServer((req, res) => {
    const path = (req.url ?? "/").split("?")[0]!;
    const calls = CALLS_PATH.exec(path);
    const single = CALL_PATH.exec(path);
    const account = calls?.[1] ?? single?.[1];
    if (!account) return apiError(res, 404, 20404, `The requested resource ${path} was not found`);
    if (req.headers.authorization !== expectedAuth || decodeURIComponent(account) !== opts.accountSid) {
      return apiError(res, 401, 20003, "Authenticate");
    }
    if (calls && req.method === "POST") {
      createCall(req, res).catch((err) => {
        if (!res.headersSent) apiError(res, 400, 20001, (err as Error).message);
      });
      return;
    }
    if (single && req.method === "GET") {
      const call = records.find((c) => c.sid === single[2]);
      return call ? send(res, 200, resource(call)) : apiError(res, 404, 20404, `The requested resource ${path} was not found`);
    }
    return apiError(res, 405, 20004, "Method not allowed");
  });

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port ?? 0, opts.host ?? "127.0.0.1", () => resolve());
  });
  const address = server.address() as AddressInfo;
  const host = address.family === "IPv6" ? `[${address.address}]` : address.address;

  const matches = (match: CallMatch, call: CallRecord) =>
    typeof match === "string"
      ? call.sid === match
      : typeof match === "function"
        ? match(call)
        : "sid" in match
          ? call.sid === match.sid
          : call.to === match.to;

  function waitFor(match: CallMatch, ready: (call: CallRecord) => boolean, what: string, timeoutMs: number) {
    return waitUntil(
      () => records.find((c) => matches(match, c) && ready(c)),
      () => {
        const seen = records.filter((c) => matches(match, c)).map((c) => `${c.sid}: ${c.status}`);
        return `no ${what} call matched within ${timeoutMs} ms (matching calls: ${seen.join(", ") || "none"})`;
      },
      timeoutMs,
    );
  }

  /** Resolves with what found() finds, checking on every change; rejects after timeoutMs. */
  function waitUntil<T>(found: () => T | undefined, failure: () => string, timeoutMs: number) {
    return new Promise<T>((resolve, reject) => {
      const check = () => {
        const hit = found();
        if (hit === undefined) return;
        cleanup();
        resolve(hit);
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(failure()));
      }, timeoutMs);
      const cleanup = () => {
        clearTimeout(timer);
        updates.off("change", check);
      };
      updates.on("change", check);
      check();
    });
  }

  return {
    url: `http://${host}:${address.port}`,
    flavor: opts.flavor,
    setOutcome: (number, outcome) => void outcomes.set(number, outcome),
    calls: () => [...records],
    sign,
    webhooksInFlight: () => webhooks.inFlight,
    waitForCall: (match, { timeoutMs = 10_000 } = {}) => waitFor(match, (c) => finished.has(c), "ended", timeoutMs),
    waitForHeld: (match, { timeoutMs = 10_000 } = {}) => waitFor(match, (c) => ringing.has(c.sid), "held", timeoutMs),
    waitForCreateCall: (to, { timeoutMs = 10_000 } = {}) =>
      waitUntil(
        () => (requested.includes(to) ? true : undefined),
        () => `no create-call request for ${to} within ${timeoutMs} ms`,
        timeoutMs,
      ).then(() => undefined),
    pickUp(sid) {
      const answer = ringing.get(sid);
      if (!answer) throw new Error(`call ${sid} is not held`);
      answer();
    },
    async close() {
      closing.close();
      for (const socket of held) socket.destroy();
      await Promise.allSettled([...running]);
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}
