// `npm run db:migrate`: applies pending migrations to DATABASE_URL (or the PGlite
// in DATA_DIR) and exits. The service does the same at startup; this is for
// deployments that migrate in a separate step before rolling instances.
import "dotenv/config";
import { ConfigError, loadConfig } from "../config.js";
import { openDatabase } from "../db/open.js";

try {
  const config = loadConfig(process.env);
  const database = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir });
  await database.close();
  console.log(`voice-otp: migrations applied (${database.kind === "postgres" ? "DATABASE_URL" : `PGlite in ${config.dataDir}`})`);
} catch (err) {
  const message = err instanceof ConfigError ? `configuration error: ${err.message}` : (err as Error).message;
  console.error(`voice-otp: cannot migrate: ${message}`);
  process.exit(1);
}
