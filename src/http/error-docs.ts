import { z } from "zod";
import { CARRIER_NAMES } from "../carriers/registry.js";
import { ERRORS, type ErrorCode } from "./errors.js";
import { withRequestId } from "./openapi-route.js";

/**
 * The error catalogue as the OpenAPI document shows it: the body each code comes
 * with (`{ error: { code, message, ...details } }`), when it happens, and a
 * realistic example, so that a route declares its errors by code alone.
 */

const retryAfterSeconds = z.number().int().min(1).meta({ description: "Seconds to wait; the Retry-After header says the same." });
const carrierDetails = {
  carrier: z.enum([...CARRIER_NAMES, "simulator"]),
  carrier_code: z.string().meta({
    description: "The carrier's own error code (e.g. Twilio's 21211, Telnyx's 10002), or `timeout`, a network error's code (`ECONNREFUSED`), `bad_response`.",
  }),
  carrier_status: z.number().int().optional().meta({ description: "The HTTP status the carrier's API answered, when it answered." }),
  challenge_id: z.string().optional().meta({
    description:
      "The challenge, now `failed`, when the call may have been placed (it counts toward the limits). Absent when the carrier's API refused the request outright: no call was placed and nothing counts.",
  }),
};
/** A refusal the carrier gave before any call was placed: the carrier and its own code, no challenge. */
const carrierRefusal = {
  carrier: carrierDetails.carrier,
  carrier_code: carrierDetails.carrier_code,
  carrier_status: carrierDetails.carrier_status,
};
/** The same, on a 400 that the service's own checks can also give (they add neither field). */
const carrierSaidSo = {
  carrier: carrierDetails.carrier.optional().meta({ description: "The carrier that refused the number, when the carrier did (not the service's own checks)." }),
  carrier_code: carrierDetails.carrier_code.optional(),
  carrier_status: carrierDetails.carrier_status,
};

/** Supabase reads an auth hook's error as `{error: {http_code, message}}`: the hook's errors carry both shapes. */
const hookHttpCode = z.number().int().meta({ description: "The HTTP status again, where Supabase's auth hooks read it." });

const DETAILS: Partial<Record<ErrorCode, z.ZodRawShape>> = {
  invalid_request: { field: z.string().optional().meta({ description: "The body field that failed validation." }) },
  invalid_hook_signature: { http_code: hookHttpCode },
  hook_not_configured: { http_code: hookHttpCode },
  rate_limited: {
    limit: z.string().meta({
      description:
        "The limit reached: `resend_cooldown`, `failed_validations`, `calls_per_number_per_10_min`, `calls_per_number_per_day`, `calls_per_prefix_per_hour`, `calls_per_ip_per_hour`, `service_calls_per_day`, `calls_per_day`, `requests_per_key_per_minute` or `auth_failures_per_ip_per_minute`.",
    }),
    retry_after_seconds: retryAfterSeconds,
  },
  attempts_exhausted: { retry_after_seconds: retryAfterSeconds },
  challenge_not_pending: {
    status: z.enum(["approved", "expired", "superseded", "failed", "too_many_attempts"]).meta({ description: "How the challenge ended." }),
  },
  invalid_number: carrierSaidSo,
  destination_not_allowed: carrierSaidSo,
  carrier_error: carrierDetails,
  carrier_timeout: { ...carrierDetails, challenge_id: carrierDetails.challenge_id.unwrap().meta({ description: "The challenge, now `failed`: the call may have been placed, so it counts toward the limits." }) },
  carrier_auth_failed: carrierRefusal,
  carrier_throttled: { ...carrierRefusal, retry_after_seconds: retryAfterSeconds },
};

