import type { LookupAddress } from "node:dns";
import { request as httpRequest } from "node:http";
import { request as httpsRequest } from "node:https";
import type { LookupFunction } from "node:net";
import { checkTargetUrl, resolveTarget, type TargetPolicy } from "./target.js";

/**
 * One delivery attempt of an event webhook: a POST, its answer read as Standard Webhooks
 * advises (2xx delivered, 410 stop sending, anything else try again later). node:http
 * rather than fetch: fetch cannot be told which address to connect to.
 */

export interface PostOptions extends TargetPolicy {
  /** The whole attempt: DNS, connect, TLS, sending, and reading the answer. */
  timeoutMs: number;
}

export interface PostResult {
  ok: boolean;
  status?: number;
  error?: string;
  /** Worth another attempt later (network trouble, a non-2xx answer). */
  retryable: boolean;
  /** 410 Gone: the receiver asks us to stop; disable the endpoint. */
  gone: boolean;
}

// The answer's body tells us nothing we act on; a few KB are read so that a small reply
// completes normally, and a receiver cannot make us buffer a large one.
const MAX_ANSWER_BYTES = 4096;
// Headers we compute ourselves: a caller's copy could contradict the body or the target.
const OURS = new Set(["host", "content-length", "transfer-encoding", "connection"]);

/**
 * POSTs body to url. Never throws: every outcome is a PostResult. Errors name the host
 * only, since a webhook URL's path may hold the receiver's own token.
 */
export async function postEvent(url: string, body: string, headers: Record<string, string>, opts: PostOptions): Promise<PostResult> {
  const reason = checkTargetUrl(url, opts);
  if (reason) return refused(`Webhook URL ${reason}`);
  const target = new URL(url);
  const deadline = Date.now() + opts.timeoutMs;
  let addresses: LookupAddress[] | undefined;
  if (!opts.allowPrivate) {
    const resolved = await beforeDeadline(resolveTarget(target), deadline);
    if (resolved === undefined) return failed(`${target.host} did not resolve within ${opts.timeoutMs} ms`);
    if ("refused" in resolved) return refused(`Webhook URL refused: ${resolved.refused}`);
    if ("unresolved" in resolved) return failed(resolved.unresolved);
    addresses = resolved.addresses;
  }
  return send(target, body, headers, { deadline, timeoutMs: opts.timeoutMs, addresses });
}

/**
 * A lookup that answers with the addresses already checked, whatever the name: the
 * connection goes where the check looked, even if the name's next DNS answer differs
 * (DNS rebinding). The URL still names the host, so the Host header and the TLS server
 * name (SNI, and the certificate check) stay the URL's.
 */
export function pinnedLookup(addresses: readonly LookupAddress[]): LookupFunction {
  return (hostname, options, callback) => {
    const family = options.family === 4 || options.family === 6 ? options.family : 0;
    const fitting = addresses.filter((a) => family === 0 || a.family === family);
    // Asynchronously, as dns.lookup itself answers.
    process.nextTick(() => {
      const first = fitting[0];
      if (!first) {
        const err: NodeJS.ErrnoException = new Error(`no checked IPv${family} address for ${hostname}`);
        err.code = "ENOTFOUND";
        callback(err, "", undefined);
      } else if (options.all) callback(null, fitting.map((a) => ({ ...a })));
      else callback(null, first.address, first.family);
    });
  };
}

function send(
  target: URL,
  body: string,
  callerHeaders: Record<string, string>,
  opts: { deadline: number; timeoutMs: number; addresses: LookupAddress[] | undefined },
): Promise<PostResult> {
  return new Promise((resolve) => {
    const headers: Record<string, string> = { "content-type": "application/json", "user-agent": "voice-otp-webhooks" };
    for (const [name, value] of Object.entries(callerHeaders)) if (!OURS.has(name.toLowerCase())) headers[name.toLowerCase()] = value;
    headers["content-length"] = String(Buffer.byteLength(body));

    let status: number | undefined;
    let timer: NodeJS.Timeout | undefined;
    let settled = false;
    const settle = (result: PostResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(result);
    };
    const host = target.host;
    const request = target.protocol === "https:" ? httpsRequest : httpRequest;
    // agent: false, a fresh connection per attempt: a pooled one would outlive the
    // address check it was made under, and webhooks are too rare to need the pool.
    const options = { method: "POST", headers, agent: false as const, ...(opts.addresses && { lookup: pinnedLookup(opts.addresses) }) };
    let req: ReturnType<typeof httpRequest>;
    try {
      req = request(target, options);
    } catch (err) {
      // Node checks header names and values before sending: a caller's bug, not the network's.
      settle(refused(`Webhook not sent: ${(err as Error).message}`));
      return;
    }
    timer = setTimeout(() => {
      settle(status === undefined ? failed(`${host} did not answer within ${opts.timeoutMs} ms`) : byStatus(status, host));
      req.destroy();
    }, Math.max(0, opts.deadline - Date.now()));

    // on, not once: destroying the request may raise a second error after the first.
    req.on("error", (err: NodeJS.ErrnoException) => {
      settle(status === undefined ? failed(`could not reach ${host}: ${err.code ?? err.message}`) : byStatus(status, host));
    });
    req.on("response", (res) => {
      status = res.statusCode ?? 0;
      const done = () => {
        settle(byStatus(status ?? 0, host));
        res.destroy();
      };
      let read = 0;
      res.on("data", (chunk: Buffer) => {
        read += chunk.length;
        if (read > MAX_ANSWER_BYTES) done();
      });
      res.on("end", done);
      res.on("error", done);
      res.on("close", done);
    });
    req.end(body);
  });
}

function byStatus(status: number, host: string): PostResult {
  if (status >= 200 && status < 300) return { ok: true, status, retryable: false, gone: false };
  if (status === 410) return { ok: false, status, retryable: false, gone: true, error: `${host} answered 410 Gone: the receiver asks us to stop; disable this endpoint` };
  if (status >= 300 && status < 400) {
    // Standard Webhooks: a redirect is a failure, not followed; the URL should be updated.
    return { ok: false, status, retryable: true, gone: false, error: `${host} answered ${status}, a redirect: webhooks do not follow redirects; configure the final URL` };
  }
  return { ok: false, status, retryable: true, gone: false, error: `${host} answered ${status}` };
}

function refused(error: string): PostResult {
  return { ok: false, retryable: false, gone: false, error };
}

function failed(error: string): PostResult {
  return { ok: false, retryable: true, gone: false, error };
}

/** The promise's value, or undefined once the deadline passes. */
async function beforeDeadline<T>(promise: Promise<T>, deadline: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<undefined>((resolve) => (timer = setTimeout(resolve, Math.max(0, deadline - Date.now()), undefined)));
  try {
    return await Promise.race([promise, late]);
  } finally {
    clearTimeout(timer);
  }
}
