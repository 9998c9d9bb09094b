import { writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { machineLine, type Machine } from "./report.js";
import { instanceName, kb, LIMITS, overall, type MinuteSample, type TableSample, type VerdictLine } from "./soak-verdict.js";

/** How the soak's minutes and verdict read: a line per minute as it goes, and bench/soak.md at the end. */

const ms = (v: number) => (v < 10 ? v.toFixed(1) : Math.round(v).toString());
const int = (v: number) => (Number.isFinite(v) ? Math.round(v).toLocaleString("en-US") : "—");
const statusText = (s: Record<string, number>) =>
  Object.entries(s)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, n]) => `${k}: ${int(n)}`)
    .join(" · ") || "none";
const tableCell = (t: TableSample | undefined) => (t ? `${int(t.rows)} · ${kb(t.bytes)} · ${int(t.dead)}` : "—");
const opP99 = (s: MinuteSample, op: string) => (s.ops[op] ? ms(s.ops[op]!.p99) : "—");

/** The tables present in any minute, in the order they were asked about. */
function tableNames(samples: readonly MinuteSample[]): string[] {
  const names: string[] = [];
  for (const s of samples) for (const t of Object.keys(s.tables)) if (!names.includes(t)) names.push(t);
  return names;
}

const cpuText = (s: MinuteSample) =>
  `simulator ${s.cpu.simulator.toFixed(2)}, load generator ${s.cpu.loadGenerator.toFixed(2)}, PostgreSQL ${s.cpu.postgres.toFixed(2)} cores; machine ${Math.round(s.machineBusy * 100)} % busy`;

/** Two lines for the console, printed as each minute ends. */
export function minuteText(s: MinuteSample): string {
  const memory = s.instances.map(
    (m, i) => `${instanceName(i)} ${int(m.rssMb)} MB RSS, heap ${int(m.heapUsedMb)} of ${int(m.heapTotalMb)} MB, ${m.cpuCores.toFixed(2)} cores`,
  );
  const tables = Object.entries(s.tables).map(([t, v]) => `${t} ${int(v.rows)} rows, ${kb(v.bytes)}, ${int(v.dead)} dead`);
  const oldest = s.oldestChallengeSeconds === undefined ? "" : `; oldest challenge ${Math.round(s.oldestChallengeSeconds)} s`;
  return (
    `minute ${s.minute}: ${int(s.all.count)} answers, p50 ${ms(s.all.p50)} ms, p99 ${ms(s.all.p99)} ms ` +
    `(request-auth ${opP99(s, "request-auth")}, validate-auth ${opP99(s, "validate-auth")}); ${statusText(s.statuses)}; ` +
    `served ${int(s.served)} (5xx ${int(s.served5xx)}), carrier webhooks ${int(s.webhooks)} (${int(s.webhookFailures)} failed), events ${int(s.events)}; ` +
    `${memory.join("; ")}; DB connections ${s.dbConnections}; ${cpuText(s)}\n` +
    `          ${tables.join("; ")}${oldest}`
  );
}

export function verdictText(lines: readonly VerdictLine[]): string {
  const mark = (l: VerdictLine) => (l.met === undefined ? "not judged" : l.met ? "met" : "**not met**");
  return [
    `Verdict: ${overall(lines)} (${lines.filter((l) => l.met).length} of ${lines.length} criteria met).`,
    "",
    ...lines.map((l) => `- ${mark(l)}: ${l.criterion}: ${l.figures}`),
  ].join("\n");
}

/** The per-minute figures as two Markdown tables: load and memory, then the database. */
export function minuteTables(samples: readonly MinuteSample[]): string {
  const instances = samples[0]?.instances.length ?? 0;
  const names = tableNames(samples);
  const row = (cells: string[]) => `| ${cells.join(" | ")} |`;
  const load = [
    row([
      "minute",
      "answers",
      "p50 ms",
      "p99 ms",
      "request-auth p99 ms",
      "validate-auth p99 ms",
      "statuses",
      "served by the instances (5xx)",
      "carrier webhooks (not 2xx)",
      "events delivered",
      ...Array.from({ length: instances }, (_, i) => `${instanceName(i)} RSS / heap used MB, cores`),
      "DB connections",
      "other CPU",
    ]),
    row(Array.from({ length: 12 + instances }, () => "---")),
    ...samples.map((s) =>
      row([
        String(s.minute),
        int(s.all.count),
        ms(s.all.p50),
        ms(s.all.p99),
        opP99(s, "request-auth"),
        opP99(s, "validate-auth"),
        statusText(s.statuses),
        `${int(s.served)} (${int(s.served5xx)})`,
        `${int(s.webhooks)} (${int(s.webhookFailures)})`,
        int(s.events),
        ...s.instances.map((m) => `${int(m.rssMb)} / ${int(m.heapUsedMb)}, ${m.cpuCores.toFixed(2)}`),
        String(s.dbConnections),
        cpuText(s),
      ]),
    ),
  ];
  const db = [
    row(["minute", ...names.map((n) => `${n}: rows · size · dead`), "oldest challenge s"]),
    row(Array.from({ length: names.length + 2 }, () => "---")),
    ...samples.map((s) =>
      row([String(s.minute), ...names.map((n) => tableCell(s.tables[n])), s.oldestChallengeSeconds === undefined ? "—" : String(Math.round(s.oldestChallengeSeconds))]),
    ),
  ];
  return `${load.join("\n")}\n\n${db.join("\n")}`;
}

