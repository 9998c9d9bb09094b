import { createRoute } from "@hono/zod-openapi";
import { z } from "zod";
import { errorResponses, sharedStatus } from "../error-docs.js";
import { apiKeySecurity, jsonResponse, publicRoute, requestIdParam } from "../openapi-route.js";
import { challengeView, DENIED_MESSAGES, requestAuthCreated, validateApproved, validateDenied } from "../responses.js";
import { requestAuthBody, validateAuthBody } from "../schemas.js";

/** The demo page's API, as the OpenAPI document declares it (demo-api.ts serves it). */

/**
 * Recorded as the key of the challenges the demo makes: `demo:page` without a key, `demo:<key's name>`
 * with one. No key's name starts with `demo:` (database keys' names take no `:`, API_KEYS' are `env:…`),
 * so the demo's challenges are told from a backend's, and each key's demo calls from another's.
 */
export const DEMO_KEY_NAME = "demo:page";
export const demoKeyName = (keyName: string) => `demo:${keyName}`;

/** JSON only, like the admin API: the page's script is its one caller. */
const jsonBody = <S extends z.ZodType>(schema: S, examples: Record<string, { summary: string; value: z.input<S> }>) => ({
  required: false,
  content: { "application/json": { schema, examples } },
});
const headers = z.object({ "X-Request-Id": requestIdParam });
const ONLY_WHEN =
  " Served only when DEMO_ENABLED (by default with the simulator outside production), to pages of this origin only. Without a key, for the default service, only where POST /request-auth takes none and rings no phone (no API_KEYS, the simulator, outside production); anywhere else with a service's API key, in that key's service, refused 401 without one.";

const at = (s: number) => new Date(Date.UTC(2026, 10, 22, 23, 55, s)).toISOString();
const ID = "ch_w_pghrJuwBSBg7x0NbcBpA";

export const demoCallBody = z
  .object({ number: requestAuthBody.shape.number, language: requestAuthBody.shape.language })
  .meta({ id: "DemoCallBody", description: "The number to call, as /request-auth takes it." });

export const demoCallCreated = requestAuthCreated
  .extend({
    shows_heard: z.boolean().meta({
      description: "Whether the progress shows what the phone heard: only with the simulator outside production. With a real carrier the code is never shown: the phone hears it.",
    }),
  })
  .meta({ id: "DemoCallCreated", description: "The call is ringing." });

export const demoProgress = z
  .object({
    id: z.string(),
    status: challengeView.shape.status,
    attempts_used: z.number().int(),
    attempts_allowed: z.number().int(),
    expires_at: z.iso.datetime(),
    failure_code: challengeView.shape.failure_code,
    call: challengeView.shape.call,
    heard: z
      .array(z.string())
      .nullable()
      .meta({ description: "What the simulated phone heard so far, one entry per sentence, the code included; null with a real carrier or in production." }),
  })
  .meta({ id: "DemoProgress", description: "The demo call's progress." });

export const demoVerifyBody = z
  .object({ id: z.string().trim().min(1).max(64).meta({ description: "The id POST /demo/api/call answered." }), auth_code: validateAuthBody.shape.auth_code })
  .meta({ id: "DemoVerifyBody", description: "The code the person typed, for the demo's challenge." });

export const demoApproved = validateApproved
  .extend({
    signed_by: z.string().meta({
      description: "The `kid` of the key in GET /.well-known/jwks.json whose signature on the token this service checked, as a verifier elsewhere would.",
    }),
  })
  .meta({ id: "DemoApproved", description: "The code is right: the verification token, checked against the published keys." });

const TOKEN = "eyJhbGciOiJFZERTQSIsInR5cCI6IkpXVCIsImtpZCI6IktGcWcxdFpJRXpyV1djMVBqdmlHNWZmSEFkdk80ZVNUZTNraGJBSGxGX3MifQ.e30.c2ln";

export const demoConfig = z
  .object({
    key_required: z.boolean().meta({
      description:
        "Whether /demo/api/call, /demo/api/call/{id} and /demo/api/verify take a service's API key (Authorization: Bearer): always but where POST /request-auth takes none and rings no phone (no API_KEYS, the simulator, outside production).",
    }),
    shows_heard: demoCallCreated.shape.shows_heard,
  })
  .meta({ id: "DemoConfig", description: "What the demo page needs to know before it calls." });

export const demoConfigRoute = createRoute({
  tags: ["Demo"],
  security: publicRoute,
  method: "get",
  path: "/demo/api/config",
  summary: "Whether the demo takes a key",
  description: `Whether the demo's other routes take a service's API key, and whether its progress shows what the phone heard. Needs no key: it says only how this deployment is set up.${ONLY_WHEN}`,
  request: { headers },
  responses: {
    200: jsonResponse("How the demo works here.", demoConfig, {
      development: { summary: "Development with the simulator, no API_KEYS", value: { key_required: false, shows_heard: true } },
      production: { summary: "Production, or a real carrier, or API_KEYS set", value: { key_required: true, shows_heard: false } },
    }),
    ...errorResponses(["internal_error", "shutting_down"]),
  },
});

