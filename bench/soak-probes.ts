import { createServer } from "node:http";
import type postgres from "postgres";
import { Webhook } from "standardwebhooks";
import type { MinuteSample, TableSample } from "./soak-verdict.js";

/** What the soak reads each minute besides its own requests: the instances' /metrics, the database, the events they send. */

export interface EventReceiver {
  url: string;
  counts: { received: number; badSignatures: number };
  close(): Promise<void>;
}

/** Receives the instances' event webhooks and checks each signature with the standardwebhooks package. */
export async function startEventReceiver(secret: string): Promise<EventReceiver> {
  const verifier = new Webhook(secret.slice("whsec_".length));
  const counts = { received: 0, badSignatures: 0 };
  const receiver = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      counts.received++;
      try {
        verifier.verify(Buffer.concat(chunks).toString("utf8"), req.headers as Record<string, string>);
      } catch {
        counts.badSignatures++;
      }
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(receiver.address() as { port: number }).port}/events`,
    counts,
    close: () =>
      new Promise((resolve) => {
        receiver.close(() => resolve());
        receiver.closeAllConnections();
      }),
  };
}

/**
 * An instance's memory from its own /metrics (prom-client's default metrics), and what it has
 * served, cumulative; undefined when it does not answer in time.
 */
export async function scrapeMetrics(
  url: string,
  timeoutMs: number,
): Promise<{ heapUsedMb: number; heapTotalMb: number; served: number; served5xx: number } | undefined> {
  let text: string;
  try {
    text = await (await fetch(`${url}/metrics`, { signal: AbortSignal.timeout(timeoutMs) })).text();
  } catch {
    return undefined;
  }
  const gauge = (name: string) => Number(new RegExp(`^voice_otp_${name} (\\S+)$`, "m").exec(text)?.[1] ?? NaN) / 2 ** 20;
  let served = 0;
  let served5xx = 0;
  for (const m of text.matchAll(/^voice_otp_http_request_duration_seconds_count\{([^}]*)\} (\S+)$/gm)) {
    if (m[1]!.includes('route="/metrics"')) continue;
    served += Number(m[2]);
    if (/status="5\d\d"/.test(m[1]!)) served5xx += Number(m[2]);
  }
  return { heapUsedMb: gauge("nodejs_heap_size_used_bytes"), heapTotalMb: gauge("nodejs_heap_size_total_bytes"), served, served5xx };
}

/** The tables shown each minute, those present. */
const TABLES = ["challenges", "call_events", "events", "idempotency_keys", "call_counts", "limit_refusals", "rate_windows"];

/** Connections to the soak's database (its own monitoring connection left out) and the state of its tables. */
export async function databaseState(sql: postgres.Sql): Promise<Pick<MinuteSample, "dbConnections" | "tables" | "oldestChallengeSeconds">> {
  const [connections] = await sql<{ n: number }[]>`
    select count(*)::int as n from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid()`;
  const tables: Record<string, TableSample> = {};
  for (const name of TABLES) {
    const [present] = await sql<{ present: boolean }[]>`select to_regclass(${name}) is not null as present`;
    if (!present?.present) continue;
    const [row] = await sql.unsafe<{ rows: number; bytes: string; dead: number | null }[]>(
      `select (select count(*)::int from ${name}) as rows, pg_total_relation_size('${name}') as bytes,
              (select n_dead_tup::int from pg_stat_user_tables where relname = '${name}' and schemaname = current_schema()) as dead`,
    );
    tables[name] = { rows: row!.rows, bytes: Number(row!.bytes), dead: row!.dead ?? 0 };
  }
  const [oldest] = await sql<{ age: number | null }[]>`select extract(epoch from now() - min(created_at))::float8 as age from challenges`;
  return { dbConnections: connections?.n ?? 0, tables, oldestChallengeSeconds: oldest?.age ?? undefined };
}
