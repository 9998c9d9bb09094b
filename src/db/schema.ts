import { sql } from "drizzle-orm";
import { bigserial, boolean, index, integer, jsonb, pgTable, primaryKey, smallint, text, timestamp, uniqueIndex } from "drizzle-orm/pg-core";

/** The service the environment defines: every key and challenge from before services existed is in it. */
export const DEFAULT_SERVICE_ID = "default";

export const challenges = pgTable(
  "challenges",
  {
    // Opaque random id: it travels in the call's webhook URL instead of the code.
    id: text("id").primaryKey(),
    // The service of the key that asked for it: only that service's keys see it.
    serviceId: text("service_id").notNull().default(DEFAULT_SERVICE_ID),
    number: text("number").notNull(), // E.164
    // The number's country (ISO 3166-1 alpha-2), for statistics by country.
    country: text("country"),
    // The number less its last four digits: calls pumped through one range share it.
    numberPrefix: text("number_prefix").notNull().default(""),
    // The end user's address, when the backend passes one (client_ip).
    clientIp: text("client_ip"),
    status: text("status").notNull(), // pending | approved | expired | superseded | failed | too_many_attempts | canceled
    // Keyed HMAC of the code, for checking; null once the challenge has ended.
    codeMac: text("code_mac"),
    // The code sealed with AES-256-GCM, for reading aloud; null once the challenge has ended.
    codeSealed: text("code_sealed"),
    language: text("language").notNull(),
    // The key the listener must press before the code is read (VOICE_GATE), else null.
    gateDigit: smallint("gate_digit"),
    // Wrong guesses, carried over from the challenge this one superseded.
    attempts: integer("attempts").notNull().default(0),
    // Wrong guesses made on this challenge itself (attempts less the carried ones).
    failures: integer("failures").notNull().default(0),
    maxAttempts: integer("max_attempts").notNull(),
    carrier: text("carrier").notNull(),
    callSid: text("call_sid"),
    callStatus: text("call_status"),
    answeredBy: text("answered_by"),
    failureCode: text("failure_code"),
    apiKeyName: text("api_key_name"),
    createdAt: timestamp("created_at", { withTimezone: true, mode: "date" }).notNull(),
    expiresAt: timestamp("expires_at", { withTimezone: true, mode: "date" }).notNull(),
    endedAt: timestamp("ended_at", { withTimezone: true, mode: "date" }),
  },
  (t) => [
    // At most one pending challenge per number in each service, enforced by the database
    // itself so that concurrent requests on several instances cannot leave two behind.
    uniqueIndex("challenges_one_pending_per_number").on(t.serviceId, t.number).where(sql`${t.status} = 'pending'`),
    index("challenges_number_created").on(t.number, t.createdAt),
    index("challenges_prefix_created").on(t.numberPrefix, t.createdAt),
    index("challenges_ip_created").on(t.clientIp, t.createdAt).where(sql`${t.clientIp} is not null`),
    index("challenges_created").on(t.createdAt),
    // A service's challenges newest first: the list's pages and the statistics' ranges.
    index("challenges_service_created").on(t.serviceId, t.createdAt, t.id),
    // The housekeeping sweep finds expired pending challenges by this.
    index("challenges_pending_expiry").on(t.expiresAt).where(sql`${t.status} = 'pending'`),
  ],
);

/** API keys kept in the database (besides API_KEYS): only a hash, never the key. */
export const apiKeys = pgTable("api_keys", {
  name: text("name").primaryKey(),
  // SHA-256 of the key, hex: keys are long random strings, so a plain hash is enough.
  keyHash: text("key_hash").notNull().unique(),
  // Requests per minute for this key; null means REQUESTS_PER_KEY_PER_MINUTE.
  ratePerMinute: integer("rate_per_minute"),
  // The service whose challenges the key creates and sees.
  serviceId: text("service_id").notNull().default(DEFAULT_SERVICE_ID),
  // An admin key manages services (/services) and nothing else.
  admin: boolean("admin").notNull().default(false),
  createdAt: timestamp("created_at", { withTimezone: true, mode: "date" }).notNull(),
  revokedAt: timestamp("revoked_at", { withTimezone: true, mode: "date" }),
});

