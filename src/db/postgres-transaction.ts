import type { SQL } from "drizzle-orm";
import type postgres from "postgres";
import { CommitOutcomeUnknownError, LostBeforeCommitError, type Transaction } from "./database.js";
import { unavailable } from "./postgres-failures.js";
import type { HostPools, Writable } from "./writable-host.js";

/** Runs one statement on a pool or a reserved connection, its failure classified. */
export type Run = <T>(at: Writable, on: postgres.Sql | postgres.ReservedSql, query: SQL) => Promise<T[]>;

/**
 * One transaction on a connection reserved from the writable server's pool. BEGIN leaves
 * with the first statement and COMMIT with the last (commitWith), so locks are held for
 * the server's work, not for round trips.
 *
 * Reserved rather than postgres.js's begin(): when the connection drops mid-transaction,
 * begin() settles at once and its own rollback then fails with nobody waiting for it, an
 * unhandled rejection that ends the process. A connection that dropped is left to the
 * pool, which has already set it aside, and nothing more is sent on it: postgres.js 3.4
 * would write to its closed socket, throwing outside any promise, or, once the pool had
 * connected it again, run the statement outside this transaction.
 *
 * A drop is reported as LostBeforeCommitError until COMMIT is sent (the server rolled the
 * transaction back: it may run again), CommitOutcomeUnknownError after.
 */
export async function reservedTransaction<R>(at: Writable, hosts: HostPools, run: Run, fn: (tx: Transaction) => Promise<R>): Promise<R> {
  const forget = () => hosts.forget(at.index);
  const conn = await at.pool.reserve().catch((err: unknown) => {
    throw unavailable(err, forget, false) ?? err;
  });
  let closed = false;
  let watched: WatchedConnection | undefined;
  // Queued, not awaited: it leaves in one write with the first statement.
  const begun = conn
    .unsafe("begin", [], watch((c) => {
      watched = c;
      c.onclose = () => (closed = true);
    }))
    .then(() => undefined);
  begun.catch(() => {});
  const send = <T>(query: SQL) => (closed ? Promise.reject(closedError()) : run<T>(at, conn, query));
  // Set before COMMIT is handed to the connection: from then on a dropped connection
  // leaves the outcome unknown, and the transaction must not run again.
  let commitSent = false;
  const tx = Object.assign(send, {
    async commitWith<T>(query: SQL) {
      if (closed) throw closedError();
      commitSent = true;
      // A failed statement aborts the transaction, and COMMIT then rolls it back.
      const [rows] = await Promise.all([run<T>(at, conn, query), conn.unsafe("commit")]);
      return rows;
    },
  });
  try {
    const result = await fn(tx);
    await begun;
    if (!commitSent) {
      if (closed) throw closedError();
      commitSent = true;
      await conn.unsafe("commit");
    }
    if (watched) watched.onclose = null;
    conn.release();
    return result;
  } catch (err) {
    const lost = unavailable(closed && !commitSent ? closedError(err) : err, forget, commitSent);
    if (closed || lost instanceof LostBeforeCommitError || lost instanceof CommitOutcomeUnknownError) throw lost ?? err;
    if (watched) watched.onclose = null;
    await conn.unsafe("rollback").catch(() => {});
    conn.release();
    throw lost ?? err;
  }
}

/** The connection postgres.js wrote a statement to: the pool calls its onclose when it closes (postgres.js's begin() watches it so). */
interface WatchedConnection {
  onclose: ((err: unknown) => void) | null;
}

/**
 * Query options that hand over the connection the statement is written to: the hook
 * postgres.js's own begin() uses, left out of its types. Returning true keeps the
 * connection's place in the pool as a statement without the hook would.
 */
const watch = (fn: (c: WatchedConnection) => void) =>
  ({ onexecute: (c: WatchedConnection) => (fn(c), true) }) as unknown as postgres.UnsafeQueryOptions;

/** A statement refused because its transaction's connection had closed (a connection error, as postgres.js would have raised). */
const closedError = (cause?: unknown) => Object.assign(new Error("the transaction's connection closed", { cause }), { code: "CONNECTION_CLOSED" });

