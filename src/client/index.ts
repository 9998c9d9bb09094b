// A typed client for backends: only fetch, no dependencies. A 403 from
// validate-auth is an answer (approved: false), not an exception.
import {
  CarrierError,
  InvalidNumberError,
  RateLimitedError,
  ServiceUnavailableError,
  UnauthorizedError,
  VoiceOtpError,
} from "./errors.js";

export * from "./errors.js";

export interface ClientOptions {
  /** Where the service is, e.g. https://otp.internal.example.com */
  baseUrl: string;
  apiKey: string;
  /** Per attempt; default 15000 (a carrier may take seconds to accept a call). */
  timeoutMs?: number;
  /** Retries of requests that are safe to repeat; default 2. */
  retries?: number;
  /** Defaults to the global fetch. */
  fetch?: typeof fetch;
}

export interface Challenge {
  id: string;
  number: string;
  status: string;
  expiresAt: string;
  attemptsAllowed: number;
}

export type DenialReason = "incorrect" | "expired" | "no_pending_challenge" | "too_many_attempts" | "locked";

export interface Validation {
  approved: boolean;
  /** The challenge approved (or guessed against, when incorrect). */
  id?: string;
  reason?: DenialReason;
  attemptsRemaining?: number;
}

export interface ChallengeView {
  id: string;
  number: string;
  status: "pending" | "approved" | "expired" | "superseded" | "failed" | "too_many_attempts";
  language: string;
  attemptsUsed: number;
  attemptsAllowed: number;
  createdAt: string;
  expiresAt: string;
  endedAt: string | null;
  failureCode: string | null;
  call: { carrier: string; sid: string | null; status: string | null; answeredBy: string | null; events: Array<{ status: string; at: string }> };
}

/** When a failed attempt may be sent again without harm. */
type RetryPolicy =
  | "reads" // no side effect: any transport failure, 503
  | "not-delivered" // validation: only when the request cannot have been processed (refused connection, 503)
  | "never"; // a repeat could ring a phone twice

export class VoiceOtpClient {
  private readonly baseUrl: string;
  private readonly timeoutMs: number;
  private readonly retries: number;
  private readonly fetch: typeof fetch;

