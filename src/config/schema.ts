import { z } from "zod";
import { CARRIER_NAMES, carrierVariables } from "../carriers/registry.js";
import { EVENT_TYPES, isEventType } from "../events/outbox.js";
import { isSecret } from "../events/signature.js";
import { databaseUrlProblem } from "../db/postgres-url.js";
import { checkHookSecrets } from "../hooks/supabase-secrets.js";
import { outcomesVariable } from "../simulator/outcomes.js";
import { countryCode, countryCodes } from "./countries.js";
import { bool, int, optional, url } from "./env-types.js";
import { languageTag, voiceTemplates } from "./voice.js";

/**
 * Every environment variable the service reads, with its type, range and default.
 * Only loadConfig parses it: every other module receives the frozen Config.
 */

const csv = z
  .string()
  .default("")
  .transform((s) =>
    s
      .split(",")
      .map((x) => x.trim())
      .filter(Boolean),
  );

/** A comma-separated list whose default applies when the variable is unset (an empty value means an empty list). */
const csvOr = (fallback: string) =>
  z
    .string()
    .default(fallback)
    .transform((s) =>
      s
        .split(",")
        .map((x) => x.trim())
        .filter(Boolean),
    );

/**
 * NANP ranges that bill the caller or reach no person's line: 900 and 976 premium
 * services, 5XX personal-communication and machine-to-machine codes, 88X/8XX toll-free
 * are refused by type. Outside NANP, libphonenumber's types catch premium and shared cost.
 */
// prettier-ignore
export const DEFAULT_BLOCKED_PREFIXES = ["+1900", "+1976", "+1500", "+1521", "+1522", "+1523", "+1524", "+1525", "+1526", "+1527", "+1528", "+1529", "+1533", "+1544", "+1566", "+1577", "+1588"];

/** How to make a WEBHOOK_SECRET: the refusals of a missing or malformed one say it. */
export const MAKE_WEBHOOK_SECRET = 'make one with `voice-otp events secret`, or: echo "whsec_$(openssl rand -base64 32)"';

