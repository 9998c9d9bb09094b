import { chooseCarrier, type CarrierChoice } from "./carriers.js";
import { ConfigError } from "./error.js";
import { listenAddress } from "./open-api.js";
import { checkProductionPolicy } from "./production.js";
import { envSchema, type Env } from "./schema.js";
import { chooseVoice } from "./voice.js";
import { defaultWebhook, webhookTargets, type DefaultWebhook } from "./webhook.js";
import type { TargetPolicy } from "../events/target.js";
import type { Templates } from "../voice/templates.js";

/**
 * The environment, parsed once. Every other module receives the frozen Config
 * and never reads process.env itself.
 */

export { ConfigError } from "./error.js";
export { DEFAULT_BLOCKED_PREFIXES, ENV_VARIABLES } from "./schema.js";
export type { CarrierName } from "./carriers.js";
export type { DefaultWebhook } from "./webhook.js";

export interface Config {
  env: Env["NODE_ENV"];
  production: boolean;
  logLevel: Env["LOG_LEVEL"];
  port: number;
  host: string;
  /** Where carriers reach us; undefined means http://localhost:<listening port>. */
  publicBaseUrl?: string;
  trustProxy: boolean;
  /** How long a request's head and the whole request may take to arrive, and how many connections may be open. */
  http: { headersTimeoutMs: number; requestTimeoutMs: number; maxConnections: number };
  /** When set, GET /metrics needs it as a Bearer token. */
  metricsToken?: string;
  /** Open an ngrok tunnel at startup and use its URL as the public base URL. */
  ngrok?: { authtoken: string; domain?: string };
  databaseUrl?: string;
  dataDir: string;
  /** The carrier's name, and the settings of each carrier whose variables are all set, by name. */
  carrier: CarrierChoice & { timeoutMs: number };
  /** SIMULATOR_OUTCOMES: what the in-process simulator's phone at each number does. */
  simulatorOutcomes: Env["SIMULATOR_OUTCOMES"];
  apiKeys: string[];
  /** Keys for the admin API (/services). */
  adminApiKeys: string[];
  /** DEMO_ENABLED: whether /demo and /demo/api/* serve (with a service's API key but where /request-auth is open on the simulator outside production). */
  demo: boolean;
  /** Undefined only in development: server.ts then keeps a generated one in DATA_DIR. */
  secretKey?: string;
  /** The default service's event endpoint (WEBHOOK_URL), written at start; undefined: the admin API manages it. */
  webhook?: DefaultWebhook;
  /** Which event webhook URLs may be set and called: https and public in production (ALLOW_PRIVATE_WEBHOOKS lifts the latter). */
  webhookTargets: TargetPolicy;
  /** Event deliveries: one attempt's time limit, and the first retry's longest wait (src/events/backoff.ts). */
  eventDelivery: { timeoutMs: number; retryBaseMs: number };
  otp: { length: number; ttlSeconds: number; maxAttempts: number };
  /** ALLOW_CUSTOM_CODE: whether the default service takes a caller's own code. */
  allowCustomCode: boolean;
  /** SUPABASE_HOOK_SECRET: the default service's Supabase hook secrets (`v1,whsec_…`, `|` between several), checked. */
  supabaseHookSecret?: string;
  defaultCountry: string;
  limits: Limits;
  retentionHours: number;
  /** How long a stopping instance keeps serving the webhooks of calls it placed. */
  shutdownGraceSeconds: number;
  destinations: { allowedCountries: string[]; blockedPrefixes: string[] };
  voice: {
    orgName: string;
    language: string;
    /** The languages a call may be spoken in when chosen from the number's country (LANGUAGES, else LANGUAGE alone). */
    languages: string[];
    voice?: string;
    /** VOICE_TEMPLATES: the sentence around the code, by language or tag; empty: the languages' own phrases. */
    templates: Templates;
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
  authFailuresPerIpPerMinute: number;
  failedValidationsPerNumberPerDay: number;
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

  const carrier = chooseCarrier(e);
  if (production) checkProductionPolicy(e, carrier.name);
  for (const variable of ["API_KEYS", "ADMIN_API_KEYS"] as const) {
    if (e[variable].some((k) => k.length < 16)) {
      throw new ConfigError(`${variable}: every key must be at least 16 characters (try: openssl rand -hex 32)`);
    }
    // What an Authorization: Bearer header can carry (RFC 6750's token68).
    if (e[variable].some((k) => !/^[A-Za-z0-9._~+/-]+=*$/.test(k))) {
      throw new ConfigError(`${variable}: use letters, digits and ._~+/- only (try: openssl rand -hex 32)`);
    }
  }
  if (e.ADMIN_API_KEYS.some((k) => e.API_KEYS.includes(k))) {
    throw new ConfigError("ADMIN_API_KEYS: a key cannot be in API_KEYS as well; give the admin API keys of its own");
  }
  if (e.HTTP_HEADERS_TIMEOUT_SECONDS > e.HTTP_REQUEST_TIMEOUT_SECONDS) {
    throw new ConfigError(
      `HTTP_HEADERS_TIMEOUT_SECONDS: must not exceed HTTP_REQUEST_TIMEOUT_SECONDS (${e.HTTP_REQUEST_TIMEOUT_SECONDS}): the head is part of the request`,
    );
  }
  const voice = chooseVoice(e.VOICE, e.LANGUAGE, carrier.name);
  const host = listenAddress(e, carrier.name);
  const targets = webhookTargets(e);
  const webhook = defaultWebhook(e, targets);

  return deepFreeze({
    env: e.NODE_ENV,
    production,
    logLevel: e.LOG_LEVEL,
    port: e.PORT,
    host,
    publicBaseUrl: e.PUBLIC_BASE_URL,
    trustProxy: e.TRUST_PROXY,
    http: {
      headersTimeoutMs: e.HTTP_HEADERS_TIMEOUT_SECONDS * 1000,
      requestTimeoutMs: e.HTTP_REQUEST_TIMEOUT_SECONDS * 1000,
      maxConnections: e.MAX_CONNECTIONS,
    },
    metricsToken: e.METRICS_TOKEN,
    ngrok: e.NGROK_AUTHTOKEN ? { authtoken: e.NGROK_AUTHTOKEN, domain: e.NGROK_DOMAIN } : undefined,
    databaseUrl: e.DATABASE_URL,
    dataDir: e.DATA_DIR,
    carrier: { ...carrier, timeoutMs: e.CARRIER_TIMEOUT_MS },
    simulatorOutcomes: e.SIMULATOR_OUTCOMES,
    apiKeys: e.API_KEYS,
    adminApiKeys: e.ADMIN_API_KEYS,
    // Unset: on where it places no real call and cannot face the internet by default (the
    // simulator, outside production); a real carrier or production takes DEMO_ENABLED=true.
    demo: e.DEMO_ENABLED ?? (!production && carrier.name === "simulator"),
    secretKey: e.SECRET_KEY,
    webhook,
    webhookTargets: targets,
    eventDelivery: { timeoutMs: e.WEBHOOK_TIMEOUT_SECONDS * 1000, retryBaseMs: e.WEBHOOK_RETRY_BASE_SECONDS * 1000 },
    otp: { length: e.OTP_LENGTH, ttlSeconds: e.OTP_TTL_SECONDS, maxAttempts: e.OTP_MAX_ATTEMPTS },
    allowCustomCode: e.ALLOW_CUSTOM_CODE,
    supabaseHookSecret: e.SUPABASE_HOOK_SECRET,
    defaultCountry: e.DEFAULT_COUNTRY,
    limits: {
      resendCooldownSeconds: e.RESEND_COOLDOWN_SECONDS,
      callsPerNumberPer10Min: e.CALLS_PER_NUMBER_PER_10_MIN,
      callsPerNumberPerDay: e.CALLS_PER_NUMBER_PER_DAY,
      callsPerPrefixPerHour: e.CALLS_PER_PREFIX_PER_HOUR,
      callsPerIpPerHour: e.CALLS_PER_IP_PER_HOUR,
      callsPerDay: e.CALLS_PER_DAY,
      requestsPerKeyPerMinute: e.REQUESTS_PER_KEY_PER_MINUTE,
      authFailuresPerIpPerMinute: e.AUTH_FAILURES_PER_IP_PER_MINUTE,
      failedValidationsPerNumberPerDay: e.FAILED_VALIDATIONS_PER_NUMBER_PER_DAY,
    },
    retentionHours: e.RETENTION_HOURS,
    shutdownGraceSeconds: e.SHUTDOWN_GRACE_SECONDS,
    destinations: {
      allowedCountries: e.ALLOWED_COUNTRIES.map((c) => c.toUpperCase()),
      blockedPrefixes: e.BLOCKED_PREFIXES,
    },
    voice: {
      orgName: e.ORG_NAME,
      language: e.LANGUAGE,
      languages: e.LANGUAGES.length ? e.LANGUAGES : [e.LANGUAGE],
      voice,
      templates: e.VOICE_TEMPLATES ?? {},
      gate: e.VOICE_GATE,
      machineDetection: e.ANSWERING_MACHINE_DETECTION,
    },
  });
}

/** A refused value is echoed to help, unless the variable may hold a secret. */
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
