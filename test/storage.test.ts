import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sql } from "drizzle-orm";
import { afterAll, describe, expect, it } from "vitest";
import { PgDialect } from "drizzle-orm/pg-core";
import { openDatabase, statement } from "../src/db/open.js";
import { statementText } from "../src/db/statement-text.js";
import { migrationsFolder } from "../src/db/migrations-folder.js";
import { createPostgresDatabase, postgresAvailable } from "./helpers/databases.js";

const columnsQuery = sql`select table_name, column_name, data_type, is_nullable from information_schema.columns
  where table_schema = 'public' order by table_name, column_name`;

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

  it("runs prepared statements with their layout folded but their string literals intact", async () => {
    const pg = await createPostgresDatabase();
    try {
      const database = await openDatabase({ databaseUrl: pg.url, dataDir: "memory://" });
      const run = statement<{ a: string; b: string; n: number }>(sql`
        select   'two  spaces' as a,
                 'it''s   quoted' as b,
                 ${sql.placeholder("n")}::int   + 1 as n`);
      expect(await run(database, { n: 41 })).toEqual([{ a: "two  spaces", b: "it's   quoted", n: 42 }]);
      await database.close();
    } finally {
      await pg.drop();
    }
  });

  it("sends a placeholder named several times as one parameter, on both databases", async () => {
    const n = sql.placeholder("n");
    const query = sql`select ${n}::int + ${n}::int as twice, ${"inline"}::text as v, '$1 stays' as lit, ${sql.placeholder("m")}::int * ${n}::int as product`;
    const shared = statementText(new PgDialect().sqlToQuery(query));
    expect(shared.text).toBe("select $1::int + $1::int as twice, $2::text as v, '$1 stays' as lit, $3::int * $1::int as product");
    expect(shared.fill({ n: 6, m: 7 })).toEqual([6, "inline", 7]);

    const pg = await createPostgresDatabase();
    const databases = [
      await openDatabase({ databaseUrl: pg.url, dataDir: "memory://" }),
      await openDatabase({ dataDir: "memory://" }),
    ];
    try {
      const run = statement<{ twice: number; v: string; lit: string; product: number }>(query);
      for (const database of databases) {
        expect(await run(database, { n: 6, m: 7 })).toEqual([{ twice: 12, v: "inline", lit: "$1 stays", product: 42 }]);
      }
    } finally {
      for (const database of databases) await database.close();
      await pg.drop();
    }
  });

  // The test's own timeout is the bound: a hang fails it.
  it("fails within a few seconds with a clear message when DATABASE_URL is unreachable", { timeout: 10_000 }, async () => {
    await expect(
      openDatabase({ databaseUrl: "postgres://postgres@127.0.0.1:1/none", dataDir: "memory://", connectTimeoutSeconds: 2 }),
    ).rejects.toThrow(/cannot reach DATABASE_URL/);
  });
});