/**
 * The demo's calling routes, declared as this deployment serves them: with a key required
 * (apiKeySecurity, 401 `unauthorized`, 403 `forbidden` for an admin key) or without.
 */
export function demoRoutes(keyRequired: boolean) {
  const common = { tags: ["Demo"], security: keyRequired ? apiKeySecurity : publicRoute };
  const keyErrors = keyRequired ? (["unauthorized", "forbidden"] as const) : [];

  const call = createRoute({
    ...common,
    method: "post",
    path: "/demo/api/call",
    summary: "Call a number from the demo page",
    description: `Places a verification call as POST /request-auth does, with every one of its checks and limits; the end user's address is the browser's (the connection's, or with TRUST_PROXY the one the proxy reports), so CALLS_PER_IP_PER_HOUR applies to each visitor.${ONLY_WHEN}`,
    request: { headers, body: jsonBody(demoCallBody, { us: { summary: "A US number", value: { number: "+14155550123" } } }) },
    responses: {
      201: jsonResponse("The carrier accepted the call.", demoCallCreated, {
        simulator: {
          summary: "With the simulator",
          value: { id: ID, number: "+14155550123", status: "pending", expires_at: "2026-11-23T00:05:45.167Z", attempts_allowed: 5, shows_heard: true },
        },
      }),
      ...errorResponses([
        "invalid_request",
        "invalid_number",
        "destination_not_allowed",
        "unsupported_language",
        ...keyErrors,
        "cross_origin",
        "not_found",
        "payload_too_large",
        "unsupported_media_type",
        "attempts_exhausted",
        "rate_limited",
        "internal_error",
        "carrier_error",
        "service_unavailable",
        "shutting_down",
        "carrier_auth_failed",
        "carrier_throttled",
        "carrier_timeout",
      ]),
    },
  });

  const progress = createRoute({
    ...common,
    method: "get",
    path: "/demo/api/call/{id}",
    summary: "The demo call's progress",
    description: `The call's status as GET /challenges/{id} shows it, and with the simulator outside production what the phone heard. Only challenges the demo made, with the same key: any other id is 404.${ONLY_WHEN}`,
    request: { params: z.object({ id: z.string().meta({ param: { example: ID }, description: "The id POST /demo/api/call answered." }) }), headers },
    responses: {
      200: jsonResponse("The progress.", demoProgress, {
        answered: {
          summary: "Answered; the simulated phone heard the code",
          value: {
            id: ID,
            status: "pending",
            attempts_used: 0,
            attempts_allowed: 5,
            expires_at: "2026-11-23T00:05:45.000Z",
            failure_code: null,
            call: {
              carrier: "simulator",
              sid: "CA5e1f0c9a8b7d6e5f4a3b2c1d0e9f8a7b",
              status: "completed",
              answered_by: "human",
              events: ["queued", "ringing", "in-progress", "completed"].map((status, i) => ({ status, at: at(45 + i) })),
            },
            heard: ["Hello. This is voice-otp with your verification code.", "Your code is: 4 7 1 9 0 3", "Again: 4 7 1 9 0 3", "Goodbye."],
          },
        },
      }),
      ...errorResponses([...keyErrors, "cross_origin", "not_found", "rate_limited", "internal_error", "service_unavailable", "shutting_down"], {
        not_found: { message: "no demo call with this id" },
      }),
    },
  });

  const verify = createRoute({
    ...common,
    method: "post",
    path: "/demo/api/verify",
    summary: "Check the code typed on the demo page",
    description: `Checks the code as POST /validate-auth does, against the demo's challenge, with the same guess limits; an approval carries the verification token, its signature checked against GET /.well-known/jwks.json.${ONLY_WHEN}`,
    request: { headers, body: jsonBody(demoVerifyBody, { code: { summary: "The code heard", value: { id: ID, auth_code: "471903" } } }) },
    responses: {
      200: jsonResponse("The code is right.", demoApproved, {
        approved: {
          summary: "Approved",
          value: {
            status: "approved",
            id: ID,
            verification_token: TOKEN,
            verification_token_expires_at: "2026-11-22T09:35:00.000Z",
            signed_by: "KFqg1tZIEzrWWc1PjviG5ffHAdvO4eSTe3khbAHlF_s",
          },
        },
      }),
      403: sharedStatus(
        jsonResponse("The code is refused; `reason` says why.", validateDenied, {
          incorrect: {
            summary: "A wrong code",
            value: { status: "denied", reason: "incorrect", attempts_remaining: 4, challenge_id: ID, error: { code: "incorrect", message: DENIED_MESSAGES.incorrect } },
          },
        }),
        keyRequired ? ["cross_origin", "forbidden"] : ["cross_origin"],
      ),
      ...errorResponses(
        [
          "invalid_request",
          ...(keyRequired ? (["unauthorized"] as const) : []),
          "not_found",
          "payload_too_large",
          "unsupported_media_type",
          "rate_limited",
          "internal_error",
          "service_unavailable",
          "shutting_down",
        ],
        { not_found: { message: "no demo call with this id" } },
      ),
    },
  });

  return { call, progress, verify };
}
