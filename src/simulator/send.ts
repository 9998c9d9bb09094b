import { keptAliveAgents, sendRequest } from "../net/http-request.js";
import type { Closing } from "./closing.js";

/** What a webhook answered. */
export interface WebhookAnswer {
  status: number;
  ok: boolean;
  body: string;
}

/**
 * Like a carrier's webhook workers: a bounded pool of kept-alive connections per host.
 * Unbounded, a burst opens hundreds of connections at once, overflows the service's
 * listen queue, and the dropped SYNs are retried for longer than the webhook timeout.
 */
const agents = keptAliveAgents({ maxSockets: 128 });

/** One webhook request, as a carrier sends it: given up after timeoutMs or when the simulator closes. */
export async function send(
  url: string,
  opts: { method: string; headers: Record<string, string>; body?: string; closing: Closing; timeoutMs: number },
): Promise<WebhookAnswer> {
  if (opts.closing.closed) throw new Error("the simulator closed");
  const { status, body } = await sendRequest(new URL(url), {
    method: opts.method,
    headers: opts.headers,
    body: opts.body,
    agents,
    timeoutMs: opts.timeoutMs,
    timeoutError: () => Object.assign(new Error(`no answer within ${opts.timeoutMs} ms`), { code: "ETIMEDOUT" }),
    cancellable: (cancel) => opts.closing.onClose(() => cancel(new Error("the simulator closed"))),
  });
  return { status, ok: status >= 200 && status < 300, body };
}
