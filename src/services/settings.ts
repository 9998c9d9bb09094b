import type { z } from "zod";
import type { CarrierName, Config, Limits } from "../config/index.js";
import { ConfigError } from "../config/error.js";
import { envSchema } from "../config/schema.js";
import { chooseVoice } from "../config/voice.js";
import type { OtpSettings } from "../otp/deps.js";
import type { Templates } from "../voice/templates.js";
import { DEFAULT_SERVICE_ID } from "../db/schema.js";

/**
 * A verification service's settings: what its calls say and how, its codes, where it
 * may call, and its own per-number limits and spend cap. The default service's come
 * from the environment; another service sets some of them and takes the rest from the
 * default. Each setting is validated by the parser of the environment variable that
 * sets it for the default service, so a value means the same in both places.
 */

export interface ServiceSettings {
  id: string;
  name: string;
  /** The friendly name read in the call. */
  orgName: string;
  /** What a call speaks when the request names no language and the number's language is not allowed. */
  language: string;
  /** The languages a call may be spoken in when chosen from the number's country. */
  languages: readonly string[];
  /** As the carrier names it; undefined: the language's default voice. */
  voice?: string;
  /** The sentence around the code, by language or tag; empty: the languages' own phrases. */
  templates: Templates;
  gate: boolean;
  machineDetection: boolean;
  otp: OtpSettings;
  /** Whether a request may bring its own code (POST /request-auth `code`). */
  allowCustomCode: boolean;
  destinations: { allowedCountries: readonly string[]; blockedPrefixes: readonly string[] };
  /** The deployment's limits, with this service's per-number limits and its own spend cap (callsPerDay). */
  limits: Limits;
}

type Kind = "string" | "integer" | "boolean" | "list" | "templates";

interface Field {
  /** The variable that sets it for the default service; its parser checks every service's value. */
  variable: keyof typeof envSchema.shape;
  kind: Kind;
  read(s: ServiceSettings): unknown;
  write(s: ServiceSettings, parsed: never): void;
}

const field = <V>(variable: Field["variable"], kind: Kind, read: (s: ServiceSettings) => V, write: (s: ServiceSettings, v: V) => void): Field => ({
  variable,
  kind,
  read,
  write: write as Field["write"],
});

const limit = (variable: Field["variable"], key: keyof Limits) =>
  field<number>(variable, "integer", (s) => s.limits[key], (s, v) => (s.limits = { ...s.limits, [key]: v }));

/** Every setting a service may set, by its name in the admin API. */
export const SETTINGS = {
  org_name: field<string>("ORG_NAME", "string", (s) => s.orgName, (s, v) => (s.orgName = v)),
  language: field<string>("LANGUAGE", "string", (s) => s.language, (s, v) => (s.language = v)),
  languages: field<readonly string[]>("LANGUAGES", "list", (s) => s.languages, (s, v) => (s.languages = v)),
  voice: field<string | null | undefined>("VOICE", "string", (s) => s.voice ?? null, (s, v) => (s.voice = v ?? undefined)),
  templates: field<Templates>("VOICE_TEMPLATES", "templates", (s) => s.templates, (s, v) => (s.templates = v)),
  gate: field<boolean>("VOICE_GATE", "boolean", (s) => s.gate, (s, v) => (s.gate = v)),
  machine_detection: field<boolean>("ANSWERING_MACHINE_DETECTION", "boolean", (s) => s.machineDetection, (s, v) => (s.machineDetection = v)),
  code_length: field<number>("OTP_LENGTH", "integer", (s) => s.otp.length, (s, v) => (s.otp = { ...s.otp, length: v })),
  code_ttl_seconds: field<number>("OTP_TTL_SECONDS", "integer", (s) => s.otp.ttlSeconds, (s, v) => (s.otp = { ...s.otp, ttlSeconds: v })),
  max_attempts: field<number>("OTP_MAX_ATTEMPTS", "integer", (s) => s.otp.maxAttempts, (s, v) => (s.otp = { ...s.otp, maxAttempts: v })),
  allowed_countries: field<readonly string[]>("ALLOWED_COUNTRIES", "list", (s) => s.destinations.allowedCountries, (s, v) => (s.destinations = { ...s.destinations, allowedCountries: v })),
  blocked_prefixes: field<readonly string[]>("BLOCKED_PREFIXES", "list", (s) => s.destinations.blockedPrefixes, (s, v) => (s.destinations = { ...s.destinations, blockedPrefixes: v })),
  resend_cooldown_seconds: limit("RESEND_COOLDOWN_SECONDS", "resendCooldownSeconds"),
  calls_per_number_per_10_min: limit("CALLS_PER_NUMBER_PER_10_MIN", "callsPerNumberPer10Min"),
  calls_per_number_per_day: limit("CALLS_PER_NUMBER_PER_DAY", "callsPerNumberPerDay"),
  failed_validations_per_number_per_day: limit("FAILED_VALIDATIONS_PER_NUMBER_PER_DAY", "failedValidationsPerNumberPerDay"),
  calls_per_day: limit("CALLS_PER_DAY", "callsPerDay"),
  allow_custom_code: field<boolean>("ALLOW_CUSTOM_CODE", "boolean", (s) => s.allowCustomCode, (s, v) => (s.allowCustomCode = v)),
} as const satisfies Record<string, Field>;

