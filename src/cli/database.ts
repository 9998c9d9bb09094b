import { resolve } from "node:path";
import type { Config } from "../config/index.js";
import { openDatabase, type Database } from "../db/open.js";
import { pgliteDatabaseExists } from "../db/pglite-dir.js";

/**
 * The service's database, for a command that works on it directly. A command that only
 * reads or changes what is there needs it to exist: opening an absent one would create
 * an empty database and answer "nothing here", hiding a DATA_DIR that points at the
 * wrong place.
 */
export async function openServiceDatabase(config: Readonly<Config>, opts: { mustExist: boolean }): Promise<Database> {
  if (opts.mustExist && !config.databaseUrl && !pgliteDatabaseExists(config.dataDir)) {
    const where = config.dataDir === "memory://" ? config.dataDir : resolve(config.dataDir);
    throw new Error(`no database in ${where} (DATA_DIR): set DATA_DIR to the service's data directory, or DATABASE_URL to its PostgreSQL`);
  }
  return openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir });
}