/** Requests per API key per one-minute window, shared by every instance (src/limits/request-rate.ts). */
export const rateWindows = pgTable(
  "rate_windows",
  {
    bucket: text("bucket").notNull(),
    windowStart: timestamp("window_start", { withTimezone: true, mode: "date" }).notNull(),
    hits: integer("hits").notNull(),
    /** The units the last statement to touch the row took: what it may grant its requests. */
    granted: integer("granted").notNull().default(1),
  },
  (t) => [primaryKey({ columns: [t.bucket, t.windowStart] })],
);

export const callEvents = pgTable(
  "call_events",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    challengeId: text("challenge_id")
      .notNull()
      .references(() => challenges.id, { onDelete: "cascade" }),
    callSid: text("call_sid").notNull(),
    status: text("status").notNull(),
    at: timestamp("at", { withTimezone: true, mode: "date" }).notNull(),
  },
  (t) => [
    // A replayed status callback inserts nothing.
    uniqueIndex("call_events_once").on(t.challengeId, t.callSid, t.status),
  ],
);

/** Idempotency-Key records for POST /request-auth: a repeat replays the first answer. */
export const idempotencyKeys = pgTable(
  "idempotency_keys",
  {
    apiKeyName: text("api_key_name").notNull(),
    key: text("key").notNull(),
    // SHA-256 of the request body: the same key with another body is refused.
    requestHash: text("request_hash").notNull(),
    // Null while the first request is still in flight.
    responseStatus: integer("response_status"),
    responseBody: text("response_body"),
    responseHeaders: text("response_headers"),
    createdAt: timestamp("created_at", { withTimezone: true, mode: "date" }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.apiKeyName, t.key] }), index("idempotency_keys_created").on(t.createdAt)],
);

/**
 * Calls placed per hour, by the whole deployment (scope "*") and by each service but the
 * default one (scope: its id): the daily spend caps add up the last 24 rows of their scope
 * instead of counting a day of challenges.
 */
export const callCounts = pgTable(
  "call_counts",
  {
    scope: text("scope").notNull().default("*"),
    hour: timestamp("hour", { withTimezone: true, mode: "date" }).notNull(),
    calls: integer("calls").notNull(),
  },
  (t) => [primaryKey({ columns: [t.scope, t.hour] })],
);

/**
 * Verification services besides the default one (which the environment defines): each
 * keeps only the settings it sets, and takes the rest from the environment.
 */
export const services = pgTable(
  "services",
  {
    id: text("id").primaryKey(),
    name: text("name").notNull(),
    // Field → value as the admin API takes it (snake_case, JSON), validated when saved.
    settings: jsonb("settings").notNull().default({}),
    createdAt: timestamp("created_at", { withTimezone: true, mode: "date" }).notNull(),
    updatedAt: timestamp("updated_at", { withTimezone: true, mode: "date" }).notNull(),
    // A deleted service is kept while its challenges may still ring (its calls read its words).
    deletedAt: timestamp("deleted_at", { withTimezone: true, mode: "date" }),
  },
  (t) => [uniqueIndex("services_name_live").on(t.name).where(sql`${t.deletedAt} is null`)],
);

/** Requests refused by a limit, per service, day and country: the statistics' refusals (a refusal leaves no challenge). */
export const limitRefusals = pgTable(
  "limit_refusals",
  {
    serviceId: text("service_id").notNull(),
    day: timestamp("day", { withTimezone: true, mode: "date" }).notNull(),
    // Empty when the request was refused before its number was known.
    country: text("country").notNull().default(""),
    limit: text("limit").notNull(),
    refusals: integer("refusals").notNull(),
  },
  (t) => [primaryKey({ columns: [t.serviceId, t.day, t.country, t.limit] })],
);

/**
 * Where a service's events go (issue 21's signed webhooks): one endpoint per service. The
 * default service's comes from WEBHOOK_URL and WEBHOOK_SECRET, written here at start-up.
 */
