import { CommitOutcomeUnknownError, DatabaseUnavailableError, LostBeforeCommitError } from "./database.js";

/**
 * What a failed statement means for availability, or undefined when it is the statement's
 * own failure. A dropped connection, or a server refusing connections (classes 08, 57P),
 * calls forget (the pools then ask again which server takes writes), and so does a
 * read-only answer (25006: a server fenced or failing over). Inside a transaction
 * (commitSent given), a dropped connection also says whether COMMIT had been sent.
 */
export function unavailable(err: unknown, forget: () => void, commitSent?: boolean): DatabaseUnavailableError | undefined {
  if (err instanceof LostBeforeCommitError || err instanceof CommitOutcomeUnknownError) return err;
  if (connectionLost(err)) {
    forget();
    if (commitSent === false) return new LostBeforeCommitError("the database connection dropped before the transaction committed", { cause: err });
    if (commitSent === true) return new CommitOutcomeUnknownError("the database connection dropped while the transaction committed", { cause: err });
    return err instanceof DatabaseUnavailableError ? err : new DatabaseUnavailableError(`the database connection failed: ${describe(err)}`, { cause: err });
  }
  if (hasCode(err, /^25006$/)) {
    forget();
    return err instanceof DatabaseUnavailableError ? err : new DatabaseUnavailableError("the database server is read-only (a standby, or failing over)", { cause: err });
  }
  // Too many connections: every instance reconnecting at once after a failover can cause it.
  if (hasCode(err, /^53300$/)) return err instanceof DatabaseUnavailableError ? err : new DatabaseUnavailableError("the database server has no connection to spare", { cause: err });
  return undefined;
}

/** postgres.js's own connection errors, a socket error, or the server ending the session (classes 08, 57P), here or in a cause. */
function connectionLost(err: unknown): boolean {
  return hasCode(err, /^(CONNECTION_|CONNECT_TIMEOUT|E[A-Z]+$|08|57P)/);
}

function hasCode(err: unknown, pattern: RegExp): boolean {
  for (let e: unknown = err; e; e = (e as { cause?: unknown }).cause) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === "string" && pattern.test(code)) return true;
  }
  return false;
}

/** An error as a log line or a message: its code (errno or SQLSTATE) first, unless its message already has it. */
export function describe(err: unknown): string {
  if (err instanceof Error) {
    const code = (err as { code?: string }).code;
    return code && !err.message.includes(code) ? `${code} ${err.message}` : err.message;
  }
  return String(err);
}
