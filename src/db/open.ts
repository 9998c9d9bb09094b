import {
  DatabaseBusyError,
  DatabaseUnavailableError,
  type Database,
  type OpenOptions,
} from "./database.js";

export * from "./database.js";

/** Opens the configured database and applies pending migrations before returning. */
export async function openDatabase(opts: OpenOptions): Promise<Database> {
  const driver = opts.databaseUrl
    ? await (await import("./postgres.js")).openPostgres(opts.databaseUrl, opts)
    : // Loaded only when used: a PostgreSQL deployment does not carry PGlite's memory.
      await (await import("./pglite.js")).openPglite(opts);
  return guarded(driver);
}

const TRANSACTION_TRIES = 4;

/** After close(), every query fails as "unavailable" (a 503), whatever the driver would have thrown. */
function guarded(driver: Database): Database {
  let closed = false;
  const check = () => {
    if (closed) throw new DatabaseUnavailableError("the database is closed");
  };
  return {
    kind: driver.kind,
    rows: async (query) => (check(), driver.rows(query)),
    async transaction(fn) {
      for (let attempt = 1; ; attempt++) {
        check();
        try {
          return await driver.transaction(fn);
        } catch (err) {
          if (!isContention(err)) throw err;
          if (attempt >= TRANSACTION_TRIES) throw new DatabaseBusyError("the database is busy with competing requests", { cause: err });
        }
      }
    },
    listen: async (channel, onNotify, onListen) => (check(), driver.listen(channel, onNotify, onListen)),
    ping: async (ms) => (check(), driver.ping(ms)),
    close: async () => {
      if (closed) return;
      closed = true;
      await driver.close();
    },
  };
}

/** A deadlock, a serialization failure or a unique violation: the transaction may run again. */
function isContention(err: unknown): boolean {
  for (let e: unknown = err; e; e = (e as { cause?: unknown }).cause) {
    const code = (e as { code?: string }).code;
    if (code === "40P01" || code === "40001" || code === "23505") return true;
  }
  return false;
}

