import { loadConfig } from "../config/index.js";
import { openDatabase } from "../db/open.js";

export const MIGRATE_HELP = `usage: voice-otp migrate

Applies pending migrations to DATABASE_URL (or the PGlite in DATA_DIR) and exits.
The service does the same at startup; this is for deployments that migrate in a
separate step before rolling instances.`;

export async function migrateCommand(): Promise<void> {
  const config = loadConfig(process.env);
  const database = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir });
  await database.close();
  console.log(`voice-otp: migrations applied (${database.kind === "postgres" ? "DATABASE_URL" : `PGlite in ${config.dataDir}`})`);
}
