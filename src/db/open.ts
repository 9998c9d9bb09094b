import { mkdir } from "node:fs/promises";
import { PGlite } from "@electric-sql/pglite";
import { drizzle as drizzlePglite } from "drizzle-orm/pglite";
import { migrate as migratePglite } from "drizzle-orm/pglite/migrator";
import { drizzle as drizzlePostgres } from "drizzle-orm/postgres-js";
import { migrate as migratePostgres } from "drizzle-orm/postgres-js/migrator";
import postgres from "postgres";
import { sql, type SQL } from "drizzle-orm";
import { PgDialect, type PgDatabase, type PgQueryResultHKT } from "drizzle-orm/pg-core";
import * as schema from "./schema.js";
import { acquireDirLock } from "./dir-lock.js";
import { migrationsFolder } from "./migrations-folder.js";

export type Db = PgDatabase<PgQueryResultHKT, typeof schema>;

export interface Database {
  readonly kind: "pglite" | "postgres";
  readonly db: Db;
  /** Runs one statement and returns its rows, whatever the driver. */
  rows: Rows;
  /** Runs fn in one transaction; its statements see and commit together. */
  transaction<T>(fn: (rows: Rows) => Promise<T>): Promise<T>;
  /** Resolves when the database answers within timeoutMs, rejects otherwise. */
  ping(timeoutMs: number): Promise<void>;
  close(): Promise<void>;
}

export type Rows = <T = Record<string, unknown>>(query: SQL) => Promise<T[]>;

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
  const client = postgres(url, { ...options, max: opts.maxConnections ?? 10, idle_timeout: 60 });
  const db = drizzlePostgres(client, { schema }) as unknown as Db;
  // Named prepared statements: each of our statements is parsed and planned once per
  // connection instead of on every request (most of a validation's server time).
  const dialect = new PgDialect();
  const run = async <T>(on: postgres.Sql | postgres.TransactionSql, query: SQL): Promise<T[]> => {
    const q = dialect.sqlToQuery(query);
    return (await on.unsafe(q.sql, q.params as postgres.ParameterOrJSON<never>[], { prepare: true })) as unknown as T[];
  };
  return {
    kind: "postgres",
    db,
    rows: (query) => run(client, query),
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
