import { EventEmitter } from "node:events";
import { startApiServer } from "./api-server.js";
import { runCall } from "./call.js";
import { Closing } from "./closing.js";
import type { Account } from "./flavor.js";
import { heardLine, type HeardOn } from "./heard.js";
import { FLAVORS, type Flavor } from "./flavors/index.js";
import type { CallRecord, Outcome } from "./types.js";
import { waitForCall, waitUntil, type CallMatch } from "./waits.js";

export interface SimulatorOptions extends Account {
  flavor: Flavor;
  host?: string;
  port?: number;
  /** Receives "the phone heard (challenge …, +1415•••0123): …" after each call, and which call it was. */
  logger?: (line: string, on: HeardOn) => void;
  defaultOutcome?: Outcome;
  /** What the phone at each number does (setOutcome, from the start). */
  outcomes?: ReadonlyArray<readonly [string, Outcome]>;
  /** How long each call stage (dialling, ringing) takes. */
  ringMs?: number;
}

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
  /**
   * The signature headers the carrier would send for this request (for replaying and
   * forging in tests); `timestamp` (Unix seconds) for carriers that sign one.
   */
  sign(url: string, params: Record<string, string>, opts?: { timestamp?: number }): Record<string, string>;
  /** The service's variables that point it at this simulator and its account, in the order printed. */
  serviceEnv(from?: string): Record<string, string>;
  /** The fields the carrier sends when it fetches the call's voice document, the call answered (for replaying and forging in tests). */
  webhookParams(call: CallRecord): Record<string, string>;
  /** Webhook requests sent and not answered yet (or not failed yet). */
  webhooksInFlight(): number;
  close(): Promise<void>;
}

/** A stand-in for the carrier's REST API and its voice platform, over real HTTP. */
export async function startSimulator(opts: SimulatorOptions): Promise<Simulator> {
  const flavor = FLAVORS[opts.flavor].forAccount(opts);
  const outcomes = new Map<string, Outcome>(opts.outcomes);
  const records: CallRecord[] = [];
  const running = new Set<Promise<void>>();
  // Calls whose run has finished, logger line included: waitForCall resolves only then,
  // so a test that awaits it sees everything the call did (call.ended is set a few ticks earlier).
  const finished = new WeakSet<CallRecord>();
  // Held calls ringing until pickUp, by sid.
  const ringing = new Map<string, () => void>();
  // The To of every create-call request received, in order, whatever its answer.
  const requested: string[] = [];
  const updates = new EventEmitter().setMaxListeners(0);
  const closing = new Closing();
  const webhooks = { inFlight: 0 };
  const sign = (url: string, params: Record<string, string>, o: { timestamp?: number } = {}) =>
    flavor.sign({ url, params, body: new URLSearchParams(params).toString(), timestamp: o.timestamp });

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

  const api = await startApiServer(
    flavor,
    {
      requested(to) {
        requested.push(to);
        updates.emit("change");
        return outcomes.get(to) ?? opts.defaultOutcome ?? { kind: "answer" };
      },
      created(call, outcome) {
        records.push(call);
        const run = runCall(
          {
            dialect: flavor.call,
            userAgent: flavor.userAgent,
            sign: flavor.sign,
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
            if (!closing.closed && opts.logger) {
              const { line, on } = heardLine(call);
              opts.logger(line, on);
            }
            finished.add(call);
            updates.emit("change");
          });
        running.add(run);
      },
      find: (sid) => records.find((c) => c.sid === sid),
    },
    { host: opts.host ?? "127.0.0.1", port: opts.port ?? 0 },
  );

  return {
    url: api.url,
    flavor: opts.flavor,
    setOutcome: (number, outcome) => void outcomes.set(number, outcome),
    calls: () => [...records],
    sign,
    serviceEnv: (from = "+15005550006") => flavor.serviceEnv(api.url, from),
    webhookParams: (call) => flavor.call.voiceParams({ ...call, status: "in-progress", answeredBy: undefined }),
    webhooksInFlight: () => webhooks.inFlight,
    waitForCall: (match, { timeoutMs = 10_000 } = {}) => waitForCall(updates, records, match, (c) => finished.has(c), "ended", timeoutMs),
    waitForHeld: (match, { timeoutMs = 10_000 } = {}) => waitForCall(updates, records, match, (c) => ringing.has(c.sid), "held", timeoutMs),
    waitForCreateCall: (to, { timeoutMs = 10_000 } = {}) =>
      waitUntil(
        updates,
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
      api.cutHeld();
      await Promise.allSettled([...running]);
      await api.close();
    },
  };
}
