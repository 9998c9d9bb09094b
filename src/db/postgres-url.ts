/**
 * What DATABASE_URL says about where the database is: one server, or several as libpq
 * and postgres.js accept them (`postgres://user@h1:5432,h2:5433/db?target_session_attrs=read-write`),
 * a primary and its standbys of which one at a time takes writes.
 */

export interface DatabaseHost {
  host: string;
  port: number;
}

/** What target_session_attrs may say: the service writes on every request, so it needs the server that takes writes. */
const WRITABLE_TARGETS = new Set(["read-write", "primary", "any"]);

/**
 * The hosts of a URL naming several (in their order), or null for a URL naming one, which
 * postgres.js reads as it is (a Unix socket directory in `?host=`, say). A host without a
 * port gets 5432, as with libpq.
 */
export function databaseHosts(url: string): DatabaseHost[] | null {
  const authority = url.slice(url.indexOf("://") + 3).split(/[/?#]/)[0]!;
  const list = decodeURIComponent(authority.slice(authority.lastIndexOf("@") + 1));
  if (!list.includes(",")) return null;
  return list.split(",").map((entry) => {
    // [::1]:5432 for an IPv6 address, host:port otherwise.
    const m = /^\[([^\]]+)\](?::(\d+))?$/.exec(entry) ?? /^([^:]+)(?::(\d+))?$/.exec(entry);
    if (!m) throw new Error(`"${entry}" is not a host or host:port`);
    return { host: m[1]!, port: m[2] ? Number(m[2]) : 5432 };
  });
}

/** Why the service cannot use this URL, or null when it can. */
export function databaseUrlProblem(url: string): string | null {
  let hosts: DatabaseHost[] | null;
  try {
    hosts = databaseHosts(url);
  } catch (err) {
    return (err as Error).message;
  }
  if (hosts?.some((h) => h.host === "" || !(h.port > 0 && h.port < 65536))) return "every host needs a name and a port from 1 to 65535";
  const target = new URLSearchParams(url.split("?")[1]?.split("#")[0] ?? "").get("target_session_attrs");
  if (target !== null && !WRITABLE_TARGETS.has(target)) {
    return `target_session_attrs=${target} cannot work: the service writes, so it connects only to the server that takes writes (use read-write)`;
  }
  return null;
}

export const hostName = (h: DatabaseHost) => (h.host.includes(":") ? `[${h.host}]:${h.port}` : `${h.host}:${h.port}`);
