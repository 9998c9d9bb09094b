import type { PGlite } from "@electric-sql/pglite";
import type { SQL } from "drizzle-orm";

/** Runs one statement and returns its rows, whatever the driver. */
export type Rows = <T = Record<string, unknown>>(query: SQL) => Promise<T[]>;

/**
 * A transaction's statements. The first goes to the server together with BEGIN, and
 * `commitWith` sends the last together with COMMIT: a lock the transaction takes is
 * then held for the server's work alone, not for round trips to a busy client.
 */
export type Transaction = Rows & {
  /** Runs the transaction's last statement and commits (or, if it fails, rolls back). */
  commitWith<T = Record<string, unknown>>(query: SQL): Promise<T[]>;
};

export interface Database {
  readonly kind: "pglite" | "postgres";
  /** One statement on its own (it commits by itself). */
  rows: Rows;
  /**
   * Runs fn in one transaction: its statements see and commit together, and a lock it
   * takes is held to the end. A deadlock, a serialization failure or a unique violation (a
   * race the caller's locks lost) rolls it back and runs it again; a few such failures in a
   * row end in DatabaseBusyError, answered 503 with Retry-After: contention is never a
   * verdict. A connection that dropped before COMMIT was sent runs it again once, on a new
   * connection; one that dropped after is never run again (it may have committed). So fn
   * may run more than once: it must do nothing outside the database.
   */
  transaction<T>(fn: (tx: Transaction) => Promise<T>): Promise<T>;
  /**
   * Calls onNotify with the payload of each NOTIFY on channel, from any connection to
   * this database. onListen runs each time listening (re)starts: notifications sent while
   * it was down are lost, so whatever they would have invalidated must be dropped then.
   * onLost runs each time it stops (the connection dropped, the server failed over).
   * If the first LISTEN fails, listen rejects and goes on trying.
   */
  listen(channel: string, onNotify: (payload: string) => void, onListen: () => void, onLost?: () => void): Promise<void>;
  /** Resolves when the database answers within timeoutMs, rejects otherwise. */
  ping(timeoutMs: number): Promise<void>;
  close(): Promise<void>;
}

export class DatabaseUnavailableError extends Error {
  override name = "DatabaseUnavailableError";
}

/** The database stayed too contended for this request: retry shortly (503). */
export class DatabaseBusyError extends DatabaseUnavailableError {
  override name = "DatabaseBusyError";
}

/** The connection dropped before the transaction's COMMIT was sent: the server rolled it back, and it may run again. */
export class LostBeforeCommitError extends DatabaseUnavailableError {
  override name = "LostBeforeCommitError";
}

/** The connection dropped after COMMIT was sent: the transaction may or may not have committed, so it never runs again blindly. */
export class CommitOutcomeUnknownError extends DatabaseUnavailableError {
  override name = "CommitOutcomeUnknownError";
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
  /** How soon after its first try began a transaction whose connection dropped may run again (default 2000 ms). */
  retryWithinMs?: number;
}

export function withTimeout<T>(p: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new DatabaseUnavailableError(message)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}
