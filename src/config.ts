import { LANGUAGES, resolveLanguage } from "./voice/phrases.js";
import { z } from "zod";

/**
 * The environment, parsed once. Every other module receives the frozen Config
 * and never reads process.env itself.
 */

const bool = z
  .enum(["true", "false", "1", "0", "yes", "no", ""])
  .transform((v) => v === "true" || v === "1" || v === "yes");

const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);

const url = z
  .string()
  .url()
  .refine((u) => /^https?:\/\//.test(u), "must start with http:// or https://")
  .transform((u) => u.replace(/\/+$/, ""));

const optional = <T extends z.ZodTypeAny>(schema: T) =>
  z.preprocess((v) => (v === "" ? undefined : v), schema.optional());

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

const envSchema = z.object({
  NODE_ENV: z.enum(["development", "production", "test"]).default("development"),
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
  PORT: int(0, 65535).default(3000),
  HOST: z.string().min(1).default("0.0.0.0"),
  PUBLIC_BASE_URL: optional(url),
  TRUST_PROXY: bool.default(false),
  METRICS_TOKEN: optional(z.string().min(16, "must be at least 16 characters")),
  NGROK_AUTHTOKEN: optional(z.string().min(1)),
  NGROK_DOMAIN: optional(z.string().regex(/^[a-z0-9.-]+$/i, "must be a bare host name such as otp-dev.ngrok.app")),
  DATABASE_URL: optional(
    z.string().regex(/^postgres(ql)?:\/\//, "must be a postgres:// or postgresql:// URL"),
  ),
  DATA_DIR: z.string().min(1).default("./data"),

  CARRIER: optional(z.enum(["twilio", "signalwire", "simulator"])),
  CARRIER_TIMEOUT_MS: int(100, 120_000).default(10_000),
  ALLOW_SIMULATOR_IN_PRODUCTION: bool.default(false),
  TWILIO_ACCOUNT_SID: optional(z.string().regex(/^AC[0-9a-fA-F]{32}$/, "must look like AC followed by 32 hex digits")),
  TWILIO_AUTH_TOKEN: optional(z.string().min(1)),
  TWILIO_NUMBER: optional(z.string().min(1)),
  TWILIO_API_BASE_URL: optional(url),
  // Read by the twilio SDK itself; here only to know that its own HTTP client is needed.
  HTTP_PROXY: optional(z.string().min(1)),
  TWILIO_CA_BUNDLE: optional(z.string().min(1)),
  SIGNALWIRE_PROJECT: optional(z.string().min(1)),
  SIGNALWIRE_TOKEN: optional(z.string().min(1)),
  SIGNALWIRE_SPACE: optional(z.string().min(1)),
  SIGNALWIRE_NUMBER: optional(z.string().min(1)),
  SIGNALWIRE_SIGNING_KEY: optional(z.string().min(1)),
  SIGNALWIRE_API_BASE_URL: optional(url),

  API_KEYS: csv,
  SECRET_KEY: optional(z.string().min(32, "must be at least 32 characters (try: openssl rand -hex 32)")),

  OTP_LENGTH: int(4, 10).default(6),
  OTP_TTL_SECONDS: int(30, 86_400).default(600),
  OTP_MAX_ATTEMPTS: int(1, 20).default(5),
  DEFAULT_COUNTRY: z
    .string()
    .regex(/^[A-Za-z]{2}$/, "must be a two-letter country code such as US")
    .transform((s) => s.toUpperCase())
    .default("US"),

  ORG_NAME: z.string().min(1).max(100).default("voice-otp"),
  LANGUAGE: z
    .string()
    .default("en")
    .refine((l) => resolveLanguage(l) !== undefined, `must be one of ${LANGUAGES.join(", ")} (or a tag such as es-MX)`),
  VOICE: optional(z.string().min(1)),
  VOICE_GATE: bool.default(false),
  ANSWERING_MACHINE_DETECTION: bool.default(true),

  // Abuse and toll-fraud limits. Calls are counted from the challenges table, so they
  // hold across every instance sharing the database.
  RESEND_COOLDOWN_SECONDS: int(0, 3600).default(30),
  // Ended challenges are deleted after this long. The daily limits count the last 24
  // hours of challenges, so less would let them undercount.
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
  FAILED_VALIDATIONS_PER_NUMBER_PER_DAY: int(1, 1000).default(20),
  ALLOWED_COUNTRIES: csvOr("US,CA").pipe(
    z.array(z.string().regex(/^[A-Za-z]{2}$/, "must be two-letter ISO 3166 codes such as US,CA")).min(1, "name at least one country"),
  ),
  BLOCKED_PREFIXES: csvOr(DEFAULT_BLOCKED_PREFIXES.join(",")).pipe(z.array(z.string().regex(/^\+\d{1,14}$/, "must be E.164 prefixes such as +1900"))),
});

type Env = z.infer<typeof envSchema>;

/** Every variable the service reads (documented in .env.example and the README). */
export const ENV_VARIABLES = Object.keys(envSchema.shape);

export interface TwilioSettings {
  accountSid: string;
  authToken: string;
  from: string;
  apiBaseUrl?: string;
  /** HTTP_PROXY or TWILIO_CA_BUNDLE is set: requests go through the SDK's own HTTP client, which applies them. */
  sdkHttpClient?: boolean;
}

export interface SignalWireSettings {
  project: string;
  token: string;
  space: string;
  from: string;
  signingKey: string;
  apiBaseUrl?: string;
}

export interface Config {
  env: Env["NODE_ENV"];
  production: boolean;
  logLevel: Env["LOG_LEVEL"];
  port: number;
  host: string;
  /** Where carriers reach us; undefined means http://localhost:<listening port>. */
  publicBaseUrl?: string;
  trustProxy: boolean;
  /** When set, GET /metrics needs it as a Bearer token. */
  metricsToken?: string;
  /** Open an ngrok tunnel at startup and use its URL as the public base URL. */
  ngrok?: { authtoken: string; domain?: string };
  databaseUrl?: string;
  dataDir: string;
  carrier: {
    name: "twilio" | "signalwire" | "simulator";
    timeoutMs: number;
    twilio?: TwilioSettings;
    signalwire?: SignalWireSettings;
  };
  apiKeys: string[];
  /** Undefined only in development: server.ts then keeps a generated one in DATA_DIR. */
  secretKey?: string;
  otp: { length: number; ttlSeconds: number; maxAttempts: number };
  defaultCountry: string;
  limits: Limits;
  retentionHours: number;
  destinations: { allowedCountries: string[]; blockedPrefixes: string[] };
  voice: {
    orgName: string;
    language: string;
    voice?: string;
    gate: boolean;
    machineDetection: boolean;
  };
}

export interface Limits {
  resendCooldownSeconds: number;
  callsPerNumberPer10Min: number;
  callsPerNumberPerDay: number;
  callsPerPrefixPerHour: number;
  callsPerIpPerHour: number;
  callsPerDay: number;
  requestsPerKeyPerMinute: number;
  failedValidationsPerNumberPerDay: number;
}

export class ConfigError extends Error {
  override name = "ConfigError";
}

export function loadConfig(source: Record<string, string | undefined>): Readonly<Config> {
  const parsed = envSchema.safeParse(source);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const variable = issue.path.join(".");
    const got = source[variable];
    throw new ConfigError(
      `${variable}: ${issue.message}${got === undefined ? "" : ` (got "${redact(variable, got)}")`}`,
    );
  }
  const e = parsed.data;
  const production = e.NODE_ENV === "production";

  const twilio =
    e.TWILIO_ACCOUNT_SID && e.TWILIO_AUTH_TOKEN && e.TWILIO_NUMBER
      ? {
          accountSid: e.TWILIO_ACCOUNT_SID,
          authToken: e.TWILIO_AUTH_TOKEN,
          from: e.TWILIO_NUMBER,
          apiBaseUrl: e.TWILIO_API_BASE_URL,
          sdkHttpClient: e.HTTP_PROXY !== undefined || e.TWILIO_CA_BUNDLE !== undefined,
        }
      : undefined;
  const signalwire =
    e.SIGNALWIRE_PROJECT && e.SIGNALWIRE_TOKEN && e.SIGNALWIRE_SPACE && e.SIGNALWIRE_NUMBER
      ? {
          project: e.SIGNALWIRE_PROJECT,
          token: e.SIGNALWIRE_TOKEN,
          space: e.SIGNALWIRE_SPACE,
          from: e.SIGNALWIRE_NUMBER,
          signingKey: e.SIGNALWIRE_SIGNING_KEY ?? e.SIGNALWIRE_TOKEN,
          apiBaseUrl: e.SIGNALWIRE_API_BASE_URL,
        }
      : undefined;

  // With no carrier named, pick the one whose credentials are (even partly) present:
  // a half-filled set is a mistake to report, not a reason to fall back to the simulator.
  const twilioVars = { TWILIO_ACCOUNT_SID: e.TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN: e.TWILIO_AUTH_TOKEN, TWILIO_NUMBER: e.TWILIO_NUMBER };
  const signalwireVars = {
    SIGNALWIRE_PROJECT: e.SIGNALWIRE_PROJECT,
    SIGNALWIRE_TOKEN: e.SIGNALWIRE_TOKEN,
    SIGNALWIRE_SPACE: e.SIGNALWIRE_SPACE,
    SIGNALWIRE_NUMBER: e.SIGNALWIRE_NUMBER,
  };
  const anySet = (vars: Record<string, string | undefined>) => Object.values(vars).some(Boolean);
  const carrierName = e.CARRIER ?? (anySet(twilioVars) ? "twilio" : anySet(signalwireVars) ? "signalwire" : "simulator");
  const requireAll = (vars: Record<string, string | undefined>, where: string) => {
    const missing = Object.entries(vars).filter(([, v]) => !v).map(([k]) => k);
    if (missing.length) {
      throw new ConfigError(`${missing[0]}: required with CARRIER=${carrierName} (missing: ${missing.join(", ")}; find them in ${where})`);
    }
  };
  if (carrierName === "twilio") requireAll(twilioVars, "the Twilio console");
  if (carrierName === "signalwire") requireAll(signalwireVars, "the SignalWire dashboard");

  if (production) {
    if (e.API_KEYS.length === 0) {
      throw new ConfigError("API_KEYS: required when NODE_ENV=production (comma-separated; try: openssl rand -hex 32)");
    }
    if (!e.SECRET_KEY) {
      throw new ConfigError("SECRET_KEY: required when NODE_ENV=production (try: openssl rand -hex 32)");
    }
    if (carrierName === "simulator" && !e.ALLOW_SIMULATOR_IN_PRODUCTION) {
      throw new ConfigError(
        "CARRIER: the simulator places no real calls; set CARRIER=twilio or signalwire with credentials, or ALLOW_SIMULATOR_IN_PRODUCTION=true for a smoke test",
      );
    }
    if (!e.PUBLIC_BASE_URL && !e.NGROK_AUTHTOKEN) {
      throw new ConfigError("PUBLIC_BASE_URL: required when NODE_ENV=production (the https URL carriers call back)");
    }
    if (e.PUBLIC_BASE_URL && !e.PUBLIC_BASE_URL.startsWith("https://") && !e.NGROK_AUTHTOKEN) {
      throw new ConfigError("PUBLIC_BASE_URL: must be https:// when NODE_ENV=production (webhooks carry call data; put TLS in front)");
    }
  }
  const weakKey = e.API_KEYS.find((k) => k.length < 16);
  if (weakKey !== undefined) {
    throw new ConfigError("API_KEYS: every key must be at least 16 characters (try: openssl rand -hex 32)");
  }

  return deepFreeze({
    env: e.NODE_ENV,
    production,
    logLevel: e.LOG_LEVEL,
    port: e.PORT,
    host: e.HOST,
    publicBaseUrl: e.PUBLIC_BASE_URL,
    trustProxy: e.TRUST_PROXY,
    metricsToken: e.METRICS_TOKEN,
    ngrok: e.NGROK_AUTHTOKEN ? { authtoken: e.NGROK_AUTHTOKEN, domain: e.NGROK_DOMAIN } : undefined,
    databaseUrl: e.DATABASE_URL,
    dataDir: e.DATA_DIR,
    carrier: { name: carrierName, timeoutMs: e.CARRIER_TIMEOUT_MS, twilio, signalwire },
    apiKeys: e.API_KEYS,
    secretKey: e.SECRET_KEY,
    otp: { length: e.OTP_LENGTH, ttlSeconds: e.OTP_TTL_SECONDS, maxAttempts: e.OTP_MAX_ATTEMPTS },
    defaultCountry: e.DEFAULT_COUNTRY,
    limits: {
      resendCooldownSeconds: e.RESEND_COOLDOWN_SECONDS,
      callsPerNumberPer10Min: e.CALLS_PER_NUMBER_PER_10_MIN,
      callsPerNumberPerDay: e.CALLS_PER_NUMBER_PER_DAY,
      callsPerPrefixPerHour: e.CALLS_PER_PREFIX_PER_HOUR,
      callsPerIpPerHour: e.CALLS_PER_IP_PER_HOUR,
      callsPerDay: e.CALLS_PER_DAY,
      requestsPerKeyPerMinute: e.REQUESTS_PER_KEY_PER_MINUTE,
      failedValidationsPerNumberPerDay: e.FAILED_VALIDATIONS_PER_NUMBER_PER_DAY,
    },
    retentionHours: e.RETENTION_HOURS,
    destinations: {
      allowedCountries: e.ALLOWED_COUNTRIES.map((c) => c.toUpperCase()),
      blockedPrefixes: e.BLOCKED_PREFIXES,
    },
    voice: {
      orgName: e.ORG_NAME,
      language: e.LANGUAGE,
      voice: e.VOICE,
      gate: e.VOICE_GATE,
      machineDetection: e.ANSWERING_MACHINE_DETECTION,
    },
  });
}

function redact(variable: string, value: string): string {
  return /TOKEN|SECRET|KEY|PASSWORD|DATABASE_URL/.test(variable) ? "…" : value;
}

function deepFreeze<T>(o: T): Readonly<T> {
  if (o && typeof o === "object") {
    for (const v of Object.values(o)) deepFreeze(v);
    Object.freeze(o);
  }
  return o;
}
