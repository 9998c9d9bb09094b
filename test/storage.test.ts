import { cp, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sql } from "drizzle-orm";
import { afterAll, describe, expect, it } from "vitest";
import { drizzle } from "drizzle-orm/postgres-js";
import { migrate } from "drizzle-orm/postgres-js/migrator";
import postgres from "postgres";
import { openDatabase } from "../src/db/open.js";
import { migrationsFolder } from "../src/db/migrations-folder.js";
import { createPostgresDatabase, postgresAvailable } from "./helpers/databases.js";

const columnsQuery = sql`select table_name, column_name, data_type, is_nullable from information_schema.columns
  where table_schema = 'public' order by table_name, column_name`;

/** A database as the release before migration `tag` left it, and a client on it (to fill it before the upgrade). */
async function migratedBefore(tag: string, url: string, dir: string) {
  await cp(migrationsFolder(), dir, { recursive: true });
  const journalPath = join(dir, "meta", "_journal.json");
  const journal = JSON.parse(await readFile(journalPath, "utf8")) as { entries: Array<{ tag: string }> };
  const upTo = journal.entries.findIndex((e) => e.tag.startsWith(`${tag}_`));
  await writeFile(journalPath, JSON.stringify({ ...journal, entries: journal.entries.slice(0, upTo) }));
  const client = postgres(url, { max: 1, onnotice: () => {} });
  await migrate(drizzle(client), { migrationsFolder: dir });
  return client;
}

