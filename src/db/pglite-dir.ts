import { existsSync } from "node:fs";
import { join } from "node:path";

/** Where PGlite keeps its PostgreSQL files inside DATA_DIR (the lock and secret.key sit beside it). */
export function pgliteDir(dataDir: string): string {
  return join(dataDir, "pg");
}

/** Whether DATA_DIR holds a database already: PostgreSQL writes PG_VERSION when it creates one. */
export function pgliteDatabaseExists(dataDir: string): boolean {
  return dataDir !== "memory://" && existsSync(join(pgliteDir(dataDir), "PG_VERSION"));
}
