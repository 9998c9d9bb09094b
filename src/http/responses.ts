import { z } from "zod";

/**
 * Response shapes. The handlers build their answers as these types, and the
 * OpenAPI declarations document them, so the document cannot drift from the code.
 */

const timestamp = z.iso.datetime().meta({ description: "ISO 8601, UTC." });

export const requestAuthCreated = z
  .object({
    id: z.string().meta({ description: "The challenge id: for /validate-auth by id and GET /challenges/{id}." }),
    number: z.string().meta({ description: "The number called, normalised to E.164." }),
    status: z.literal("pending"),
    expires_at: timestamp,
    attempts_allowed: z
      .number()
      .int()
      .meta({ description: "Guesses this code gets: fewer than OTP_MAX_ATTEMPTS when wrong guesses carried over from a code it replaced." }),
  })
  .meta({ id: "ChallengeCreated", description: "The carrier accepted the call; it is ringing. Nobody has answered yet." });

export const validateApproved = z
  .object({
    status: z.literal("approved"),
    id: z.string().meta({ description: "The challenge the code belonged to." }),
    verification_token: z.string().meta({
      description:
        "A JWT saying this number was verified by a phone call, signed with EdDSA (Ed25519; the header's `kid` names the key): `iss` PUBLIC_BASE_URL, `sub` the number (E.164), `aud` the id of the key's service (`default` for the environment's), `jti` the challenge's id, `amr` `[\"phone-call\"]`, `iat`, and `exp` 5 minutes later. Another service checks it against GET /.well-known/jwks.json, with the issuer and its audience, without calling back.",
    }),
    verification_token_expires_at: z.iso.datetime().meta({ description: "The token's `exp`, ISO 8601, UTC." }),
  })
  .meta({
    id: "CodeApproved",
    description: "The code is right. A code is approved once; the challenge ends and its code is wiped. The verification token proves it to another service.",
  });

export const DENIED_MESSAGES = {
  incorrect: "the code is not right",
  expired: "the code has expired; request a new call",
  no_pending_challenge: "there is no code waiting for this number; request a call first",
  too_many_attempts: "too many wrong codes; request a new call later",
  locked: "too many wrong codes for this number in the last 24 hours; validation is locked until they age out",
} as const;
const deniedReason = z.enum(Object.keys(DENIED_MESSAGES) as [keyof typeof DENIED_MESSAGES, ...(keyof typeof DENIED_MESSAGES)[]]);

export const validateDenied = z
  .object({
    status: z.literal("denied"),
    reason: deniedReason.meta({
      description:
        "`incorrect`: wrong code; `expired`: its OTP_TTL_SECONDS passed; `no_pending_challenge`: nothing waiting (never requested, already approved, superseded, failed or canceled); `too_many_attempts`: its guesses are used up; `locked`: FAILED_VALIDATIONS_PER_NUMBER_PER_DAY wrong guesses in 24 hours.",
    }),
    attempts_remaining: z.number().int().min(0).meta({ description: "Guesses left for this code (0 unless `incorrect`)." }),
    challenge_id: z.string().optional().meta({
      description:
        "The challenge the code was judged against (for `no_pending_challenge`, the number's latest, ended: GET /challenges/{id} says why, e.g. `failure_code` `call-busy`). Absent when no challenge was ever issued to this number or id.",
    }),
    error: z.object({ code: deniedReason, message: z.string() }),
  })
  .meta({ id: "CodeDenied", description: "The code is refused: a wrong code is an answer, not an error." });

export const challengeView = z
  .object({
    id: z.string(),
    service: z.string().meta({ description: "The id of the service it was made in: the service of the key that asked (`default` for the environment's)." }),
    number: z.string().meta({ description: "E.164." }),
    status: z.enum(["pending", "approved", "expired", "superseded", "failed", "too_many_attempts", "canceled"]),
    language: z.string(),
    attempts_used: z.number().int(),
    attempts_allowed: z.number().int(),
    created_at: timestamp,
    expires_at: timestamp,
    ended_at: timestamp.nullable(),
    failure_code: z.string().nullable().meta({
      description: "Why it failed: the carrier's refusal (`rejected:21211`, `timeout:timeout`) or an unanswered call (`call-busy`, `call-no-answer`, `call-failed`, `call-canceled`).",
    }),
    api_key: z
      .string()
      .nullable()
      .meta({ description: "The key that asked for the call: `env:<8 hex>` for API_KEYS, a database key's name, `open`, or for the /demo page `demo:page` (without a key, development with the simulator) or `demo:<key's name>`." }),
    call: z.object({
      carrier: z.string(),
      sid: z.string().nullable(),
      status: z.string().nullable().meta({ description: "The call's latest status: queued, initiated, ringing, in-progress, completed, busy, no-answer, failed, canceled." }),
      answered_by: z.string().nullable().meta({ description: "The carrier's answering-machine verdict, when detection is on." }),
      events: z.array(z.object({ status: z.string(), at: timestamp })).meta({ description: "Each status the call reached, in order." }),
    }),
    events: z
      .array(
        z.object({
          id: z.string().meta({ description: "The event's id: the `webhook-id` header of every delivery attempt." }),
          type: z.string().meta({ description: "`call.answered`, `call.unanswered`, `call.machine`, `challenge.approved`, `challenge.expired`, …" }),
          state: z.enum(["pending", "delivered", "failed"]).meta({ description: "`pending`: not yet delivered, retried with backoff; `delivered`: a 2xx answer; `failed`: given up (`voice-otp events retry ID` sends it again)." }),
          attempts: z.number().int().meta({ description: "Delivery attempts so far." }),
          last_status: z.number().int().nullable().meta({ description: "The HTTP status of the last attempt's answer; `null` before any, or when it got none (a timeout, a refused connection)." }),
          created_at: timestamp,
          delivered_at: timestamp.nullable(),
        }),
      )
      .meta({ description: "The events sent to the service's webhook about this challenge, oldest first, and how their delivery went; [] when the service has no webhook." }),
  })
  .meta({ id: "Challenge", description: "A challenge's state, call history and events. Never the code." });

export const healthBody = z.object({ status: z.literal("ok") }).meta({ id: "Health" });
export const readyBody = z.object({ status: z.literal("ready"), database: z.literal("ok") }).meta({ id: "Ready" });

export type RequestAuthCreated = z.infer<typeof requestAuthCreated>;
export type ChallengeBody = z.infer<typeof challengeView>;
