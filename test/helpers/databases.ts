import { PGlite } from "@electric-sql/pglite";
import { drizzle } from "drizzle-orm/pglite";
import { migrate } from "drizzle-orm/pglite/migrator";
import postgres from "postgres";
import { randomBytes } from "node:crypto";
import { migrationsFolder } from "../../src/db/migrations-folder.js";

/**
 * The databases every suite runs against: PGlite always, PostgreSQL when
 * TEST_DATABASE_URL is set or the local server answers. In CI PostgreSQL is
 * mandatory, so a missing server fails loudly instead of silently skipping.
 */
export type DbKind = "pglite" | "postgres";

const ADMIN_URL = process.env.TEST_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";

let postgresUp: Promise<boolean> | undefined;
export function postgresAvailable(): Promise<boolean> {
  postgresUp ??= (async () => {
    const sql = postgres(ADMIN_URL, { max: 1, connect_timeout: 2, onnotice: () => {} });
    try {
      await sql`select 1`;
      return true;
    } catch (err) {
      if (process.env.CI === "true") {
        throw new Error(`CI=true but PostgreSQL at ${ADMIN_URL} does not answer: ${(err as Error).message}`);
      }
      return false;
    } finally {
      await sql.end({ timeout: 1 });
    }
  })();
  return postgresUp;
}

/** The kinds to run a suite on; top-level await in a test file makes describe.each see them. */
export async function databaseKinds(): Promise<DbKind[]> {
  return (await postgresAvailable()) ? ["pglite", "postgres"] : ["pglite"];
}

/** A new, empty PostgreSQL database for one test or suite; drop() removes it. */
export async function createPostgresDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `voice_otp_test_${randomBytes(6).toString("hex")}`;
  const admin = postgres(ADMIN_URL, { max: 1, onnotice: () => {} });
  await admin.unsafe(`create database ${name}`);
  await admin.end();
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const a = postgres(ADMIN_URL, { max: 1, onnotice: () => {} });
      await a.unsafe(`drop database if exists ${name} with (force)`);
      await a.end();
    },
  };
}

let template: Promise<PGlite> | undefined;
/** A migrated in-memory PGlite, cloned from one template per worker (a fresh start costs seconds). */
export async function freshPglite(): Promise<PGlite> {
  template ??= (async () => {
    const pg = new PGlite();
    await migrate(drizzle(pg), { migrationsFolder: migrationsFolder() });
    return pg;
  })();
  return (await (await template).clone()) as PGlite;
}