describe("embedded PGlite storage", () => {
  const dirs: string[] = [];
  afterAll(async () => {
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  it("keeps its data in DATA_DIR across restarts, and refuses a second opener", async () => {
    const dir = join(await mkdtemp(join(tmpdir(), "voice-otp-")), "nested", "data");
    dirs.push(dir);
    const first = await openDatabase({ dataDir: dir });
    await first.rows(sql`insert into challenges (id, number, status, language, max_attempts, carrier, created_at, expires_at)
      values ('ch_keep', '+14155550123', 'pending', 'en', 5, 'simulator', now(), now() + interval '10 minutes')`);
    await expect(openDatabase({ dataDir: dir })).rejects.toThrow(/^DATA_DIR .* is in use by/);
    await first.close();

    const again = await openDatabase({ dataDir: dir });
    expect(await again.rows(sql`select id from challenges`)).toEqual([{ id: "ch_keep" }]);
    await again.close();
  }, 60_000);
});

describe.runIf(await postgresAvailable())("PostgreSQL storage", () => {
  it("applies the same migrations as PGlite, giving the same tables", async () => {
    const pg = await createPostgresDatabase();
    try {
      const server = await openDatabase({ databaseUrl: pg.url, dataDir: "memory://" });
      const embedded = await openDatabase({ dataDir: "memory://" });
      expect(await server.rows(columnsQuery)).toEqual(await embedded.rows(columnsQuery));
      await server.close();
      await embedded.close();
    } finally {
      await pg.drop();
    }
  }, 60_000);

  it("survives several instances migrating one fresh database at once", async () => {
    const pg = await createPostgresDatabase();
    try {
      const instances = await Promise.all(
        Array.from({ length: 4 }, () => openDatabase({ databaseUrl: pg.url, dataDir: "memory://" })),
      );
      // Each migration of the journal applied exactly once.
      const journal = JSON.parse(await readFile(join(migrationsFolder(), "meta", "_journal.json"), "utf8")) as { entries: unknown[] };
      const applied = await instances[0]!.rows(sql`select count(*)::int as n from drizzle.__drizzle_migrations`);
      expect(applied).toEqual([{ n: journal.entries.length }]);
      for (const i of instances) await i.close();
      // And a restart finds nothing left to do.
      const restarted = await openDatabase({ databaseUrl: pg.url, dataDir: "memory://" });
      expect(await restarted.rows(sql`select count(*)::int as n from drizzle.__drizzle_migrations`)).toEqual([{ n: journal.entries.length }]);
      await restarted.close();
    } finally {
      await pg.drop();
    }
  }, 60_000);

  it("keeps every count when an upgrade folds the counters' shards into one row per window, and drops the issuing function", async () => {
    const pg = await createPostgresDatabase();
    const dir = await mkdtemp(join(tmpdir(), "voice-otp-migrations-"));
    try {
      // The database as the release before 0011 left it: counters split over shards.
      const client = await migratedBefore("0011", pg.url, dir);
      await client`insert into call_counts (hour, shard, calls) values
        ('2026-12-01T10:00Z', 0, 3), ('2026-12-01T10:00Z', 5, 4), ('2026-12-01T11:00Z', 2, 1)`;
      await client`insert into rate_windows (bucket, window_start, shard, hits, granted) values
        ('key:a', '2026-12-01T10:00Z', 0, 7, 1), ('key:a', '2026-12-01T10:00Z', 9, 2, 2), ('key:b', '2026-12-01T10:01Z', 3, 1, 1)`;
      await client.end();

      const upgraded = await openDatabase({ databaseUrl: pg.url, dataDir: "memory://" });
      expect(await upgraded.rows(sql`select hour, calls from call_counts order by hour`)).toEqual([
        { hour: new Date("2026-12-01T10:00Z"), calls: 7 },
        { hour: new Date("2026-12-01T11:00Z"), calls: 1 },
      ]);
      expect(await upgraded.rows(sql`select bucket, hits from rate_windows order by bucket`)).toEqual([
        { bucket: "key:a", hits: 9 },
        { bucket: "key:b", hits: 1 },
      ]);
      expect(await upgraded.rows(sql`select proname from pg_proc where proname like 'voice_otp%'`)).toEqual([]);
      await upgraded.close();
    } finally {
      await rm(dir, { recursive: true, force: true });
      await pg.drop();
    }
  }, 60_000);

  it("puts every existing key, challenge and call count in the default service when services arrive", async () => {
    const pg = await createPostgresDatabase();
    const dir = await mkdtemp(join(tmpdir(), "voice-otp-migrations-"));
    try {
      // The database as the release before 0012 left it: no services.
      const client = await migratedBefore("0012", pg.url, dir);
      await client`insert into api_keys (name, key_hash, created_at) values ('billing', 'h1', now())`;
      await client`insert into challenges (id, number, number_prefix, status, language, max_attempts, carrier, created_at, expires_at)
        values ('ch_a', '+14155550100', '+1415555', 'pending', 'en', 5, 'twilio', now(), now() + interval '10 minutes')`;
      await client`insert into call_counts (hour, calls) values ('2026-12-01T10:00Z', 7)`;
      await client.end();

      const upgraded = await openDatabase({ databaseUrl: pg.url, dataDir: "memory://" });
      expect(await upgraded.rows(sql`select name, service_id, admin from api_keys`)).toEqual([{ name: "billing", service_id: "default", admin: false }]);
      expect(await upgraded.rows(sql`select id, service_id from challenges`)).toEqual([{ id: "ch_a", service_id: "default" }]);
      expect(await upgraded.rows(sql`select scope, calls from call_counts`)).toEqual([{ scope: "*", calls: 7 }]);
      // The pending challenge still holds its number's place: a second pending one is refused.
      await expect(
        upgraded.rows(sql`insert into challenges (id, number, number_prefix, status, language, max_attempts, carrier, created_at, expires_at)
          values ('ch_b', '+14155550100', '+1415555', 'pending', 'en', 5, 'twilio', now(), now())`),
      ).rejects.toMatchObject({ code: "23505" });
      await upgraded.close();
    } finally {
      await rm(dir, { recursive: true, force: true });
      await pg.drop();
    }
  }, 60_000);

  // The test's own timeout is the bound: a hang fails it.
  it("fails within a few seconds with a clear message when DATABASE_URL is unreachable", { timeout: 10_000 }, async () => {
    await expect(
      openDatabase({ databaseUrl: "postgres://postgres@127.0.0.1:1/none", dataDir: "memory://", connectTimeoutSeconds: 2 }),
    ).rejects.toThrow(/cannot reach DATABASE_URL/);
  });
});
