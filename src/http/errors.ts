import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import type { Logger } from "pino";
import { DatabaseBusyError, DatabaseUnavailableError } from "../db/database.js";

/**
 * The error catalogue: every error a client can receive, by code. Messages say
 * what to do next and never carry a code, a MAC or a full phone number.
 */
export const ERRORS = {
  invalid_request: 400,
  invalid_number: 400,
  destination_not_allowed: 400,
  unsupported_language: 400,
  unauthorized: 401,
  invalid_hook_signature: 401,
  invalid_signature: 403,
  cross_origin: 403,
  forbidden: 403,
  custom_code_not_allowed: 403,
  not_found: 404,
  hook_not_configured: 404,
  method_not_allowed: 405,
  request_timeout: 408,
  idempotency_in_flight: 409,
  name_taken: 409,
  challenge_not_pending: 409,
  payload_too_large: 413,
  unsupported_media_type: 415,
  idempotency_key_reused: 422,
  attempts_exhausted: 429,
  rate_limited: 429,
  headers_too_large: 431,
  internal_error: 500,
  carrier_error: 502,
  service_unavailable: 503,
  shutting_down: 503,
  carrier_auth_failed: 503,
  carrier_throttled: 503,
  carrier_timeout: 504,
} as const satisfies Record<string, ContentfulStatusCode>;

export type ErrorCode = keyof typeof ERRORS;

export class AppError extends Error {
  readonly status: ContentfulStatusCode;
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: Record<string, unknown>,
    readonly headers?: Record<string, string>,
  ) {
    super(message);
    this.name = "AppError";
    this.status = ERRORS[code];
  }
}

export function errorBody(code: string, message: string, details?: Record<string, unknown>) {
  return { error: { code, message, ...details } };
}

export function sendError(c: Context, err: AppError) {
  for (const [k, v] of Object.entries(err.headers ?? {})) c.header(k, v);
  return c.json(errorBody(err.code, err.message, err.details), err.status);
}

/**
 * The hook every declared route's validators report to (OpenAPIHono's defaultHook):
 * a request that fails its schema is a 400 naming the first field at fault.
 */
export function validationHook(result: { success: boolean; error?: unknown }) {
  if (result.success) return;
  const issue = (result.error as { issues?: Array<{ path: PropertyKey[]; message: string }> }).issues?.[0];
  const field = issue?.path.map(String).join(".") ?? "";
  const message = issue?.message ?? "the request is not valid";
  throw new AppError("invalid_request", field ? `${field}: ${message}` : message, { field: field || undefined });
}

/** What Hono's own refusals (its validators' parsers, zod-openapi's media-type check) become in the catalogue. */
const BY_STATUS: Partial<Record<number, AppError>> = {
  400: new AppError("invalid_request", "the request is not valid"),
  413: new AppError("payload_too_large", "request body is over 16 KB"),
  415: new AppError("unsupported_media_type", "this route does not take a body of that Content-Type; /docs lists what it takes"),
};

/** Turns anything thrown into the JSON error shape; unexpected errors are logged whole and answered without internals. */
export function handleError(logger: Logger) {
  return async (err: Error, c: Context) => {
    if (err instanceof AppError) return sendError(c, err);
    if (err instanceof HTTPException) {
      // bearerAuth's refusals already carry our error body and their WWW-Authenticate.
      const res = err.getResponse();
      if (res.headers.get("content-type")?.startsWith("application/json")) {
        const challenge = res.headers.get("www-authenticate");
        if (challenge) c.header("WWW-Authenticate", challenge);
        return c.json(await res.json(), err.status);
      }
    }
    if (err instanceof HTTPException && /^Malformed (JSON|FormData)/.test(err.message)) {
      return sendError(c, new AppError("invalid_request", err.message.startsWith("Malformed JSON") ? "body is not valid JSON" : "body is not a valid form"));
    }
    const status = (err as { status?: number }).status;
    if (status && status >= 400 && status < 500) {
      return sendError(c, BY_STATUS[status] ?? new AppError("invalid_request", err.message || "bad request"));
    }
    // A Host header such as "user@host" puts credentials in the request's URL, and the
    // Fetch Request refuses to be built from it once the body is read: a bad request.
    if (err instanceof TypeError && hasCredentials(c.req.url)) {
      return sendError(c, new AppError("invalid_request", "the Host header is not a valid host name"));
    }
    // PostgreSQL cannot store some strings (a NUL byte): only the request can have carried one.
    if (hasCode(err, /^(22021|22P05)$/)) {
      return sendError(c, new AppError("invalid_request", "the request holds characters that cannot be stored, such as a NUL byte"));
    }
    if (err instanceof DatabaseBusyError) {
      c.header("Retry-After", "1");
      return sendError(c, new AppError("service_unavailable", "the database is busy with competing requests; retry shortly"));
    }
    if (err instanceof DatabaseUnavailableError || isConnectionError(err)) {
      c.header("Retry-After", "5");
      return sendError(c, new AppError("service_unavailable", "the database is unavailable; retry shortly"));
    }
    logger.error({ err, path: c.req.path }, "unhandled error");
    return sendError(c, new AppError("internal_error", "internal error; the service logged the details"));
  };
}

function isConnectionError(err: unknown): boolean {
  return hasCode(err, /^(ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE|CONNECT_TIMEOUT|CONNECTION_CLOSED|CONNECTION_ENDED|CONNECTION_DESTROYED|57P01|57P02|57P03|08\w\w\w)$/);
}

/** Whether the error, or one it wraps, carries a code (errno or SQLSTATE) matching the pattern. */
function hasCode(err: unknown, pattern: RegExp): boolean {
  for (let e: unknown = err; e; e = (e as { cause?: unknown }).cause) {
    const code = (e as { code?: string }).code;
    if (typeof code === "string" && pattern.test(code)) return true;
  }
  return false;
}

function hasCredentials(url: string): boolean {
  try {
    const u = new URL(url);
    return u.username !== "" || u.password !== "";
  } catch {
    return false;
  }
}
