// `npm run keys -- create NAME [--rate-per-minute N] | list | revoke NAME`
// Manages the API keys kept in the database. With the embedded PGlite, stop the
// service first (one process per DATA_DIR); on PostgreSQL it runs beside it.
import "dotenv/config";
import { ConfigError, loadConfig } from "../config.js";
import { openDatabase } from "../db/open.js";
import { createKey, KeyError, listKeys, revokeKey } from "../keys/api-keys.js";

const USAGE = "usage: npm run keys -- create NAME [--rate-per-minute N] | list | revoke NAME";

function fail(message: string): never {
  console.error(`voice-otp keys: ${message}`);
  process.exit(1);
}

const [command, ...args] = process.argv.slice(2);
if (!command || !["create", "list", "revoke"].includes(command)) fail(USAGE);

let config;
try {
  config = loadConfig(process.env);
} catch (err) {
  fail(err instanceof ConfigError ? `configuration error: ${err.message}` : String(err));
}
const database = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir }).catch((err: Error) =>
  fail(err.message),
);

try {
  if (command === "create") {
    const name = args[0];
    if (!name || name.startsWith("--")) fail(USAGE);
    const rateAt = args.indexOf("--rate-per-minute");
    let ratePerMinute: number | undefined;
    if (rateAt >= 0) {
      ratePerMinute = Number(args[rateAt + 1]);
      if (!Number.isInteger(ratePerMinute) || ratePerMinute < 1) fail("--rate-per-minute takes a whole number of requests, at least 1");
    }
    const created = await createKey(database, name, { ratePerMinute, now: new Date() });
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
    const name = args[0] ?? fail(USAGE);
    if (!(await revokeKey(database, name, new Date()))) fail(`no active key named "${name}"`);
    console.log(`revoked "${name}": it stops working at once on every instance`);
  }
} catch (err) {
  fail(err instanceof KeyError ? err.message : (err as Error).message);
} finally {
  await database.close();
}