export interface SoakReport {
  machine: Machine;
  command: string;
  startedAt: Date;
  samples: MinuteSample[];
  verdict: VerdictLine[];
  /** One Markdown bullet each: the totals of the run. */
  details: string[];
  setup: SoakSetup;
}

/** What the run was made of, for bench/soak.md. */
export interface SoakSetup {
  instances: number;
  /** request-auth per second; validate-auth at twice this. */
  rate: number;
  ringMs: number;
  codeTtlSeconds: number;
  sweepSeconds: number;
  retentionSeconds: number;
  requestTimeoutMs: number;
  /** The server's autovacuum setting: off, nothing reclaims the dead tuples the sweep and the updates leave. */
  autovacuum: boolean;
}

function howItRan(s: SoakSetup): string[] {
  return [
    `${s.instances} instances of the service, compiled (\`tsc -p tsconfig.build.json\` into \`bench/tmp/soak-dist\`) and started with plain \`node\` and the Docker image's node flags (\`bench/service-process.mjs\`), \`NODE_ENV=test\`, \`LOG_LEVEL=warn\`, on one fresh PostgreSQL database (created for the run and dropped after it), each with the default pool of 10 connections, placing calls with the Twilio SDK to the carrier simulator in a process of its own. The limits are at their maximum (as in \`npm run bench\`) so none refuses the load; codes live ${s.codeTtlSeconds} s.`,
    `Housekeeping: each instance sweeps every ${s.sweepSeconds} s (jittered ±20 %) with a retention of ${s.retentionSeconds} s instead of every 30 s and \`RETENTION_HOURS\` (at least 24): shortened through \`startService\`'s \`housekeeping\` option, which no environment variable sets. \`idempotency_keys\` (kept 24 hours) and \`call_counts\` (hourly rows, kept 25 hours) keep their fixed windows, so they grow through any run shorter than that and are shown, not judged.`,
    `Load, from this process, on a fixed schedule (an open model: a slow answer does not delay the next request), alternating between the instances: request-auth ${s.rate}/s (every other one with an \`Idempotency-Key\`), each to a different number, whose phone rings ${s.ringMs / 1000} s, answers and hears the call through: its status callbacks (ringing, in-progress, completed) and voice webhook reach the instance that placed it. validate-auth ${2 * s.rate}/s takes the codes the phones heard, every other challenge first with a wrong guess, half by number and half by challenge id; when no heard code waits it tries a number never called. Each instance sends its event webhooks (every type) to a receiver in this process, which checks their signatures.`,
    `Latency is measured from the time each request was due, so time spent queued in the load generator counts; requests answered after ${s.requestTimeoutMs / 1000} s count as failed. Memory: RSS from /proc (VmRSS), V8 heap from each instance's /metrics (\`voice_otp_nodejs_heap_size_used_bytes\`, prom-client's default metrics). 5xx across every route (webhooks included) from each instance's \`voice_otp_http_request_duration_seconds_count\`; carrier webhooks not answered 2xx from the simulator. DB connections: \`pg_stat_activity\` rows for the soak's database. Tables: \`count(*)\`, \`pg_total_relation_size\`, \`pg_stat_user_tables.n_dead_tup\`.`,
    s.autovacuum
      ? "autovacuum is on, at the server's settings (see the machine line)."
      : "autovacuum is **off** on this server: nothing reclaims the dead tuples that updates and the sweep's deletes leave, so dead tuples and table sizes grow however bounded the rows stay. With autovacuum on, as PostgreSQL ships, that space is reused. Sizes are shown, not judged.",
    `For scale: in \`bench/results.md\` one instance serves about 190 request-auth/s with their whole calls' webhooks (64 connections) and over 3,000 validate-auth/s on this kind of machine. The default rate, 20 request-auth/s and 40 validate-auth/s over two instances, is about a tenth of the first and a hundredth of the second, so that the figures show drift over time rather than saturation.`,
    `Thresholds: RSS growth under ${LIMITS.rssGrowth * 100} % per instance from the end of minute 2 to the end; per-minute p99 from minute 2 on within ${LIMITS.p99Spread}× (highest against lowest); no 5xx and nothing unanswered; rows of the swept tables at the end at most ${LIMITS.rowGrowth}× their rows once the first purges are due.`,
    "CPU: the cores each instance, the simulator, the soak's own process and every PostgreSQL process of the machine (other databases included) kept busy over the minute, from /proc; and the share of the whole machine's CPU time busy. On a shared machine the last shows how much other work competed with the run.",
  ];
}

const root = fileURLToPath(new URL("..", import.meta.url));

export function writeSoakReport(r: SoakReport) {
  const date = r.startedAt.toISOString().slice(0, 16).replace("T", " ");
  writeFileSync(
    `${root}bench/soak.md`,
    `# Soak run

Written by \`${r.command}\`, started ${date} UTC. Do not edit: the next run overwrites it.

**Machine:** ${machineLine(r.machine)}

${verdictText(r.verdict)}

## Minute by minute

Each minute's figures are for that minute alone: latencies of the answers the load generator
received in it (from the time each request was due), requests the instances finished in it,
and memory, connections and tables as they stood at its end. A table cell reads live rows ·
total size (table, indexes, TOAST) · dead tuples.

${minuteTables(r.samples)}

## Totals

${r.details.map((d) => `- ${d}`).join("\n")}

## How it was run

${howItRan(r.setup)
  .map((h) => `- ${h}`)
  .join("\n")}
`,
  );
}
