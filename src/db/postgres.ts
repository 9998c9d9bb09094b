import { drizzle } from "drizzle-orm/postgres-js";
import { migrate } from "drizzle-orm/postgres-js/migrator";
import { sql, type SQL } from "drizzle-orm";
import { PgDialect } from "drizzle-orm/pg-core";
import type postgres from "postgres";
import { migrationsFolder } from "./migrations-folder.js";
import { describe, unavailable } from "./postgres-failures.js";
import { notifications } from "./postgres-listen.js";
import { reservedTransaction, type Run } from "./postgres-transaction.js";
import { hostPools, type HostPools, type Writable } from "./writable-host.js";
import { DatabaseUnavailableError, withTimeout, type Database, type OpenOptions } from "./database.js";

const dialect = new PgDialect();

/**
 * A PostgreSQL server through postgres.js: a pool per instance, migrated before use. A
 * DATABASE_URL naming several servers (a primary and its standbys) is served by
 * whichever takes writes (writable-host.ts), found again after a failover.
 */
export async function openPostgres(url: string, opts: OpenOptions): Promise<Database> {
  const connectTimeout = opts.connectTimeoutSeconds ?? 5;
  const hosts = hostPools(url, {
    connect_timeout: connectTimeout,
    onnotice: () => {},
    connection: { application_name: "voice-otp" },
    max: opts.maxConnections ?? 10,
    idle_timeout: 60,
    // postgres.js waits longer before each reconnect, up to 20 s after a few refused
    // connections, and a query handed to a waiting connection waits with it: through a
    // database outage requests would hang that long, and go on hanging after it ends.
    // Capped at a second, they fail fast with a 503 and the pool is back within a second.
    backoff: (retries: number) => Math.min(3 ** retries / 100, 1) * (0.5 + Math.random() / 2),
  });
  try {
    await migrateWithLock(hosts);
  } catch (err) {
    await hosts.end();
    throw err;
  }
  const listener = notifications(hosts);

  // Named prepared statements: each statement text is parsed and planned once per connection.
  const run: Run = async <T>(at: Writable, on: postgres.Sql | postgres.ReservedSql, query: SQL): Promise<T[]> => {
    const q = dialect.sqlToQuery(query);
    try {
      return (await on.unsafe(q.sql, q.params as postgres.ParameterOrJSON<never>[], { prepare: true })) as unknown as T[];
    } catch (err) {
      throw unavailable(err, () => hosts.forget(at.index)) ?? err;
    }
  };
  return {
    kind: "postgres",
    async rows(query) {
      const at = await hosts.writable();
      return run(at, at.pool, query);
    },
    transaction: async (fn) => {
      const at = await hosts.writable();
      return reservedTransaction(at, hosts, run, fn);
    },
    listen: (channel, onNotify, onListen, onLost) => listener.listen(channel, { onNotify, onListen, onLost }),
    // Through run(): a readiness check that finds the server gone makes the pools look again,
    // so an instance that only a load balancer's checks reach still follows a failover.
    ping: (timeoutMs) =>
      withTimeout(
        hosts.writable().then((at) => run(at, at.pool, sql`select 1`).then(() => undefined)),
        timeoutMs,
        "database did not answer",
      ),
    close: async () => {
      await listener.end();
      await hosts.end();
    },
  };
}

/**
 * Several instances may start at once against one database: a session-level
 * advisory lock on a dedicated single connection makes them migrate one after
 * another, so the second finds the work done instead of racing the first.
 */
async function migrateWithLock(hosts: HostPools): Promise<void> {
  const { index } = await hosts.writable().catch((err: unknown) => {
    throw new DatabaseUnavailableError(`cannot reach DATABASE_URL: ${describe(err)}`);
  });
  const client = hosts.connect(index, { max: 1 });
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