export type SettingName = keyof typeof SETTINGS;
export const SETTING_NAMES = Object.keys(SETTINGS) as SettingName[];

/** A setting refused: the field, and why. */
export class SettingError extends Error {
  override name = "SettingError";
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(`${field}: ${message}`);
  }
}

/** The default service: the environment's settings. */
export function defaultService(config: Readonly<Config>): ServiceSettings {
  return {
    id: DEFAULT_SERVICE_ID,
    name: DEFAULT_SERVICE_ID,
    orgName: config.voice.orgName,
    language: config.voice.language,
    languages: config.voice.languages,
    voice: config.voice.voice,
    templates: config.voice.templates,
    gate: config.voice.gate,
    machineDetection: config.voice.machineDetection,
    otp: config.otp,
    allowCustomCode: config.allowCustomCode,
    destinations: config.destinations,
    limits: config.limits,
  };
}

/** A JSON value as the environment would hold it, so that the variable's own parser judges it. */
function asVariable(kind: Kind, value: unknown): string | undefined {
  if (kind === "string") return typeof value === "string" ? value : undefined;
  if (kind === "integer") return typeof value === "number" && Number.isInteger(value) ? String(value) : undefined;
  if (kind === "boolean") return typeof value === "boolean" ? String(value) : undefined;
  if (kind === "templates") return value !== null && typeof value === "object" && !Array.isArray(value) ? JSON.stringify(value) : undefined;
  return Array.isArray(value) && value.every((v) => typeof v === "string" && !v.includes(",")) ? value.join(",") : undefined;
}

const KIND_WORDS: Record<Kind, string> = {
  string: "a string",
  integer: "an integer",
  boolean: "true or false",
  list: "an array of strings",
  templates: 'an object of texts by language, such as {"en": "Your {org} code is {code}."}',
};

/** A message the environment's parsers wrote of their variables, told in the admin API's names. */
function inSettingNames(message: string): string {
  let said = message;
  for (const n of SETTING_NAMES) {
    said = said.replace(new RegExp(`\\b${SETTINGS[n].variable}=`, "g"), `${n} to `).replace(new RegExp(`\\b${SETTINGS[n].variable}\\b`, "g"), n);
  }
  return said;
}

function parseSetting(name: SettingName, value: unknown): unknown {
  const f: Field = SETTINGS[name];
  if (value === null && name === "voice") return undefined;
  const raw = asVariable(f.kind, value);
  if (raw === undefined) throw new SettingError(name, `must be ${KIND_WORDS[f.kind]}${name === "voice" ? " or null" : ""}`);
  const parsed = (envSchema.shape[f.variable] as z.ZodTypeAny).safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    // A template names its language: the field is settings.templates.fr, not the whole object.
    const at = f.kind === "templates" ? [name, ...issue.path.map(String)].join(".") : name;
    throw new SettingError(at, inSettingNames(issue.message));
  }
  return parsed.data;
}

/**
 * The settings a service stores, checked: known names, the types the admin API takes,
 * and each value through its variable's parser. Returns them as given (null resets a
 * setting to the default service's, and is dropped).
 */
export function checkSettings(given: Record<string, unknown>): Record<string, unknown> {
  const kept: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(given)) {
    if (!Object.hasOwn(SETTINGS, name)) throw new SettingError(name, `not a setting; use one of ${SETTING_NAMES.join(", ")}`);
    if (value === null) continue;
    parseSetting(name as SettingName, value);
    kept[name] = value;
  }
  return kept;
}

/**
 * A service's settings: the default service's, overridden by its own. A voice is checked
 * against the service's language and the carrier, as VOICE is; a service that sets its
 * own language without a voice speaks that language's default voice.
 */
export function serviceSettings(
  base: ServiceSettings,
  service: { id: string; name: string; settings: Record<string, unknown> },
  carrier: CarrierName | "simulator",
): ServiceSettings {
  const s: ServiceSettings = { ...base, id: service.id, name: service.name };
  if (Object.hasOwn(service.settings, "language") && !Object.hasOwn(service.settings, "voice")) s.voice = undefined;
  if (Object.hasOwn(service.settings, "language") && !Object.hasOwn(service.settings, "languages")) s.languages = [];
  for (const name of SETTING_NAMES) {
    if (name === "voice" || !Object.hasOwn(service.settings, name)) continue;
    SETTINGS[name].write(s, parseSetting(name, service.settings[name]) as never);
  }
  if (s.languages.length === 0) s.languages = [s.language];
  if (Object.hasOwn(service.settings, "voice")) {
    const voice = parseSetting("voice", service.settings.voice) as string | undefined;
    try {
      s.voice = chooseVoice(voice, s.language, carrier);
    } catch (err) {
      if (err instanceof ConfigError) throw new SettingError("voice", inSettingNames(err.message.replace(/^VOICE: /, "")));
      throw err;
    }
  }
  return s;
}

/** The settings as the admin API shows them: every one, by its API name. */
export function describeSettings(s: ServiceSettings): Record<SettingName, unknown> {
  return Object.fromEntries(SETTING_NAMES.map((n) => [n, SETTINGS[n].read(s)])) as Record<SettingName, unknown>;
}