/** When each code happens, and an example of what it says. */
const CATALOGUE: Record<ErrorCode, { when: string; example: Record<string, unknown> }> = {
  invalid_request: {
    when: "the body (or a header) fails validation, or is not valid JSON or a valid form",
    example: { message: "number: Invalid input: expected string, received undefined", field: "number" },
  },
  invalid_number: {
    when: "`number` cannot be parsed or is not valid for its country, or the carrier says it is not a valid number or cannot be reached (adds `carrier`, `carrier_code`; no call was placed and nothing counts toward the limits)",
    example: { message: "number: not a possible phone number" },
  },
  destination_not_allowed: {
    when: "the number's country is not in ALLOWED_COUNTRIES, it starts with one of BLOCKED_PREFIXES, or it is not a personal line; or the carrier account may not call it (geographic permissions, the carrier's blocklist, a trial account), with `carrier` and `carrier_code`: no call was placed and nothing counts",
    example: { message: "number: calls to GB are not allowed (ALLOWED_COUNTRIES is US,CA)" },
  },
  unsupported_language: { when: "`language` is not one the calls speak", example: { message: "language: use one of en, es, fr, de, pt" } },
  unauthorized: {
    when: "a missing, unknown or revoked key",
    example: { message: "send Authorization: Bearer <key> with a key from API_KEYS or `npm run keys -- create`" },
  },
  invalid_hook_signature: {
    when: "a Supabase hook request whose Standard Webhooks signature does not match the hook's secret, or whose timestamp is more than 5 minutes from the service's clock",
    example: { message: "no signature in webhook-signature matches the hook's secret", http_code: 401 },
  },
  invalid_signature: {
    when: "the carrier's signature is missing or does not match PUBLIC_BASE_URL + this path and query (or, with TRUST_PROXY, the URL the proxy reports)",
    example: { message: "the carrier signature is missing or does not match this URL" },
  },
  cross_origin: {
    when: "the service runs without API keys and a browser sent this request from a page of another origin",
    example: { message: "this service has no API keys, so it refuses requests from web pages of other origins; call it from your backend, or set API_KEYS" },
  },
  forbidden: {
    when: "the key is of the wrong kind for this route: an admin key on a verification route, or a service's key on /services",
    example: { message: "this route takes an admin key (ADMIN_API_KEYS or `voice-otp keys create NAME --admin`); a service's key cannot manage services" },
  },
  custom_code_not_allowed: {
    when: "the request brings its own `code` and the key's service does not take one (`allow_custom_code`, ALLOW_CUSTOM_CODE for the default service)",
    example: {
      message: "code: this service makes its own codes; to send yours, set allow_custom_code=true on the service (ALLOW_CUSTOM_CODE=true for the default service), or leave code out",
    },
  },
  hook_not_configured: {
    when: "no Supabase hook secret is set for this service (SUPABASE_HOOK_SECRET for the default service, PUT /services/{id}/supabase-hook for another): no call is placed",
    example: { message: "no Supabase hook secret is set for this service: set SUPABASE_HOOK_SECRET, or PUT /services/{id}/supabase-hook", http_code: 404 },
  },
  not_found: { when: "no such challenge, no such service, or no webhook for the service", example: { message: "no challenge with this id" } },
  method_not_allowed: { when: "a known path with another method (sets Allow)", example: { message: "/request-auth takes POST, not GET" } },
  request_timeout: {
    when: "the request's head did not arrive within HTTP_HEADERS_TIMEOUT_SECONDS, or the whole request within HTTP_REQUEST_TIMEOUT_SECONDS; the connection is closed",
    example: { message: "the request did not arrive in time (HTTP_HEADERS_TIMEOUT_SECONDS, HTTP_REQUEST_TIMEOUT_SECONDS); nothing was done" },
  },
  headers_too_large: {
    when: "the request line and headers are over 16 KB; the connection is closed",
    example: { message: "the request line and headers are over 16 KB; nothing was done" },
  },
  idempotency_in_flight: {
    when: "a request with this Idempotency-Key is still being processed",
    example: { message: "a request with this Idempotency-Key is still in progress; retry shortly" },
  },
  name_taken: {
    when: "another live service has this name",
    example: { message: "a service named \"consumer-app\" exists already; pick another name" },
  },
  challenge_not_pending: {
    when: "the challenge has already ended otherwise (approved, expired, superseded, failed, too_many_attempts): nothing was changed; `status` says how it ended",
    example: { message: "the challenge is approved, not pending; nothing was changed", status: "approved" },
  },
  payload_too_large: { when: "a body over 16 KB", example: { message: "request body is over 16 KB" } },
  unsupported_media_type: {
    when: "a body that is neither JSON nor a form",
    example: { message: "send the body as application/json or application/x-www-form-urlencoded" },
  },
  idempotency_key_reused: {
    when: "this Idempotency-Key came with a different body",
    example: { message: "this Idempotency-Key was used with a different request body; use a new key" },
  },
  attempts_exhausted: {
    when: "every guess for this number is used up until the exhausted code expires",
    example: {
      message: "every code guess for this number is used up; a new call can be requested after Retry-After seconds",
      retry_after_seconds: 412,
    },
  },
  rate_limited: {
    when: "an abuse limit refuses the request",
    example: {
      message: "a call to this number was requested less than 30 s ago; wait before asking again",
      limit: "resend_cooldown",
      retry_after_seconds: 27,
    },
  },
  internal_error: { when: "a bug; the details are in the service's log", example: { message: "internal error; the service logged the details" } },
  carrier_error: {
    when: "the carrier refused the call for another reason, failed, or answered something unexpected; `challenge_id` (now failed) is there when the call may have been placed",
    example: {
      message: "twilio could not place the call: An internal server error has occurred",
      carrier: "twilio",
      carrier_code: "20500",
      carrier_status: 500,
      challenge_id: "ch_w_pghrJuwBSBg7x0NbcBpA",
    },
  },
  service_unavailable: { when: "the database does not answer", example: { message: "the database is unavailable; retry shortly" } },
  shutting_down: {
    when: "this instance is draining for shutdown; retry, another instance answers",
    example: { message: "this instance is shutting down; retry shortly (another instance will answer)" },
  },
  carrier_auth_failed: {
    when: "the carrier refused the service's own credentials; no call was placed. The operator must correct them: the service logs which variables to check",
    example: {
      message: "twilio refused this service's credentials, so no call can be placed; its operator must correct them (the service's log names the variables)",
      carrier: "twilio",
      carrier_code: "20003",
      carrier_status: 401,
    },
  },
  carrier_throttled: {
    when: "the carrier asks the service to slow down; no call was placed, retry after Retry-After",
    example: {
      message: "twilio asks this service to slow down; no call was placed, retry after Retry-After seconds",
      carrier: "twilio",
      carrier_code: "20429",
      carrier_status: 429,
      retry_after_seconds: 1,
    },
  },
  carrier_timeout: {
    when: "the carrier's API did not answer within CARRIER_TIMEOUT_MS; the challenge is marked failed",
    example: {
      message: "twilio did not answer in time: no answer from the twilio API within 10000 ms",
      carrier: "twilio",
      carrier_code: "timeout",
      challenge_id: "ch_w_pghrJuwBSBg7x0NbcBpA",
    },
  },
};

