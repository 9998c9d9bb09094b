import type { IncomingHttpHeaders } from "node:http";
import { keptAliveAgents, sendRequest, type Agents } from "../../net/http-request.js";

/** What the twilio SDK hands its HTTP client (BaseTwilio.request). */
interface SdkRequest {
  method: string;
  uri: string;
  username?: string;
  password?: string;
  authStrategy?: { getAuthString(): Promise<string> };
  headers?: Record<string, string>;
  params?: Record<string, unknown>;
  data?: Record<string, unknown>;
  timeout?: number;
}
/** What the SDK expects back: it parses the body itself, and raises RestException from it. */
interface SdkResponse {
  statusCode: number;
  body: string;
  headers: IncomingHttpHeaders;
}

/** A form with list values as repeated keys, as the SDK's own client sends them. */
function form(values: Record<string, unknown>): string {
  const out = new URLSearchParams();
  for (const [k, v] of Object.entries(values)) {
    if (v === undefined || v === null) continue;
    for (const item of Array.isArray(v) ? v : [v]) out.append(k, String(item));
  }
  return out.toString();
}

/**
 * The HTTP client under the twilio SDK: the SDK still builds every request (URL,
 * parameters, headers) and reads every answer (records, RestException); this only
 * sends it, over node:https with kept-alive connections. The SDK's own client goes
 * through axios, whose per-request work is a large share of the service's CPU for a
 * call placed (bench/findings.md has the measurement). Failures keep the
 * shapes src/carriers/twilio/errors.ts classifies: node's network errors with their
 * codes, ECONNABORTED on a timeout, and bodies as text for the SDK to parse. No
 * proxy: with HTTP_PROXY set the SDK's own client is used (see client.ts).
 */
export class LeanTwilioHttp {
  readonly #agents: Agents;
  constructor(private readonly opts: { timeoutMs: number; maxSockets: number }) {
    this.#agents = keptAliveAgents({ maxSockets: opts.maxSockets, maxTotalSockets: opts.maxSockets });
  }

  /** The last Basic credentials built: the SDK sends the same account's every time. */
  #basic = { user: "", password: "", header: "" };

  async request(req: SdkRequest): Promise<SdkResponse> {
    const url = new URL(req.uri);
    if (req.params) url.search = form(req.params);
    const headers: Record<string, string> = { ...req.headers };
    if (req.username && req.password) headers.Authorization = this.#basicAuth(req.username, req.password);
    else if (req.authStrategy) headers.Authorization = await req.authStrategy.getAuthString();
    const body = req.data && headers["Content-Type"] === "application/x-www-form-urlencoded" ? form(req.data) : req.data ? JSON.stringify(req.data) : undefined;
    const timeoutMs = req.timeout ?? this.opts.timeoutMs;
    const answer = await sendRequest(url, {
      method: req.method.toUpperCase(),
      headers,
      body,
      agents: this.#agents,
      timeoutMs,
      timeoutError: () => Object.assign(new Error(`timeout of ${timeoutMs}ms exceeded`), { code: "ECONNABORTED" }),
    });
    return { statusCode: answer.status, body: answer.body, headers: answer.headers };
  }

  #basicAuth(user: string, password: string): string {
    if (this.#basic.user !== user || this.#basic.password !== password) {
      this.#basic = { user, password, header: `Basic ${Buffer.from(`${user}:${password}`).toString("base64")}` };
    }
    return this.#basic.header;
  }
}
