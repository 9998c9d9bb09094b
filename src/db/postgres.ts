import { drizzle } from "drizzle-orm/postgres-js";
import { migrate } from "drizzle-orm/postgres-js/migrator";
import type { SQL } from "drizzle-orm";
import { PgDialect } from "drizzle-orm/pg-core";
import postgres from "postgres";
import { migrationsFolder } from "./migrations-folder.js";
import { DatabaseUnavailableError, withTimeout, type Database, type OpenOptions } from "./database.js";

const dialect = new PgDialect();

/** A PostgreSQL server through postgres.js: a pool per instance, migrated before use. */
export async function openPostgres(url: string, opts: OpenOptions): Promise<Database> {
  const connectTimeout = opts.connectTimeoutSeconds ?? 5;
  const options = { connect_timeout: connectTimeout, onnotice: () => {}, connection: { application_name: "voice-otp" } };
  await migrateWithLock(url, options);
  const client = postgres(url, {
    ...options,
    max: opts.maxConnections ?? 10,
    idle_timeout: 60,
    // postgres.js waits longer before each reconnect, up to 20 s after a few refused
    // connections, and a query handed to a waiting connection waits with it: through a
    // database outage requests would hang that long, and go on hanging after it ends.
    // Capped at a second, they fail fast with a 503 and the pool is back within a second.
    backoff: (retries: number) => Math.min(3 ** retries / 100, 1) * (0.5 + Math.random() / 2),
  });
  // Named prepared statements: each statement text is parsed and planned once per connection.
  const run = async <T>(on: postgres.Sql | postgres.ReservedSql, query: SQL): Promise<T[]> => {
    const q = dialect.sqlToQuery(query);
    return (await on.unsafe(q.sql, q.params as postgres.ParameterOrJSON<never>[], { prepare: true })) as unknown as T[];
  };
  return {
    kind: "postgres",
    rows: (query) => run(client, query),
    // On a reserved connection rather than postgres.js's begin(): when the connection drops
    // mid-transaction, begin() settles at once and its own rollback then fails with nobody
    // waiting for it, an unhandled rejection that ends the process. A connection that
    // dropped is left to the pool, which has already set it aside: written to or released,
    // postgres.js would send on its closed socket and throw outside any promise.
    async transaction(fn) {
      const conn = await client.reserve();
      // Queued, not awaited: it leaves in one write with the first statement.
      const begun = conn.unsafe("begin").then(() => undefined);
      begun.catch(() => {});
      let committed = false;
      const tx = Object.assign(<T>(query: SQL) => run<T>(conn, query), {
        async commitWith<T>(query: SQL) {
          committed = true;
          // A failed statement aborts the transaction, and COMMIT then rolls it back.
          const [rows] = await Promise.all([run<T>(conn, query), conn.unsafe("commit")]);
          return rows;
        },
      });
      try {
        const result = await fn(tx);
        await begun;
        if (!committed) await conn.unsafe("commit");
        conn.release();
        return result;
      } catch (err) {
        if (!connectionLost(err)) {
          await conn.unsafe("rollback").catch(() => {});
          conn.release();
        }
        throw err;
      }
    },
    // postgres.js keeps one connection of its own for LISTEN, and listens again after it reconnects.
    listen: async (channel, onNotify, onListen) => {
      await client.listen(channel, onNotify, onListen);
    },
    ping: (timeoutMs) => withTimeout(client`select 1`.then(() => undefined), timeoutMs, "database did not answer"),
    close: () => client.end({ timeout: 5 }),
  };
}

/**
 * Several instances may start at once against one database: a session-level
 * advisory lock on a dedicated single connection makes them migrate one after
 * another, so the second finds the work done instead of racing the first.
 */
async function migrateWithLock(url: string, options: postgres.Options<{}>): Promise<void> {
  const client = postgres(url, { ...options, max: 1 });
  try {
    await client`select pg_advisory_lock(hashtext('voice-otp:migrate'))`.catch((err: unknown) => {
      throw new DatabaseUnavailableError(`cannot reach DATABASE_URL: ${describe(err)}`);
    });
    await migrate(drizzle(client), { migrationsFolder: migrationsFolder() });
    await client`select pg_advisory_unlock(hashtext('voice-otp:migrate'))`;
  } finally {
    await client.end({ timeout: 5 });
  }
}

/** postgres.js's own connection errors, a socket error, or the server ending the session (classes 08, 57). */
function connectionLost(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === "string" && /^(CONNECTION_|CONNECT_TIMEOUT|E[A-Z]+$|08|57P)/.test(code);
}

function describe(err: unknown): string {
  if (err instanceof Error) {
    const code = (err as { code?: string }).code;
    return code ? `${code} ${err.message}` : err.message;
  }
  return String(err);
}
