import { Agent as HttpAgent, request as httpRequest, type AgentOptions, type IncomingHttpHeaders } from "node:http";
import { Agent as HttpsAgent, request as httpsRequest } from "node:https";

export interface Agents {
  http: HttpAgent;
  https: HttpsAgent;
}

/**
 * One kept-alive connection pool per scheme. An idle connection is closed by this side
 * first: after the server's own Keep-Alive timeout less a second when it announces one
 * (Node's servers do, 5 s by default), else after 30 s. A request sent on a connection
 * the server is closing at that moment fails with ECONNRESET, and a create-call that
 * fails so is never retried (it could ring twice): a call refused for nothing.
 */
export function keptAliveAgents(opts: AgentOptions): Agents {
  const options = { timeout: 30_000, ...opts, keepAlive: true };
  return { http: new HttpAgent(options), https: new HttpsAgent(options) };
}

export interface HttpAnswer {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

/**
 * One request over node:http(s) with its answer read as text. node:http rather than
 * fetch for the clients that send thousands of these a second: fetch's streams and
 * abort signals cost several times the CPU of the request itself. Rejects with node's
 * own network error (its code kept), or with timeoutError() once timeoutMs pass;
 * cancellable, when given, is handed the function that cuts the request short and
 * returns the function that forgets it.
 */
export function sendRequest(
  url: URL,
  opts: {
    method: string;
    headers: Record<string, string>;
    body?: string;
    agents: Agents;
    timeoutMs: number;
    timeoutError: () => Error;
    cancellable?: (cancel: (reason: Error) => void) => () => void;
  },
): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const secure = url.protocol === "https:";
    const headers = opts.body === undefined ? opts.headers : { ...opts.headers, "Content-Length": String(Buffer.byteLength(opts.body)) };
    const req = (secure ? httpsRequest : httpRequest)(url, { method: opts.method, headers, agent: secure ? opts.agents.https : opts.agents.http });
    const timer = setTimeout(() => req.destroy(opts.timeoutError()), opts.timeoutMs);
    const forget = opts.cancellable?.((reason) => req.destroy(reason));
    const fail = (err: Error) => {
      clearTimeout(timer);
      forget?.();
      reject(err);
    };
    req.once("error", fail);
    req.once("response", (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.once("error", fail);
      res.once("end", () => {
        clearTimeout(timer);
        forget?.();
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString("utf8") });
      });
    });
    req.end(opts.body);
  });
}
