import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from "node:http";
import { Agent as HttpsAgent, request as httpsRequest } from "node:https";
import type { Closing } from "./closing.js";

/** What a webhook answered. */
export interface WebhookAnswer {
  status: number;
  ok: boolean;
  body: string;
}

/**
 * One webhook request, as a carrier sends it: over kept-alive connections, given up
 * after timeoutMs or when the simulator closes. node:http rather than fetch: a
 * simulated carrier under load sends thousands of these a second, and fetch's streams
 * and abort signals cost several times the CPU of the request itself.
 */
export function send(
  url: string,
  opts: { method: string; headers: Record<string, string>; body?: string; closing: Closing; timeoutMs: number },
): Promise<WebhookAnswer> {
  return new Promise((resolve, reject) => {
    if (opts.closing.closed) return reject(new Error("the simulator closed"));
    const target = new URL(url);
    const secure = target.protocol === "https:";
    const headers = opts.body === undefined ? opts.headers : { ...opts.headers, "Content-Length": String(Buffer.byteLength(opts.body)) };
    const req = (secure ? httpsRequest : httpRequest)(target, { method: opts.method, headers, agent: secure ? agents.https : agents.http });
    const timer = setTimeout(
      () => req.destroy(Object.assign(new Error(`no answer within ${opts.timeoutMs} ms`), { code: "ETIMEDOUT" })),
      opts.timeoutMs,
    );
    const forget = opts.closing.onClose(() => req.destroy(new Error("the simulator closed")));
    const settle = () => {
      clearTimeout(timer);
      forget();
    };
    req.once("error", (err) => {
      settle();
      reject(err);
    });
    req.once("response", (res: IncomingMessage) => {
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.once("error", (err) => {
        settle();
        reject(err);
      });
      res.once("end", () => {
        settle();
        const status = res.statusCode ?? 0;
        resolve({ status, ok: status >= 200 && status < 300, body: Buffer.concat(chunks).toString("utf8") });
      });
    });
    req.end(opts.body);
  });
}

/**
 * Like a carrier's webhook workers: a bounded pool of kept-alive connections per host.
 * Unbounded, a burst opens hundreds of connections at once, overflows the service's
 * listen queue, and the dropped SYNs are retried for longer than the webhook timeout.
 */
const POOL = { keepAlive: true, maxSockets: 128 };
const agents = { http: new HttpAgent(POOL), https: new HttpsAgent(POOL) };
