import postgres from "postgres";
import { DatabaseUnavailableError } from "./database.js";
import { describe } from "./postgres-failures.js";
import { databaseHosts, hostName, type DatabaseHost } from "./postgres-url.js";

/**
 * Which of DATABASE_URL's servers takes writes, and a pool of connections to each.
 *
 * postgres.js's own multi-host support does not survive a failover: its `read-write`
 * accepts a hot standby of PostgreSQL 14 and later (it reads default_transaction_read_only,
 * which a standby reports `off`), and a connection that finds no acceptable host tries
 * them all again, with no pause and no timeout, for as long as none is: through a
 * failover every request would hang while the process spins. So each host gets a pool of
 * its own, which fails at once when its server is down or is a standby (target
 * `primary`, checked by postgres.js on every new connection); the writable host is found
 * by asking each one, and requests go to its pool until an error says to ask again.
 *
 * No connection is left on a server that stopped taking writes: postgres.js refuses a
 * standby as each connection opens, and a primary becomes a standby only by restarting,
 * which ends every connection to it. A server made read-only while running
 * (default_transaction_read_only) answers 25006, and requests then go wherever the hosts
 * say writes are taken; its idle connections close after the pool's idle timeout.
 */

export interface Writable {
  /** The host's position in DATABASE_URL, as forget() takes it. */
  index: number;
  pool: postgres.Sql;
}

export interface HostPools {
  /** The writable server's pool, found by asking every host when not known; DatabaseUnavailableError when none is writable. */
  writable(): Promise<Writable>;
  /**
   * The server at index may no longer take writes (a connection to it dropped, or it
   * answered read-only): the next request asks every host again.
   */
  forget(index: number): void;
  /** A client of its own to the host at index (the migrator's, the LISTEN connection). */
  connect(index: number, options: postgres.Options<{}>): postgres.Sql;
  /** Calls fn with the index of each host found writable after another was. */
  onChange(fn: (index: number) => void): void;
  end(): Promise<void>;
}

/**
 * After asking every host and finding none writable, requests are answered 503 at once
 * for this long rather than each asking again: through a failover, every request would
 * otherwise open a connection to each host.
 */
const NONE_WRITABLE_MS = 250;

export function hostPools(url: string, options: postgres.Options<{}>): HostPools {
  // null: one server, as the URL names it.
  const hosts: Array<DatabaseHost | null> = databaseHosts(url) ?? [null];
  const connect = (index: number, extra: postgres.Options<{}>) => {
    const h = hosts[index];
    return postgres(url, { ...options, ...(h ? { host: h.host, port: h.port } : {}), ...extra, target_session_attrs: "primary" });
  };
  const pools: postgres.Sql[] = [];
  const pool = (index: number) => (pools[index] ??= connect(index, {}));

  let known: Promise<Writable> | null = null;
  let knownIndex: number | null = null;
  let lastIndex: number | null = null;
  let probing: Promise<Writable> | null = null;
  let noneUntil = 0;
  let none: DatabaseUnavailableError | null = null;
  const changed: Array<(index: number) => void> = [];

  /** Whether the host takes writes: not a standby, and not read-only by default (what libpq's read-write means). */
  async function takesWrites(index: number): Promise<Writable> {
    const p = pool(index);
    const [state] = await p<Array<{ recovery: boolean; read_only: string }>>`
      select pg_is_in_recovery() as recovery, current_setting('transaction_read_only') as read_only`;
    if (state!.recovery) throw new Error("a standby (in recovery)");
    if (state!.read_only !== "off") throw new Error("read-only (default_transaction_read_only)");
    return { index, pool: p };
  }

  async function probe(): Promise<Writable> {
    try {
      // The first to answer writable: a host that does not answer at all must not hold up the others.
      const found = await Promise.any(hosts.map((_, i) => takesWrites(i)));
      knownIndex = found.index;
      known = Promise.resolve(found);
      if (lastIndex !== null && lastIndex !== found.index) for (const fn of changed) fn(found.index);
      lastIndex = found.index;
      return found;
    } catch (err) {
      // Promise.any's AggregateError: one error per host, in their order.
      const errors = (err as AggregateError).errors as unknown[];
      const message =
        hosts.length === 1
          ? `the database server takes no writes: ${describe(errors[0])}`
          : `no database server takes writes (${errors.map((e, i) => `${hostName(hosts[i]!)}: ${describe(e)}`).join("; ")})`;
      none = new DatabaseUnavailableError(message, { cause: err });
      noneUntil = performance.now() + NONE_WRITABLE_MS;
      throw none;
    }
  }

  return {
    writable() {
      if (known) return known;
      if (none && performance.now() < noneUntil) return Promise.reject(none);
      return (probing ??= probe().finally(() => (probing = null)));
    },
    forget(index) {
      if (knownIndex !== index) return;
      known = null;
      knownIndex = null;
    },
    connect,
    onChange: (fn) => void changed.push(fn),
    // The writable server's statements get a second to finish (the service has drained its
    // requests by now); any other pool's are only probes. The timeout is always waited out
    // when a connection closed with a statement in flight and was not used since (postgres.js 3.4).
    end: async () => {
      await Promise.all(pools.map((p, i) => p.end({ timeout: i === knownIndex ? 1 : 0 })));
    },
  };
}
