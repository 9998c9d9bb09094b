import { mkdir } from "node:fs/promises";
import { PGlite } from "@electric-sql/pglite";
import { drizzle } from "drizzle-orm/pglite";
import { migrate } from "drizzle-orm/pglite/migrator";
import type { SQL } from "drizzle-orm";
import { acquireDirLock } from "./dir-lock.js";
import { migrationsFolder } from "./migrations-folder.js";
import { pgliteDatabaseExists, pgliteDir } from "./pglite-dir.js";
import { createPgliteDatabase, PGLITE_START_PARAMS } from "./pglite-memory.js";
import { withTimeout, type Database, type OpenOptions, type Rows } from "./database.js";

/**
 * The embedded database: PostgreSQL compiled to WebAssembly, in this process. It is
 * one connection, so its statements and transactions run one at a time.
 */
export async function openPglite(opts: OpenOptions): Promise<Database> {
  let release = async () => {};
  let pg = opts.pglite;
  if (!pg) {
    if (opts.dataDir === "memory://") {
      pg = new PGlite({ startParams: PGLITE_START_PARAMS });
    } else {
      await mkdir(opts.dataDir, { recursive: true });
      // PGlite does not lock its directory and two openers corrupt it.
      release = await acquireDirLock(opts.dataDir);
      try {
        if (!pgliteDatabaseExists(opts.dataDir)) await createPgliteDatabase(pgliteDir(opts.dataDir));
      } catch (err) {
        await release();
        throw err;
      }
      pg = new PGlite(pgliteDir(opts.dataDir), { startParams: PGLITE_START_PARAMS });
    }
  }
  const db = drizzle(pg);
  try {
    await migrate(db, { migrationsFolder: migrationsFolder() });
  } catch (err) {
    await release();
    throw err;
  }
  const instance = pg;
  const rowsOf = (on: { execute(query: SQL): Promise<unknown> }): Rows => async <T>(query: SQL) =>
    ((await on.execute(query)) as { rows: T[] }).rows;
  return {
    kind: "pglite",
    rows: rowsOf(db),
    // One connection: nothing to gain by sending COMMIT with the last statement.
    transaction: (fn) =>
      db.transaction((tx) => {
        const rows = rowsOf(tx);
        return fn(Object.assign(rows, { commitWith: rows }));
      }),
    // One process opens the directory, so every notification comes from this instance.
    listen: async (channel, onNotify, onListen) => {
      await instance.listen(channel, onNotify);
      onListen();
    },
    ping: (timeoutMs) => withTimeout(instance.query("select 1").then(() => undefined), timeoutMs, "database did not answer"),
    close: async () => {
      if (!opts.pglite) await instance.close();
      await release();
    },
  };
}