export const envSchema = z.object({
  NODE_ENV: z.enum(["development", "production", "test"]).default("development"),
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
  PORT: int(0, 65535).default(3000),
  HOST: optional(z.string().min(1)),
  PUBLIC_BASE_URL: optional(url),
  TRUST_PROXY: bool.default(false),
  METRICS_TOKEN: optional(
    z
      .string()
      .min(16, "must be at least 16 characters")
      .regex(/^[A-Za-z0-9._~+/-]+=*$/, "use letters, digits and ._~+/- only (what a Bearer header carries)"),
  ),
  // What a client may hold: a request's head and whole body must arrive within these, and
  // connections past MAX_CONNECTIONS are closed as they open (a slow client cannot pin the process).
  HTTP_HEADERS_TIMEOUT_SECONDS: int(1, 3600).default(10),
  HTTP_REQUEST_TIMEOUT_SECONDS: int(1, 3600).default(30),
  MAX_CONNECTIONS: int(1, 1_000_000).default(1024),
  NGROK_AUTHTOKEN: optional(z.string().min(1)),
  NGROK_DOMAIN: optional(z.string().regex(/^[a-z0-9.-]+$/i, "must be a bare host name such as otp-dev.ngrok.app")),
  DATABASE_URL: optional(
    z
      .string()
      .regex(/^postgres(ql)?:\/\//, "must be a postgres:// or postgresql:// URL")
      .superRefine((u, ctx) => {
        const problem = databaseUrlProblem(u);
        if (problem) ctx.addIssue({ code: "custom", message: problem });
      }),
  ),
  DATA_DIR: z.string().min(1).default("./data"),

  CARRIER: optional(z.enum([...CARRIER_NAMES, "simulator"])),
  CARRIER_TIMEOUT_MS: int(100, 120_000).default(10_000),
  ALLOW_SIMULATOR_IN_PRODUCTION: bool.default(false),
  // What the in-process simulator's phones do (CARRIER=simulator), as for `npm run simulator`.
  SIMULATOR_OUTCOMES: outcomesVariable,
  // Read by the twilio SDK itself; here only to know that its own HTTP client is needed.
  HTTP_PROXY: optional(z.string().min(1)),
  // Each carrier's own variables (TWILIO_*, SIGNALWIRE_*, TELNYX_*), from src/carriers/registry.ts.
  ...carrierVariables,

  API_KEYS: csv,
  // Keys for the admin API (/services), which manages services and places no call.
  ADMIN_API_KEYS: csv,
  ALLOW_OPEN_API: bool.default(false),
  // The /demo page: unset, on outside production with the simulator only (config/index.ts decides).
  DEMO_ENABLED: optional(bool),
  SECRET_KEY: optional(z.string().min(32, "must be at least 32 characters (try: openssl rand -hex 32)")),

  // Event webhooks: the default service's endpoint (others are set through /services/{id}/webhook).
  // The URL is checked against the target policy in loadConfig, which knows whether this is production.
  WEBHOOK_URL: optional(z.string().max(2048, "must be at most 2048 characters")),
  WEBHOOK_SECRET: optional(z.string().refine(isSecret, `must be a whsec_ secret: ${MAKE_WEBHOOK_SECRET}`)),
  // Empty: every type, including types added later.
  WEBHOOK_EVENTS: csv.superRefine((types, ctx) => {
    const bad = types.find((t) => !isEventType(t));
    if (bad !== undefined) ctx.addIssue({ code: "custom", message: `"${bad}" is not an event type; use ${EVENT_TYPES.join(", ")} (empty: every type)` });
  }),
  // Webhook receivers on loopback, private or link-local addresses, refused in production without it.
  ALLOW_PRIVATE_WEBHOOKS: bool.default(false),
  // One delivery attempt (DNS, connect, send, answer) is cut off after this and retried;
  // the retries' first wait is at most WEBHOOK_RETRY_BASE_SECONDS, each next one three times longer (src/events/backoff.ts).
  WEBHOOK_TIMEOUT_SECONDS: int(1, 60).default(10),
  WEBHOOK_RETRY_BASE_SECONDS: int(1, 3600).default(5),

  // The default service's Supabase Send SMS hook: the secret(s) Supabase signs with, `v1,whsec_…` joined by `|`.
  SUPABASE_HOOK_SECRET: optional(z.string().superRefine(checkHookSecrets)),

  OTP_LENGTH: int(4, 10).default(6),
  OTP_TTL_SECONDS: int(30, 86_400).default(600),
  OTP_MAX_ATTEMPTS: int(1, 20).default(5),
  // Whether a request may bring its own code (POST /request-auth `code`) instead of one made here.
  ALLOW_CUSTOM_CODE: bool.default(false),
  DEFAULT_COUNTRY: countryCode.default("US"),

  ORG_NAME: z.string().min(1).max(100).default("voice-otp"),
  LANGUAGE: languageTag.default("en"),
  // The languages a call may be spoken in when the request names none and the number's
  // country speaks one of them; empty: LANGUAGE only.
  LANGUAGES: csv.pipe(z.array(languageTag)),
  // Checked against LANGUAGE and the carrier by config/voice.ts, once the carrier is known.
  VOICE: optional(z.string().min(1)),
  // The default service's own sentence around the code, per language: JSON, checked by config/voice.ts.
  VOICE_TEMPLATES: optional(voiceTemplates),
  VOICE_GATE: bool.default(false),
  ANSWERING_MACHINE_DETECTION: bool.default(true),

  // Abuse and toll-fraud limits. Calls are counted from the challenges table, so they
  // hold across every instance sharing the database.
  RESEND_COOLDOWN_SECONDS: int(0, 3600).default(30),
  // Ended challenges are deleted after this long. The daily limits count the last 24
  // hours of challenges, so less would let them undercount.
  SHUTDOWN_GRACE_SECONDS: int(0, 3600).default(25),
  RETENTION_HOURS: z.coerce
    .number()
    .int()
    .min(24, "must be at least 24: the daily limits count the last 24 hours of calls")
    .max(24 * 3650)
    .default(24),
  CALLS_PER_NUMBER_PER_10_MIN: int(1, 1000).default(3),
  CALLS_PER_NUMBER_PER_DAY: int(1, 10_000).default(10),
  CALLS_PER_PREFIX_PER_HOUR: int(1, 100_000).default(20),
  CALLS_PER_IP_PER_HOUR: int(1, 100_000).default(10),
  CALLS_PER_DAY: int(1, 10_000_000).default(1000),
  REQUESTS_PER_KEY_PER_MINUTE: int(1, 1_000_000).default(1200),
  AUTH_FAILURES_PER_IP_PER_MINUTE: int(1, 1_000_000).default(20),
  FAILED_VALIDATIONS_PER_NUMBER_PER_DAY: int(1, 1000).default(20),
  ALLOWED_COUNTRIES: csvOr("US,CA").pipe(countryCodes),
  BLOCKED_PREFIXES: csvOr(DEFAULT_BLOCKED_PREFIXES.join(",")).pipe(z.array(z.string().regex(/^\+\d{1,14}$/, "must be E.164 prefixes such as +1900"))),
});

/** The environment after parsing: defaults applied, numbers coerced, lists split. */
export type Env = z.infer<typeof envSchema>;

/** Every variable the service reads (documented in .env.example and the README). */
export const ENV_VARIABLES = Object.keys(envSchema.shape);
