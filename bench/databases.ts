import { randomBytes } from "node:crypto";
import postgres from "postgres";

/** The server the benchmark and the soak create their databases on. */
export const adminUrl = process.env.BENCH_DATABASE_URL ?? process.env.TEST_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";

export interface ScratchDatabases {
  /** A connection to the server's own database, for machine information and CREATE/DROP. */
  admin: postgres.Sql;
  /** A fresh database named <prefix>_<random>, and one connection to it. */
  create(): Promise<{ name: string; url: string; sql: postgres.Sql }>;
  /** Closes the connections and drops every database created (also those still in use). */
  dropAll(): Promise<void>;
}

/** Databases made for one run and dropped at its end, so runs leave nothing behind. */
export function scratchDatabases(prefix: string): ScratchDatabases {
  const admin = postgres(adminUrl, { max: 1, onnotice: () => {} });
  const names: string[] = [];
  const connections: postgres.Sql[] = [];
  return {
    admin,
    async create() {
      const name = `${prefix}_${randomBytes(4).toString("hex")}`;
      names.push(name);
      await admin.unsafe(`create database ${name}`);
      const url = Object.assign(new URL(adminUrl), { pathname: `/${name}` }).toString();
      const sql = postgres(url, { max: 1, onnotice: () => {} });
      connections.push(sql);
      return { name, url, sql };
    },
    async dropAll() {
      for (const sql of connections) await sql.end({ timeout: 2 }).catch(() => {});
      for (const name of names) await admin.unsafe(`drop database if exists ${name} with (force)`).catch(() => {});
      await admin.end({ timeout: 2 }).catch(() => {});
    },
  };
}
