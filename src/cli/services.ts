import { loadConfig, type Config } from "../config/index.js";
import type { Database } from "../db/open.js";
import { DEFAULT_SERVICE_ID } from "../db/schema.js";
import { defaultService, describeSettings, serviceSettings, SETTING_NAMES, SETTINGS, SettingError, type SettingName } from "../services/settings.js";
import { createService, deleteService, findService, listServices, updateService, type StoredService } from "../services/store.js";
import { openServiceDatabase } from "./database.js";
import { parseOptions, type OptionSpec } from "./options.js";
import { serviceSupabaseHookCommand } from "./service-supabase-hook.js";
import { serviceWebhookCommand } from "./service-webhook.js";
import { UsageError } from "./usage.js";

const width = Math.max(...SETTING_NAMES.map((n) => n.length));

export const SERVICES_HELP = `usage: voice-otp services create NAME [--set SETTING=VALUE ...]
       voice-otp services list
       voice-otp services show ID|NAME
       voice-otp services update ID|NAME [--name NEW] [--set SETTING=VALUE ...] [--reset SETTING ...]
       voice-otp services delete ID|NAME
       voice-otp services webhook ID|NAME [--url URL [--events A,B] | --rotate | --remove]
       voice-otp services supabase-hook ID|NAME [--secret SECRET | --remove]

Manages the services (apps) kept in the database. The default service is the one
the environment's variables define; another keeps only the settings it sets (--set)
and takes the rest from the default service (--reset gives one back to it). A VALUE
is JSON when it reads as JSON (8, true, ["US","CA"]), else text; a list also takes
commas (allowed_countries=US,CA). Each is checked as the variable that sets it for
the default service. Deleting a service revokes its keys; \`voice-otp keys create
NAME --service ID|NAME\` makes one. With the embedded PGlite, stop the service first
(one process per DATA_DIR); on PostgreSQL it runs beside the service, and every
instance uses a change within about a second. \`services webhook\` sets where a
service's events go (\`voice-otp services webhook\` alone explains it); \`services
supabase-hook\` sets the secret of its Supabase Send SMS hook.

settings, and the variable that sets each for the default service:
${SETTING_NAMES.map((n) => `  ${n.padEnd(width)}  ${SETTINGS[n].variable}`).join("\n")}`;

const SPECS: Record<string, OptionSpec> = {
  create: { set: "repeated" },
  list: {},
  show: {},
  update: { name: "value", set: "repeated", reset: "repeated" },
  delete: {},
};

const DEFAULT_READ_ONLY = "the default service is set by the environment's variables (ORG_NAME, LANGUAGE, OTP_LENGTH and the others), not here";

export async function servicesCommand(args: string[]): Promise<void> {
  const [command, ...rest] = args;
  if (command === "webhook") return serviceWebhookCommand(rest);
  if (command === "supabase-hook") return serviceSupabaseHookCommand(rest);
  const spec = command === undefined ? undefined : SPECS[command];
  if (!spec) throw new UsageError(SERVICES_HELP);
  const { positional, options } = parseOptions(rest, spec, `services ${command}`);
  const wanted = command === "list" ? 0 : 1;
  if (positional.length < wanted) throw new UsageError(`services ${command} needs ${command === "create" ? "a NAME" : "the ID or NAME of a service"}`);
  if (positional.length > wanted) throw new UsageError(`services ${command} takes no ${positional[wanted]}`);
  const target = positional[0]!;
  const settings: Record<string, unknown> = {};
  for (const set of options.set ?? []) {
    const at = set.indexOf("=");
    if (at < 1) throw new UsageError(`--set takes SETTING=VALUE, not "${set}"`);
    settings[set.slice(0, at)] = settingValue(set.slice(0, at), set.slice(at + 1));
  }
  for (const name of options.reset ?? []) settings[name] = null;
  if (command === "update" && !options.name && !options.set && !options.reset) throw new UsageError("services update needs --name, --set or --reset");
  if ((command === "update" || command === "delete") && target === DEFAULT_SERVICE_ID) throw new Error(DEFAULT_READ_ONLY);

  const config = loadConfig(process.env);
  const base = defaultService(config);
  const check = (s: StoredService) => void serviceSettings(base, s, config.carrier.name);
  const database = await openServiceDatabase(config, { mustExist: command !== "create" });
  const now = new Date();
  try {
    if (command === "create") {
      const created = await createService(database, { name: target, settings }, now, check);
      console.log(`created service "${created.name}" (${created.id}): ${ownSettings(created)}`);
      console.log(`make it a key: voice-otp keys create NAME --service ${created.name}`);
    } else if (command === "list") {
      console.log(`${DEFAULT_SERVICE_ID}\t${DEFAULT_SERVICE_ID}\tthe environment's settings`);
      for (const s of await listServices(database)) console.log(`${s.id}\t${s.name}\tcreated ${s.createdAt.toISOString()}\t${ownSettings(s)}`);
    } else if (command === "show") {
      show(config, target === DEFAULT_SERVICE_ID ? undefined : await found(database, target));
    } else if (command === "update") {
      const change = { name: options.name?.[0], settings };
      const updated = (await updateService(database, target, change, now, check)) ?? missing(target);
      console.log(`updated service "${updated.name}" (${updated.id}): ${ownSettings(updated)}`);
    } else {
      const deleted = (await deleteService(database, target, now)) ?? missing(target);
      console.log(`deleted service "${deleted.name}" (${deleted.id}) and revoked its keys: they stop working at once on every instance`);
    }
  } finally {
    await database.close();
  }
}

