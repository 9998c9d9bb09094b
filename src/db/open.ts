import { mkdir } from "node:fs/promises";
import type { PGlite } from "@electric-sql/pglite";
import { drizzle as drizzlePostgres } from "drizzle-orm/postgres-js";
import { migrate as migratePostgres } from "drizzle-orm/postgres-js/migrator";
import postgres from "postgres";
import { sql, type SQL } from "drizzle-orm";
import { PgDialect, type PgDatabase, type PgQueryResultHKT } from "drizzle-orm/pg-core";
import * as schema from "./schema.js";
import { acquireDirLock } from "./dir-lock.js";
import { migrationsFolder } from "./migrations-folder.js";
import { statementText } from "./statement-text.js";

export type Db = PgDatabase<PgQueryResultHKT, typeof schema>;

export interface Database {
  readonly kind: "pglite" | "postgres";
  readonly db: Db;
  /** Runs one statement and returns its rows, whatever the driver. */
  rows: Rows;
  /**
   * Compiles a statement once (its drizzle placeholders, `sql.placeholder("name")`,
   * filled on each call): hot paths skip building the SQL text per request, and on
   * PostgreSQL the statement is parsed and planned once per connection.
   */
  prepare<T = Record<string, unknown>>(query: SQL): Prepared<T>;
  /** Runs fn in one transaction; its statements see and commit together. */
  transaction<T>(fn: (rows: Rows) => Promise<T>): Promise<T>;
  /** Resolves when the database answers within timeoutMs, rejects otherwise. */
  ping(timeoutMs: number): Promise<void>;
  close(): Promise<void>;
}

export type Rows = <T = Record<string, unknown>>(query: SQL) => Promise<T[]>;
export type Prepared<T> = (values?: Record<string, unknown>) => Promise<T[]>;

const dialect = new PgDialect();

/**
 * A statement written once at module level with `sql.placeholder("name")` values,
 * compiled for each database on first use.
 */
export function statement<T = Record<string, unknown>>(query: SQL): (database: Database, values?: Record<string, unknown>) => Promise<T[]> {
  const compiled = new WeakMap<Database, Prepared<T>>();
  return (database, values) => {
    let run = compiled.get(database);
    if (!run) compiled.set(database, (run = database.prepare<T>(query)));
    return run(values);
  };
}

export class DatabaseUnavailableError extends Error {
  override name = "DatabaseUnavailableError";
}

export interface OpenOptions {
  databaseUrl?: string;
  /** PGlite's directory; "memory://" keeps it in memory (tests). */
  dataDir: string;
  /** An already-open PGlite (tests clone a migrated template). */
  pglite?: PGlite;
  connectTimeoutSeconds?: number;
  /** postgres-js pool size per instance. */
  maxConnections?: number;
}

/** Opens the configured database and applies pending migrations before returning. */
export async function openDatabase(opts: OpenOptions): Promise<Database> {
  const open = opts.databaseUrl ? await openPostgres(opts.databaseUrl, opts) : await openPglite(opts);
  return guardClosed(open);
}

/** After close(), every query fails as "unavailable" (a 503), whatever the driver would have thrown. */
function guardClosed(database: Database): Database {
  let closed = false;
  const check = () => {
    if (closed) throw new DatabaseUnavailableError("the database is closed");
  };
  return {
    kind: database.kind,
    db: database.db,
    rows: async (query) => (check(), database.rows(query)),
    prepare: <T>(query: SQL) => {
      const run = database.prepare<T>(query);
      return async (values) => (check(), run(values));
    },
    transaction: async (fn) => (check(), database.transaction(fn)),
    ping: async (ms) => (check(), database.ping(ms)),
    close: async () => {
      if (closed) return;
      closed = true;
      await database.close();
    },
  };
}

async function openPostgres(url: string, opts: OpenOptions): Promise<Database> {
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
  const db = drizzlePostgres(client, { schema }) as unknown as Db;
  // Named prepared statements: each of our statements is parsed and planned once per
  // connection instead of on every request (most of a validation's server time).
  const unsafe = async <T>(on: postgres.Sql | postgres.TransactionSql, text: string, params: unknown[]) =>
    (await on.unsafe(text, params as postgres.ParameterOrJSON<never>[], { prepare: true })) as unknown as T[];
  const run = <T>(on: postgres.Sql | postgres.TransactionSql, query: SQL): Promise<T[]> => {
    const q = dialect.sqlToQuery(query);
    return unsafe<T>(on, q.sql, q.params);
  };
  return {
    kind: "postgres",
    db,
    rows: (query) => run(client, query),
    prepare: <T>(query: SQL): Prepared<T> => {
      const { text, fill } = statementText(dialect.sqlToQuery(query));
      return (values = {}) => unsafe<T>(client, text, fill(values));
    },
    transaction: <T>(fn: (rows: Rows) => Promise<T>) =>
      client.begin((tx) => fn((query) => run(tx, query))) as unknown as Promise<T>,
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
    await migratePostgres(drizzlePostgres(client), { migrationsFolder: migrationsFolder() });
    await client`select pg_advisory_unlock(hashtext('voice-otp:migrate'))`;
  } finally {
    await client.end({ timeout: 5 });
  }
}

async function openPglite(opts: OpenOptions): Promise<Database> {
  // Loaded only when used: a PostgreSQL deployment does not carry PGlite's memory.
  const [{ PGlite }, { drizzle: drizzlePglite }, { migrate: migratePglite }] = await Promise.all([
    import("@electric-sql/pglite"),
    import("drizzle-orm/pglite"),
    import("drizzle-orm/pglite/migrator"),
  ]);
  let release = async () => {};
  let pg = opts.pglite;
  if (!pg) {
    if (opts.dataDir === "memory://") {
      pg = new PGlite();
    } else {
      await mkdir(opts.dataDir, { recursive: true });
      // PGlite does not lock its directory and two openers corrupt it.
      release = await acquireDirLock(opts.dataDir);
      pg = new PGlite(`${opts.dataDir.replace(/\/+$/, "")}/pg`);
    }
  }
  const db = drizzlePglite(pg, { schema }) as unknown as Db;
  try {
    await migratePglite(drizzlePglite(pg), { migrationsFolder: migrationsFolder() });
  } catch (err) {
    await release();
    throw err;
  }
  const instance = pg;
  return {
    kind: "pglite",
    db,
    rows: async <T>(query: SQL) => ((await db.execute(query)) as unknown as { rows: T[] }).rows,
    prepare: <T>(query: SQL): Prepared<T> => {
      const { text, fill } = statementText(dialect.sqlToQuery(query));
      return async (values = {}) => (await instance.query<T>(text, fill(values))).rows;
    },
    transaction: (fn) =>
      db.transaction((tx) => fn(async <T>(query: SQL) => ((await tx.execute(query)) as unknown as { rows: T[] }).rows)),
    ping: (timeoutMs) => withTimeout(instance.query("select 1").then(() => undefined), timeoutMs, "database did not answer"),
    close: async () => {
      if (!opts.pglite) await instance.close();
      await release();
    },
  };
}

export function withTimeout<T>(p: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new DatabaseUnavailableError(message)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

function describe(err: unknown): string {
  if (err instanceof Error) {
    const code = (err as { code?: string }).code;
    return code ? `${code} ${err.message}` : err.message;
  }
  return String(err);
}

export { sql };