export const webhookEndpoints = pgTable("webhook_endpoints", {
  serviceId: text("service_id").primaryKey(),
  url: text("url").notNull(),
  // The signing secret (whsec_…), sealed with SECRET_KEY: the database alone cannot sign.
  secretSealed: text("secret_sealed").notNull(),
  // The secret before the last rotation, signed with as well until previous_until.
  previousSecretSealed: text("previous_secret_sealed"),
  previousUntil: timestamp("previous_until", { withTimezone: true, mode: "date" }),
  // The event types it wants; null: every type.
  eventTypes: text("event_types").array(),
  // Set when the receiver answered 410 Gone: nothing more is sent until it is set again.
  disabledAt: timestamp("disabled_at", { withTimezone: true, mode: "date" }),
  updatedAt: timestamp("updated_at", { withTimezone: true, mode: "date" }).notNull(),
});

/**
 * The outbox: each event written in the statement that makes the change it reports, then
 * delivered by whichever instance claims it first (src/events/dispatcher.ts).
 */
export const events = pgTable(
  "events",
  {
    // msg_…: the webhook-id of every attempt, so receivers can deduplicate.
    id: text("id").primaryKey(),
    serviceId: text("service_id").notNull(),
    challengeId: text("challenge_id"),
    type: text("type").notNull(),
    // The JSON sent, the same bytes on every attempt.
    body: text("body").notNull(),
    state: text("state").notNull().default("pending"), // pending | delivered | failed
    attempts: integer("attempts").notNull().default(0),
    nextAttemptAt: timestamp("next_attempt_at", { withTimezone: true, mode: "date" }).notNull(),
    // An instance delivering it holds it until then; after, another may claim it again.
    claimedUntil: timestamp("claimed_until", { withTimezone: true, mode: "date" }),
    lastStatus: integer("last_status"),
    lastError: text("last_error"),
    createdAt: timestamp("created_at", { withTimezone: true, mode: "date" }).notNull(),
    deliveredAt: timestamp("delivered_at", { withTimezone: true, mode: "date" }),
  },
  (t) => [
    index("events_due").on(t.nextAttemptAt).where(sql`${t.state} = 'pending'`),
    index("events_challenge").on(t.challengeId),
    index("events_service_created").on(t.serviceId, t.createdAt),
  ],
);

/**
 * The keys verification tokens are signed with (Ed25519; src/tokens/). One is active (not
 * retired) at a time, which the partial unique index holds across instances; a retired key
 * stays published in the JWKS until the tokens it signed have expired.
 */
export const signingKeys = pgTable(
  "signing_keys",
  {
    // The public key's JWK thumbprint (RFC 7638): the `kid` of its tokens.
    kid: text("kid").primaryKey(),
    // The public key as a JWK ({kty, crv, x}), as the JWKS publishes it.
    publicJwk: jsonb("public_jwk").notNull(),
    // The private key (PKCS#8), sealed with a key derived from SECRET_KEY: the database alone cannot sign.
    privateSealed: text("private_sealed").notNull(),
    createdAt: timestamp("created_at", { withTimezone: true, mode: "date" }).notNull(),
    retiredAt: timestamp("retired_at", { withTimezone: true, mode: "date" }),
  },
  (t) => [uniqueIndex("signing_keys_one_active").on(sql`(${t.retiredAt} is null)`).where(sql`${t.retiredAt} is null`)],
);

/**
 * A service's Supabase Send SMS hook: the secrets Supabase signs its requests with
 * (`v1,whsec_…`, `|` between several), sealed with SECRET_KEY under the service's id like
 * webhook secrets, so a copy of the database alone cannot forge a hook request.
 */
export const supabaseHooks = pgTable("supabase_hooks", {
  serviceId: text("service_id").primaryKey(),
  secretsSealed: text("secrets_sealed").notNull(),
  updatedAt: timestamp("updated_at", { withTimezone: true, mode: "date" }).notNull(),
});