/**
 * A --set value: JSON when it reads as JSON, else the text. A text setting keeps the text
 * as typed unless it was a JSON string, and a list also takes commas.
 */
export function settingValue(name: string, text: string): unknown {
  let json: { value: unknown } | undefined;
  try {
    json = { value: JSON.parse(text) };
  } catch {
    json = undefined;
  }
  const kind = Object.hasOwn(SETTINGS, name) ? SETTINGS[name as SettingName].kind : undefined;
  if (kind === "list") {
    if (Array.isArray(json?.value)) return json.value;
    return text.split(",").map((v) => v.trim()).filter((v) => v !== "");
  }
  if (kind === "string") return typeof json?.value === "string" ? json.value : text;
  return json ? json.value : text;
}

function missing(idOrName: string): never {
  throw new Error(`no service "${idOrName}": \`voice-otp services list\` shows them`);
}

async function found(database: Database, idOrName: string): Promise<StoredService> {
  return (await findService(database, idOrName)) ?? missing(idOrName);
}

/** A value as --set would take it back. */
function shown(value: unknown): string {
  if (value === null || value === undefined) return "(none)";
  if (Array.isArray(value)) return value.length ? value.join(",") : "(none)";
  if (typeof value === "object") return Object.keys(value).length ? JSON.stringify(value) : "(none)";
  if (typeof value === "string" && (value === "" || /[\s,"]/.test(value))) return JSON.stringify(value);
  return String(value);
}

function ownSettings(s: StoredService): string {
  const own = Object.entries(s.settings);
  return own.length ? own.map(([k, v]) => `${k}=${shown(v)}`).join(" ") : "every setting the default service's";
}

/** Every setting the service's calls use, its own marked. */
function show(config: Readonly<Config>, stored: StoredService | undefined): void {
  const base = defaultService(config);
  let settings = base;
  if (stored) {
    console.log(`service "${stored.name}" (${stored.id}), created ${stored.createdAt.toISOString()}, updated ${stored.updatedAt.toISOString()}`);
    try {
      settings = serviceSettings(base, stored, config.carrier.name);
    } catch (err) {
      if (!(err instanceof SettingError)) throw err;
      console.log(`its settings no longer hold (${err.message}): its calls use the default service's until they are fixed`);
    }
  } else {
    console.log(`service "${DEFAULT_SERVICE_ID}": the environment's variables set it`);
  }
  console.log("settings (* its own; the rest the default service's):");
  for (const [name, value] of Object.entries(describeSettings(settings))) {
    const own = stored !== undefined && Object.hasOwn(stored.settings, name);
    const text = name === "voice" && value === null ? "(the language's default voice)" : shown(value);
    console.log(`${own ? "*" : " "} ${name.padEnd(width)}  ${text}`);
  }
}