  constructor(private readonly options: ClientOptions) {
    if (!/^https?:\/\//.test(options.baseUrl)) throw new TypeError("baseUrl must be an http:// or https:// URL");
    if (!options.apiKey) throw new TypeError("apiKey is required");
    this.baseUrl = options.baseUrl.replace(/\/+$/, "");
    this.timeoutMs = options.timeoutMs ?? 15_000;
    this.retries = options.retries ?? 2;
    this.fetch = options.fetch ?? globalThis.fetch;
  }

  /**
   * Asks the service to call the number and read a code. Retried after a network
   * failure only with an idempotencyKey: the service then replays the first answer
   * instead of placing a second call.
   */
  async requestAuth(
    number: string,
    opts: { language?: string; clientIp?: string; idempotencyKey?: string } = {},
  ): Promise<Challenge> {
    const body = { number, language: opts.language, client_ip: opts.clientIp };
    const headers = opts.idempotencyKey ? { "Idempotency-Key": opts.idempotencyKey } : undefined;
    const res = await this.send("POST", "/request-auth", body, opts.idempotencyKey ? "reads" : "never", headers);
    const b = res.body as Record<string, unknown>;
    return {
      id: String(b.id),
      number: String(b.number),
      status: String(b.status),
      expiresAt: String(b.expires_at),
      attemptsAllowed: Number(b.attempts_allowed),
    };
  }

  /** Checks a code by number or by challenge id. */
  async validateAuth(input: ({ number: string } | { id: string }) & { code: string }): Promise<Validation> {
    const target = "id" in input ? { id: input.id } : { number: input.number };
    const res = await this.send("POST", "/validate-auth", { ...target, auth_code: input.code }, "not-delivered");
    const b = res.body as Record<string, unknown>;
    if (res.status === 200) return { approved: true, id: b.id as string | undefined };
    return {
      approved: false,
      id: b.id as string | undefined,
      reason: b.reason as DenialReason,
      attemptsRemaining: Number(b.attempts_remaining ?? 0),
    };
  }

  async getChallenge(id: string): Promise<ChallengeView> {
    const res = await this.send("GET", `/challenges/${encodeURIComponent(id)}`, undefined, "reads");
    const b = res.body as Record<string, any>;
    return {
      id: b.id,
      number: b.number,
      status: b.status,
      language: b.language,
      attemptsUsed: b.attempts_used,
      attemptsAllowed: b.attempts_allowed,
      createdAt: b.created_at,
      expiresAt: b.expires_at,
      endedAt: b.ended_at,
      failureCode: b.failure_code,
      call: {
        carrier: b.call?.carrier,
        sid: b.call?.sid ?? null,
        status: b.call?.status ?? null,
        answeredBy: b.call?.answered_by ?? null,
        events: b.call?.events ?? [],
      },
    };
  }

  private async send(
    method: string,
    path: string,
    body: unknown,
    retry: RetryPolicy,
    extraHeaders?: Record<string, string>,
  ): Promise<{ status: number; body: unknown }> {
    for (let attempt = 0; ; attempt++) {
      let res: Response;
      try {
        res = await this.fetch(`${this.baseUrl}${path}`, {
          method,
          headers: {
            authorization: `Bearer ${this.options.apiKey}`,
            accept: "application/json",
            ...(body === undefined ? {} : { "content-type": "application/json" }),
            ...extraHeaders,
          },
          body: body === undefined ? undefined : JSON.stringify(body),
          signal: AbortSignal.timeout(this.timeoutMs),
        });
      } catch (err) {
        const failure = transportFailure(err, this.timeoutMs);
        const safe = retry === "reads" || (retry === "not-delivered" && failure.notDelivered);
        if (safe && attempt < this.retries) {
          await sleep(backoff(attempt));
          continue;
        }
        throw failure.error;
      }
      const requestId = res.headers.get("x-request-id") ?? undefined;
      const text = await res.text();
      let parsed: unknown;
      try {
        parsed = text ? JSON.parse(text) : {};
      } catch {
        parsed = undefined;
      }
      if (res.ok || (res.status === 403 && path === "/validate-auth" && isDenial(parsed))) {
        if (parsed === undefined) throw new VoiceOtpError(`the service answered ${res.status} with a body that is not JSON`, res.status, "bad_response", requestId);
        return { status: res.status, body: parsed };
      }
      if (res.status === 503 && retry !== "never" && attempt < this.retries) {
        await sleep(Math.max(backoff(attempt), Math.min(5, Number(res.headers.get("retry-after") ?? 0)) * 1000));
        continue;
      }
      throw errorFor(res.status, parsed, requestId);
    }
  }
}

function isDenial(b: unknown): boolean {
  return typeof b === "object" && b !== null && (b as { status?: unknown }).status === "denied";
}

function errorFor(status: number, body: unknown, requestId?: string): VoiceOtpError {
  const err = (body as { error?: Record<string, unknown> } | undefined)?.error;
  const code = typeof err?.code === "string" ? err.code : `http_${status}`;
  const message = typeof err?.message === "string" ? err.message : `the service answered HTTP ${status}`;
  const { code: _c, message: _m, ...details } = err ?? {};
  if (status === 429) return new RateLimitedError(message, status, code, requestId, details);
  if (status === 401) return new UnauthorizedError(message, status, code, requestId, details);
  if (code === "invalid_number" || code === "destination_not_allowed") return new InvalidNumberError(message, status, code, requestId, details);
  if (status === 502 || status === 504) return new CarrierError(message, status, code, requestId, details);
  if (status === 503) return new ServiceUnavailableError(message, status, code, requestId, details);
  return new VoiceOtpError(message, status, code, requestId, details);
}

function transportFailure(err: unknown, timeoutMs: number): { error: VoiceOtpError; notDelivered: boolean } {
  const e = err as { name?: string; cause?: { code?: string } };
  if (e?.name === "TimeoutError" || e?.name === "AbortError") {
    return { error: new ServiceUnavailableError(`no answer from voice-otp within ${timeoutMs} ms`, 0, "timeout"), notDelivered: false };
  }
  const code = e?.cause?.code ?? "network";
  // A refused connection never reached the service; anything later might have.
  return {
    error: new ServiceUnavailableError(`cannot reach voice-otp (${code})`, 0, "network"),
    notDelivered: code === "ECONNREFUSED" || code === "ENOTFOUND" || code === "EAI_AGAIN",
  };
}

const backoff = (attempt: number) => 200 * 2 ** attempt + Math.random() * 100;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
