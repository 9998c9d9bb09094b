import {
  DatabaseBusyError,
  DatabaseUnavailableError,
  LostBeforeCommitError,
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
  return guarded(driver, opts.retryWithinMs ?? RETRY_WITHIN_MS);
}

const TRANSACTION_TRIES = 4;

/**
 * A transaction whose connection dropped runs again only this soon after its first try
 * began. The request is waiting on it, and so is the client (often for 10 s, sometimes
 * less): a try begun later could outlast that wait, and a 503 now serves it better.
 */
const RETRY_WITHIN_MS = 2000;

/**
 * Transactions run again where that is safe (the one place that decides it); after
 * close(), every query fails as "unavailable" (a 503), whatever the driver would have thrown.
 */
function guarded(driver: Database, retryWithinMs: number): Database {
  let closed = false;
  const check = () => {
    if (closed) throw new DatabaseUnavailableError("the database is closed");
  };
  return {
    kind: driver.kind,
    rows: async (query) => (check(), driver.rows(query)),
    async transaction(fn) {
      const started = performance.now();
      let lost = 0;
      for (let attempt = 1; ; attempt++) {
        check();
        try {
          return await driver.transaction(fn);
        } catch (err) {
          // Contention ends each try early and the next one usually gets through: a few, however long they waited.
          if (isContention(err)) {
            if (attempt >= TRANSACTION_TRIES) throw new DatabaseBusyError("the database is busy with competing requests", { cause: err });
            continue;
          }
          // Dropped before COMMIT left: the server rolled it back, and a new connection
          // (to the new primary, after a failover) may well take it. Once, and early enough:
          // a second drop in a row says the database is down, and the client is better told
          // so now. Dropped after COMMIT left (CommitOutcomeUnknownError), it may have
          // committed: never again.
          if (err instanceof LostBeforeCommitError && lost++ === 0 && performance.now() - started < retryWithinMs) continue;
          throw err;
        }
      }
    },
    listen: async (channel, onNotify, onListen, onLost) => (check(), driver.listen(channel, onNotify, onListen, onLost)),
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

