import { sql } from "drizzle-orm";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  CommitOutcomeUnknownError,
  DatabaseUnavailableError,
  LostBeforeCommitError,
  openDatabase,
  type Database,
} from "../src/db/open.js";
import { createPostgresDatabase, postgresAvailable } from "./helpers/databases.js";

/**
 * When a transaction runs again, on a real PostgreSQL server: the server ends its session
 * (pg_terminate_backend, as a failover or a restart would) at chosen moments, and two
 * serializable transactions collide for real.
 */
describe.runIf(await postgresAvailable())("running a transaction again", () => {
  let created: Awaited<ReturnType<typeof createPostgresDatabase>> | undefined;
  let db: Database | undefined;
  let admin: postgres.Sql | undefined;

  beforeAll(async () => {
    created = await createPostgresDatabase();
    db = await openDatabase({ databaseUrl: created.url, dataDir: "" });
    admin = postgres(created.url, { max: 1, onnotice: () => {} });
    await db.rows(sql`create table tries (attempt int not null, note text not null)`);
  });
  afterAll(async () => {
    await db?.close();
    await admin?.end({ timeout: 1 });
    await created?.drop();
  });

  /** Ends the session, and waits until it is gone (and the client has seen its connection close). */
  async function terminate(pid: number) {
    await admin!`select pg_terminate_backend(${pid})`;
    for (let i = 0; i < 100; i++) {
      const [row] = await admin!<Array<{ n: number }>>`select count(*)::int as n from pg_stat_activity where pid = ${pid}`;
      if (row!.n === 0) break;
      await new Promise((r) => setTimeout(r, 10));
    }
    await new Promise((r) => setTimeout(r, 50));
  }

  const backendPid = async (tx: (q: ReturnType<typeof sql>) => Promise<Array<{ pid: number }>>) => (await tx(sql`select pg_backend_pid() as pid`))[0]!.pid;
  const notes = async (note: string) => db!.rows<{ attempt: number }>(sql`select attempt from tries where note = ${note} order by attempt`);

  it("runs it again on a new connection when its connection dropped before COMMIT was sent", async () => {
    const pids: number[] = [];
    const result = await db!.transaction(async (tx) => {
      pids.push(await backendPid(tx));
      if (pids.length === 1) await terminate(pids[0]!);
      await tx(sql`insert into tries values (${pids.length}, 'dropped once')`);
      return tx.commitWith<{ n: number }>(sql`select count(*)::int as n from tries where note = 'dropped once'`);
    });
    expect(pids).toHaveLength(2);
    expect(pids[1]).not.toBe(pids[0]);
    expect(result).toEqual([{ n: 1 }]);
    // The first try left nothing: the server rolled it back when the session ended.
    expect(await notes("dropped once")).toEqual([{ attempt: 2 }]);
  });

  it("gives up after a second drop in a row, as unavailable (503)", async () => {
    let tries = 0;
    const failed = await db!
      .transaction(async (tx) => {
        tries++;
        await terminate(await backendPid(tx));
        await tx(sql`insert into tries values (${tries}, 'dropped twice')`);
        await tx.commitWith(sql`select 1`);
      })
      .catch((err: unknown) => err);
    expect(failed).toBeInstanceOf(LostBeforeCommitError);
    expect(failed).toBeInstanceOf(DatabaseUnavailableError);
    expect(tries).toBe(2);
    expect(await notes("dropped twice")).toEqual([]);
  });

  it("never runs it again once COMMIT was sent: whether it committed is unknown", async () => {
    let tries = 0;
    const failed = await db!
      .transaction(async (tx) => {
        tries++;
        const pid = await backendPid(tx);
        await tx(sql`insert into tries values (${tries}, 'dropped committing')`);
        // The session ends while the server works on the last statement, sent with COMMIT.
        const ending = new Promise((r) => setTimeout(r, 200)).then(() => terminate(pid));
        await Promise.all([tx.commitWith(sql`select pg_sleep(2)`), ending]);
      })
      .catch((err: unknown) => err);
    expect(failed).toBeInstanceOf(CommitOutcomeUnknownError);
    expect(tries).toBe(1);
  });

  it("does not run it again when its first try began longer ago than the request can wait", async () => {
    const impatient = await openDatabase({ databaseUrl: created!.url, dataDir: "", retryWithinMs: 100 });
    try {
      let tries = 0;
      const failed = await impatient
        .transaction(async (tx) => {
          tries++;
          const pid = await backendPid(tx);
          await tx(sql`select pg_sleep(0.2)`);
          await terminate(pid);
          await tx.commitWith(sql`insert into tries values (${tries}, 'dropped late')`);
        })
        .catch((err: unknown) => err);
      expect(failed).toBeInstanceOf(LostBeforeCommitError);
      expect(tries).toBe(1);
    } finally {
      await impatient.close();
    }
  });

  it("runs it again after a serialization failure", async () => {
    await db!.rows(sql`create table skew (side text not null)`);
    // Write skew: each reads the side the other writes. The second to commit cannot be
    // serialized after the first, and PostgreSQL fails it (40001).
    const firstRead = deferred();
    const secondRead = deferred();
    const firstCommitted = deferred();
    let secondTries = 0;
    const first = db!
      .transaction(async (tx) => {
        await tx(sql`set transaction isolation level serializable`);
        await tx(sql`select count(*) from skew where side = 'b'`);
        firstRead.resolve();
        await secondRead.promise;
        await tx.commitWith(sql`insert into skew values ('a')`);
      })
      .then(firstCommitted.resolve);
    const second = db!.transaction(async (tx) => {
      secondTries++;
      await tx(sql`set transaction isolation level serializable`);
      const [seen] = await tx<{ n: number }>(sql`select count(*)::int as n from skew where side = 'a'`);
      await firstRead.promise;
      secondRead.resolve();
      await firstCommitted.promise;
      await tx.commitWith(sql`insert into skew values ('b')`);
      return seen!.n;
    });
    await first;
    // The try that ran again saw the first one's row.
    expect(await second).toBe(1);
    expect(secondTries).toBe(2);
    expect(await db!.rows(sql`select side from skew order by side`)).toEqual([{ side: "a" }, { side: "b" }]);
  });
});

function deferred() {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}
