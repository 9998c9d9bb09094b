import { execFile } from "node:child_process";
import { access, chown, mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir, userInfo } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { closedPort } from "./carrier-world.js";

const run = promisify(execFile);

/**
 * A PostgreSQL server of the test's own: initdb into a temporary directory, its own
 * port and socket directory, so a test may stop and start it without disturbing the
 * shared server other suites use, or a standby streaming from one. initdb and postgres
 * refuse to run as root: as root they run as the `postgres` OS user.
 */
export const PG_BIN = process.env.PG_BIN ?? "/usr/lib/postgresql/15/bin";

const asRoot = userInfo().uid === 0;

async function postgresUser(): Promise<{ uid: number; gid: number } | null> {
  try {
    const { stdout } = await run("id", ["-u", "postgres"]);
    const { stdout: g } = await run("id", ["-g", "postgres"]);
    return { uid: Number(stdout.trim()), gid: Number(g.trim()) };
  } catch {
    return null;
  }
}

let available: Promise<boolean> | undefined;
/** Whether this machine can run a private cluster. In CI it must: a missing binary fails loudly. */
export function pgClusterAvailable(): Promise<boolean> {
  available ??= (async () => {
    const missing = await access(join(PG_BIN, "initdb"))
      .then(async () => (asRoot && !(await postgresUser()) ? "no `postgres` OS user to run it as (we are root)" : null))
      .catch(() => `no initdb in ${PG_BIN} (set PG_BIN)`);
    if (missing && process.env.CI === "true") throw new Error(`CI=true but a private PostgreSQL cluster cannot run: ${missing}`);
    return missing === null;
  })();
  return available;
}

export interface PgCluster {
  /** postgres://postgres@127.0.0.1:<port>/postgres */
  url: string;
  port: number;
  /** Stops the server; "immediate" is a crash (no checkpoint), "fast" a clean stop that disconnects everyone. */
  stop(mode?: "fast" | "immediate"): Promise<void>;
  start(): Promise<void>;
  /** Ends a standby's recovery (pg_ctl promote): it takes writes once this resolves. */
  promote(): Promise<void>;
  /** Stops the server if running and deletes its directory; safe to call twice. */
  destroy(): Promise<void>;
}

export interface PgClusterOptions {
  /** Server settings for this cluster alone (`name=value`), e.g. synchronous_standby_names='*'. */
  settings?: string[];
}

// As root, every server binary runs as the postgres user; otherwise as ourselves.
const pg = (bin: string, args: string[], timeout = 30_000) =>
  asRoot
    ? run("runuser", ["-u", "postgres", "--", join(PG_BIN, bin), ...args], { timeout })
    : run(join(PG_BIN, bin), args, { timeout });

export async function startPgCluster(opts: PgClusterOptions = {}): Promise<PgCluster> {
  return startIn(opts, (data) =>
    pg("initdb", ["-D", data, "--auth=trust", "--username=postgres", "--no-sync", "--no-instructions", "--encoding=UTF8"], 60_000),
  );
}

/**
 * A hot standby of primary, streaming its WAL: a base backup (pg_basebackup -R, which
 * writes the connection to the primary and standby.signal) in a directory of its own.
 * It answers read-only until promote().
 */
export async function startStandby(primary: PgCluster, opts: PgClusterOptions = {}): Promise<PgCluster> {
  return startIn(opts, (data) =>
    pg("pg_basebackup", ["-h", "127.0.0.1", "-p", String(primary.port), "-U", "postgres", "-D", data, "-R", "-X", "stream", "--no-sync"], 60_000),
  );
}

async function startIn(opts: PgClusterOptions, create: (data: string) => Promise<unknown>): Promise<PgCluster> {
  const dir = await mkdtemp(join(tmpdir(), "voice-otp-pg-"));
  const data = join(dir, "data");
  const socketDir = join(dir, "sock");
  const logFile = join(dir, "server.log");
  await mkdir(socketDir);
  const owner = asRoot ? await postgresUser() : null;
  if (owner) {
    await chown(dir, owner.uid, owner.gid);
    await chown(socketDir, owner.uid, owner.gid);
  }

  const port = await closedPort();
  const options = [
    "-c listen_addresses=127.0.0.1",
    `-p ${port}`,
    `-c unix_socket_directories=${socketDir}`,
    // Skipping fsync and full-page writes loses data only when the machine crashes, which
    // the tests never do. synchronous_commit stays on: without it a crashed server (stop
    // -m immediate) forgets commits it already acknowledged, which no service can survive.
    "-c fsync=off",
    "-c full_page_writes=off",
    // On the command line rather than in postgresql.conf, which a base backup would copy to the standby.
    ...(opts.settings ?? []).map((s) => `-c ${s}`),
  ].join(" ");
  const cluster: PgCluster = {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    port,
    async start() {
      await pg("pg_ctl", ["-D", data, "-l", logFile, "-o", options, "-w", "-t", "30", "start"]);
    },
    async stop(mode = "fast") {
      await pg("pg_ctl", ["-D", data, "-m", mode, "-w", "-t", "30", "stop"]);
    },
    async promote() {
      await pg("pg_ctl", ["-D", data, "-w", "-t", "30", "promote"]);
    },
    async destroy() {
      // Whatever state it is in (a start may have timed out after the server came up).
      await cluster.stop("immediate").catch(() => {});
      await rm(dir, { recursive: true, force: true });
    },
  };
  try {
    await create(data);
    await cluster.start();
  } catch (err) {
    await cluster.destroy();
    throw err;
  }
  return cluster;
}
