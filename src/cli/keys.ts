import { resolve } from "node:path";
import { loadConfig } from "../config/index.js";
import { openDatabase } from "../db/open.js";
import { pgliteDatabaseExists } from "../db/pglite-dir.js";
import { createKey, listKeys, revokeKey } from "../keys/api-keys.js";
import { UsageError } from "./usage.js";

export const KEYS_HELP = `usage: voice-otp keys create NAME [--rate-per-minute N]
       voice-otp keys list
       voice-otp keys revoke NAME

Manages the API keys kept in the database (besides API_KEYS). A new key is shown
once, at creation; only its hash is stored. Revoking takes effect at once on every
instance. With the embedded PGlite, stop the service first (one process per
DATA_DIR); on PostgreSQL it runs beside the service.`;

export async function keysCommand(args: string[]): Promise<void> {
  const [command, ...rest] = args;
  if (!command || !["create", "list", "revoke"].includes(command)) throw new UsageError(KEYS_HELP);
  let ratePerMinute: number | undefined;
  if (command === "create") {
    if (!rest[0] || rest[0].startsWith("--")) throw new UsageError("keys create needs a NAME");
    const at = rest.indexOf("--rate-per-minute");
    if (at >= 0) {
      ratePerMinute = Number(rest[at + 1]);
      if (!Number.isInteger(ratePerMinute) || ratePerMinute < 1) {
        throw new UsageError("--rate-per-minute takes a whole number of requests, at least 1");
      }
    }
  }
  if (command === "revoke" && !rest[0]) throw new UsageError("keys revoke needs the NAME of a key");

  const config = loadConfig(process.env);
  // Reading keys from a database that is not there would create an empty one and
  // answer "no keys", hiding a DATA_DIR that points at the wrong place.
  if (command !== "create" && !config.databaseUrl && !pgliteDatabaseExists(config.dataDir)) {
    const where = config.dataDir === "memory://" ? config.dataDir : resolve(config.dataDir);
    throw new Error(`no database in ${where} (DATA_DIR): set DATA_DIR to the service's data directory, or DATABASE_URL to its PostgreSQL`);
  }
  const database = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir });
  try {
    if (command === "create") {
      const created = await createKey(database, rest[0]!, { ratePerMinute, now: new Date() });
      console.log(`created API key "${created.name}"${ratePerMinute ? ` (${ratePerMinute} requests per minute)` : ""}.`);
      console.log("It is shown only this once; store it now:");
      console.log(created.key);
    } else if (command === "list") {
      const keys = await listKeys(database);
      if (keys.length === 0) console.log("no keys in the database (keys from API_KEYS are not listed)");
      for (const k of keys) {
        const rate = k.ratePerMinute ? `${k.ratePerMinute}/min` : "default rate";
        const state = k.revokedAt ? `revoked ${k.revokedAt.toISOString()}` : "active";
        console.log(`${k.name}\t${state}\t${rate}\tcreated ${k.createdAt.toISOString()}`);
      }
    } else {
      if (!(await revokeKey(database, rest[0]!, new Date()))) throw new Error(`no active key named "${rest[0]}"`);
      console.log(`revoked "${rest[0]}": it stops working at once on every instance`);
    }
  } finally {
    await database.close();
  }
}
