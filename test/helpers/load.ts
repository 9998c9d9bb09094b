import type { Simulator } from "../../src/simulator/index.js";
import { codeHeardFor, type TimedResponse } from "./service-process.js";

/**
 * Several clients doing what backends do, continuously: ask for a call, listen to
 * it through the simulated phone, check the code they heard. Every answer (or
 * network error) is recorded with its time, for tests that change the world
 * underneath them (a database outage, a shutdown) and then judge every answer.
 */

export type Op = "request-auth" | "validate-auth";

export interface Answer {
  client: number;
  op: Op;
  /** "error" for a network error or a timeout: no HTTP answer at all. */
  status: number | "error";
  ms: number;
  /** When the request was sent (performance.now()). */
  sentAt: number;
  errorCode?: string;
  retryAfter?: string | null;
  error?: string;
  challengeId?: string;
}

export interface Load {
  answers: Answer[];
  /** Challenges answered 201, with the number they call. */
  issued: Array<{ id: string; number: string }>;
  /** Resolves once the answers so far satisfy the predicate; rejects after timeoutMs. */
  until(what: string, predicate: (answers: Answer[]) => boolean, timeoutMs?: number): Promise<void>;
  /** Lets every client finish the request it is in, then resolves. */
  stop(): Promise<void>;
}

export type Api = (method: string, path: string, body?: unknown, opts?: { timeoutMs?: number }) => Promise<TimedResponse>;

export function startLoad(opts: {
  clients: number;
  api: Api;
  simulator: Simulator;
  /** A fresh number for each request (the clients share the source). */
  nextNumber: () => string;
  /** Check the code heard on the call (true) or send a wrong one at once (false). */
  listen?: boolean;
  /** A breath between iterations, so the clients do not spin on a CPU shared with the service. */
  pauseMs?: number;
  /** A client stops after an answer like this (it goes elsewhere, as its load balancer would). */
  stopOn?: (answer: Answer) => boolean;
}): Load {
  const answers: Answer[] = [];
  const issued: Array<{ id: string; number: string }> = [];
  const watchers = new Set<() => void>();
  let stopping = false;

  /** Sends one request and records its answer: the response (null: no HTTP answer), and whether the client stops. */
  async function send(client: number, op: Op, body: unknown): Promise<{ res: TimedResponse | null; stop: boolean }> {
    const sentAt = performance.now();
    let res: TimedResponse | null = null;
    let answer: Answer;
    try {
      res = await opts.api("POST", `/${op}`, body);
      answer = {
        client,
        op,
        status: res.status,
        ms: res.ms,
        sentAt,
        errorCode: res.body?.error?.code,
        retryAfter: res.headers.get("retry-after"),
        challengeId: res.body?.id,
      };
    } catch (err) {
      const e = err as Error & { cause?: { code?: string } };
      answer = { client, op, status: "error", ms: performance.now() - sentAt, sentAt, error: `${e.name}: ${e.message} ${e.cause?.code ?? ""}` };
    }
    answers.push(answer);
    for (const w of [...watchers]) w();
    return { res, stop: opts.stopOn?.(answer) ?? false };
  }

  async function client(n: number) {
    while (!stopping) {
      const number = opts.nextNumber();
      const asked = await send(n, "request-auth", { number });
      if (asked.stop) return;
      let checked;
      if (asked.res?.status === 201) {
        const id = asked.res.body.id as string;
        issued.push({ id, number });
        const code = opts.listen === false ? null : await codeHeardFor(opts.simulator, id).catch(() => null);
        checked = await send(n, "validate-auth", { id, auth_code: code ?? "0000000" });
      } else {
        // A user typing a code anyway: validation traffic goes on whatever issuing does.
        checked = await send(n, "validate-auth", { number, auth_code: "0000000" });
      }
      if (checked.stop) return;
      if (opts.pauseMs) await new Promise((r) => setTimeout(r, opts.pauseMs));
    }
  }

  const running = Array.from({ length: opts.clients }, (_, i) => client(i));
  return {
    answers,
    issued,
    until(what, predicate, timeoutMs = 20_000) {
      return new Promise<void>((resolve, reject) => {
        const check = () => {
          if (!predicate(answers)) return;
          done();
          resolve();
        };
        const timer = setTimeout(() => {
          done();
          reject(new Error(`load: no ${what} within ${timeoutMs} ms (${summary(answers)})`));
        }, timeoutMs);
        const done = () => {
          clearTimeout(timer);
          watchers.delete(check);
        };
        watchers.add(check);
        check();
      });
    },
    async stop() {
      stopping = true;
      await Promise.all(running);
    },
  };
}

/** "request-auth 201×12 503×30, validate-auth 200×10 …": what the clients got, for failure messages. */
export function summary(answers: Answer[]): string {
  const counts = new Map<string, number>();
  for (const a of answers) {
    const k = `${a.op} ${a.status}${a.errorCode ? `/${a.errorCode}` : ""}`;
    counts.set(k, (counts.get(k) ?? 0) + 1);
  }
  return [...counts].map(([k, n]) => `${k}×${n}`).join(", ") || "no answers";
}