/** The per-key request budget's refusal, the one limit on routes other than /request-auth. */
export const keyRateLimitedExample = {
  message: "limit reached: at most 1200 requests per minute for this API key",
  limit: "requests_per_key_per_minute",
  retry_after_seconds: 12,
};

const bodies = new Map<ErrorCode, z.ZodObject>();
/** The body of one error code, a component of the document (`Error_<code>`). */
export function errorBodySchema(code: ErrorCode) {
  let body = bodies.get(code);
  if (!body) {
    const error = z.object({ code: z.literal(code), message: z.string().meta({ description: "What to do next." }), ...DETAILS[code] });
    body = z.object({ error }).meta({ id: `Error_${code}`, description: CATALOGUE[code].when });
    bodies.set(code, body);
  }
  return body;
}

const headerText = (description: string) => z.string().meta({ description });
const HEADERS: Partial<Record<ErrorCode, z.ZodRawShape>> = {
  unauthorized: { "WWW-Authenticate": headerText('`Bearer realm="voice-otp"`') },
  idempotency_in_flight: { "Retry-After": headerText("Seconds to wait: 1.") },
  attempts_exhausted: { "Retry-After": headerText("Seconds until a new call can be requested.") },
  rate_limited: { "Retry-After": headerText("Seconds until the limit lets a request through.") },
  service_unavailable: { "Retry-After": headerText("5, when the database did not answer a request.").optional() },
  shutting_down: { "Retry-After": headerText("1, on a request refused while draining.").optional() },
  carrier_throttled: { "Retry-After": headerText("Seconds the carrier asks the service to wait.") },
};

/** The headers of a status shared by several codes: one that only some of them set is optional. */
function groupHeaders(group: ErrorCode[]): z.ZodRawShape {
  const shape: Record<string, z.ZodType> = {};
  const headers = (c: ErrorCode) => (HEADERS[c] ?? {}) as Record<string, z.ZodType>;
  for (const code of group) {
    for (const [name, schema] of Object.entries(headers(code))) {
      shape[name] = group.every((c) => headers(c)[name]) ? schema : schema.optional();
    }
  }
  return shape;
}

/** Responses for the error codes a route can answer, grouped by HTTP status; `examples` replaces a code's usual example. */
export function errorResponses(codes: ErrorCode[], examples: Partial<Record<ErrorCode, Record<string, unknown>>> = {}) {
  const byStatus = new Map<number, ErrorCode[]>();
  for (const code of codes) byStatus.set(ERRORS[code], [...(byStatus.get(ERRORS[code]) ?? []), code]);
  const responses: Record<number, { description: string; headers: z.ZodObject; content: { "application/json": { schema: z.ZodType; examples: Record<string, { summary: string; value: unknown }> } } }> = {};
  for (const [status, group] of byStatus) {
    const schemas = group.map(errorBodySchema);
    responses[status] = {
      description: group.map((c) => `\`${c}\`: ${CATALOGUE[c].when}`).join("; "),
      headers: withRequestId(groupHeaders(group)),
      content: {
        "application/json": {
          schema: schemas.length === 1 ? schemas[0]! : z.union(schemas),
          examples: Object.fromEntries(
            group.map((c) => [c, { summary: c, value: { error: { code: c, ...(examples[c] ?? CATALOGUE[c].example) } } }]),
          ),
        },
      },
    };
  }
  return responses;
}

/**
 * A route's own response for a status that error codes also answer with (validate-auth's
 * 403 denial and `cross_origin`): one response whose body is either.
 */
export function sharedStatus<S extends z.ZodType, T>(
  own: { description: string; headers: z.ZodObject; content: { "application/json": { schema: S; examples: Record<string, { summary: string; value: T }> } } },
  codes: ErrorCode[],
) {
  const errors = Object.values(errorResponses(codes));
  const content = own.content["application/json"];
  return {
    description: [own.description, ...errors.map((e) => e.description)].join(" Or "),
    headers: own.headers,
    content: {
      "application/json": {
        schema: z.union([content.schema, ...errors.map((e) => e.content["application/json"].schema)]),
        examples: Object.assign({}, content.examples, ...errors.map((e) => e.content["application/json"].examples)) as Record<string, { summary: string; value: unknown }>,
      },
    },
  };
}
