import { loadConfig } from "../config/index.js";
import { DEFAULT_SERVICE_ID } from "../db/schema.js";
import { createKey, listKeys, revokeKey, type StoredKey } from "../keys/api-keys.js";
import { findService, listServices, loadService } from "../services/store.js";
import type { Database } from "../db/open.js";
import { openServiceDatabase } from "./database.js";
import { parseOptions, type OptionSpec } from "./options.js";
import { UsageError } from "./usage.js";

export const KEYS_HELP = `usage: voice-otp keys create NAME [--rate-per-minute N] [--service ID|NAME | --admin]
       voice-otp keys list
       voice-otp keys revoke NAME

Manages the API keys kept in the database (besides API_KEYS and ADMIN_API_KEYS). A key
acts in one service: the default service, or the one --service names (see
\`voice-otp services\`). An --admin key manages services through /services and places no
call. A new key is shown once, at creation; only its hash is stored. Revoking takes
effect at once on every instance. With the embedded PGlite, stop the service first (one
process per DATA_DIR); on PostgreSQL it runs beside the service.`;

export async function keysCommand(args: string[]): Promise<void> {
  const [command, ...rest] = args;
  if (!command || !["create", "list", "revoke"].includes(command)) throw new UsageError(KEYS_HELP);
  const spec: OptionSpec = command === "create" ? { "rate-per-minute": "value", service: "value", admin: "flag" } : {};
  const { positional, options } = parseOptions(rest, spec, `keys ${command}`);
  let ratePerMinute: number | undefined;
  if (command === "create") {
    if (!positional[0]) throw new UsageError("keys create needs a NAME");
    if (options["rate-per-minute"]) {
      ratePerMinute = Number(options["rate-per-minute"][0]);
      if (!Number.isInteger(ratePerMinute) || ratePerMinute < 1) {
        throw new UsageError("--rate-per-minute takes a whole number of requests, at least 1");
      }
    }
    if (options.admin && options.service) {
      throw new UsageError("an --admin key manages every service and acts in none: give --admin or --service, not both");
    }
  }
  if (command === "revoke" && !positional[0]) throw new UsageError("keys revoke needs the NAME of a key");
  const extra = positional.slice(command === "list" ? 0 : 1);
  if (extra.length) throw new UsageError(`keys ${command} takes no ${extra[0]}`);

  const config = loadConfig(process.env);
  const database = await openServiceDatabase(config, { mustExist: command !== "create" });
  try {
    if (command === "create") {
      const admin = options.admin !== undefined;
      const service = options.service ? await serviceOf(database, options.service[0]!) : undefined;
      const created = await createKey(database, positional[0]!, { ratePerMinute, serviceId: service?.id, admin, now: new Date() });
      const kind = admin ? "admin key" : `API key for service "${service?.name ?? DEFAULT_SERVICE_ID}"`;
      console.log(`created ${kind} "${created.name}"${ratePerMinute ? ` (${ratePerMinute} requests per minute)` : ""}.`);
      console.log("It is shown only this once; store it now:");
      console.log(created.key);
    } else if (command === "list") {
      const keys = await listKeys(database);
      if (keys.length === 0) console.log("no keys in the database (keys from API_KEYS and ADMIN_API_KEYS are not listed)");
      const names = await serviceNames(database, keys);
      for (const k of keys) {
        const rate = k.ratePerMinute ? `${k.ratePerMinute}/min` : "default rate";
        const state = k.revokedAt ? `revoked ${k.revokedAt.toISOString()}` : "active";
        const role = k.admin ? "admin" : `service ${names.get(k.serviceId)}`;
        console.log(`${k.name}\t${state}\t${rate}\t${role}\tcreated ${k.createdAt.toISOString()}`);
      }
    } else {
      if (!(await revokeKey(database, positional[0]!, new Date()))) throw new Error(`no active key named "${positional[0]}"`);
      console.log(`revoked "${positional[0]}": it stops working at once on every instance`);
    }
  } finally {
    await database.close();
  }
}

/** The live service --service names; the default service by its name too. */
export async function serviceOf(database: Database, idOrName: string): Promise<{ id: string; name: string }> {
  if (idOrName === DEFAULT_SERVICE_ID) return { id: DEFAULT_SERVICE_ID, name: DEFAULT_SERVICE_ID };
  const found = await findService(database, idOrName);
  if (!found) throw new Error(`no service "${idOrName}": \`voice-otp services list\` shows them, \`voice-otp services create NAME\` makes one`);
  return found;
}

/** How keys list names each key's service: its name, and whether it was deleted. */
async function serviceNames(database: Database, keys: StoredKey[]): Promise<Map<string, string>> {
  const names = new Map<string, string>([[DEFAULT_SERVICE_ID, DEFAULT_SERVICE_ID]]);
  for (const s of await listServices(database)) names.set(s.id, s.name);
  for (const id of new Set(keys.map((k) => k.serviceId))) {
    if (names.has(id)) continue;
    const gone = await loadService(database, id);
    names.set(id, gone ? `${gone.name} (deleted)` : id);
  }
  return names;
}
