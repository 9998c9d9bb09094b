/**
 * The soak's pure parts: its command line, what it measures each minute, and the
 * verdict over those minutes. No servers here, so that test/soak-verdict.test.ts can
 * check them in milliseconds.
 */

export const SOAK_USAGE = `npm run soak [-- options]
  --minutes N   how long the load runs, in whole minutes (default 10)
  --rate R      request-auth requests per second, with their calls' webhooks (default 20);
                validate-auth runs at twice that rate
  --no-write    print the table and the verdict only; leave bench/soak.md alone
  --help        this text`;

export interface SoakOptions {
  minutes: number;
  /** request-auth per second; validate-auth goes at twice this. */
  rate: number;
  write: boolean;
}

export type SoakArgs = { kind: "run"; options: SoakOptions } | { kind: "help" } | { kind: "error"; message: string };

export function parseSoakArgs(argv: readonly string[]): SoakArgs {
  const options: SoakOptions = { minutes: 10, rate: 20, write: true };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "--help" || arg === "-h") return { kind: "help" };
    if (arg === "--no-write") {
      options.write = false;
      continue;
    }
    if (arg !== "--minutes" && arg !== "--rate") return { kind: "error", message: `unknown option ${arg}` };
    const text = argv[++i];
    const value = Number(text);
    if (text === undefined || text.trim() === "" || !Number.isFinite(value)) return { kind: "error", message: `${arg} needs a number` };
    if (arg === "--minutes") {
      if (!Number.isInteger(value) || value < 1) return { kind: "error", message: "--minutes takes a whole number of minutes, at least 1" };
      options.minutes = value;
    } else {
      // Past a few hundred a second the load generator and the simulator would be measuring themselves.
      if (value <= 0 || value > 500) return { kind: "error", message: "--rate takes a number of requests per second above 0 and at most 500" };
      options.rate = value;
    }
  }
  return { kind: "run", options };
}

/** Latency of the responses received in one minute, ms. */
export interface LatencySummary {
  count: number;
  p50: number;
  p99: number;
}

export interface TableSample {
  rows: number;
  /** pg_total_relation_size: the table, its indexes and TOAST. */
  bytes: number;
  /** pg_stat_user_tables.n_dead_tup. */
  dead: number;
}

/** What the soak records at the end of each minute; counts are for that minute alone. */
export interface MinuteSample {
  /** 1 for the first minute. */
  minute: number;
  /** The load generator's requests answered (or failed) in the minute, all operations together and by operation. */
  all: LatencySummary;
  ops: Record<string, LatencySummary>;
  /** Their HTTP statuses; "failed" for no answer (connection error, timeout). */
  statuses: Record<string, number>;
  /** Requests the instances finished in the minute over every route (webhooks included), and how many of them got a 5xx, from their /metrics. */
  served: number;
  served5xx: number;
  /** Scrapes of an instance's /metrics not answered in time: its figures then count in the next minute's. */
  metricsUnanswered: number;
  /** Carrier webhook requests the simulator made, and those not answered with a 2xx. */
  webhooks: number;
  webhookFailures: number;
  /** Event webhooks the instances delivered to the soak's receiver. */
  events: number;
  /** Each instance, in order: its resident set (/proc) and V8 heap (its /metrics), MB; the cores it kept busy over the minute. */
  instances: Array<{ rssMb: number; heapUsedMb: number; heapTotalMb: number; cpuCores: number }>;
  /**
   * Cores kept busy over the minute by the simulator, by this process (the load generator and
   * the event receiver) and by every PostgreSQL process of the machine (other databases'
   * work included); and the share of the machine's CPU time busy: other work on a shared
   * machine shows there.
   */
  cpu: { simulator: number; loadGenerator: number; postgres: number };
  machineBusy: number;
  /** Connections to the soak's database, the soak's own monitoring connection left out. */
  dbConnections: number;
  /** The tables present, by name. */
  tables: Record<string, TableSample>;
  /** Age of the oldest challenge row, seconds; undefined when the table is empty. */
  oldestChallengeSeconds?: number;
}

export interface VerdictSettings {
  /**
   * When a challenge made at the start has been purged: its codes expire (TTL), it waits out
   * the retention, and the sweep comes round (jittered up to 1.2 × its period). Row counts
   * are compared from the first minute that ends after this.
   */
  settleSeconds: number;
}

export interface VerdictLine {
  criterion: string;
  /** undefined: the run was too short to judge it. */
  met: boolean | undefined;
  figures: string;
}

export const LIMITS = {
  /** RSS at the end against RSS at the end of minute 2. */
  rssGrowth: 0.1,
  /** Highest per-minute p99 against the lowest, from minute 2 on. */
  p99Spread: 1.5,
  /** Rows at the end against rows at the first minute after settling. */
  rowGrowth: 1.3,
};

/** The tables each request adds rows to, which only the housekeeping sweep removes. */
export const SWEPT_TABLES = ["challenges", "call_events", "events"] as const;

const mb = (v: number) => `${Math.round(v)} MB`;
const pct = (v: number) => `${v >= 0 ? "+" : ""}${(v * 100).toFixed(1)} %`;
const msText = (v: number) => (v < 10 ? v.toFixed(1) : Math.round(v).toString());
const count = (v: number) => Math.round(v).toLocaleString("en-US");
/** "instance A", "instance B", … */
export const instanceName = (i: number) => `instance ${String.fromCharCode(65 + i)}`;

/** Each criterion of the issue, met or not (or not judged) with its figures. */
export function soakVerdict(samples: readonly MinuteSample[], settings: VerdictSettings): VerdictLine[] {
  return [rssLine(samples), p99Line(samples), errorLine(samples), tablesLine(samples, settings)];
}

/** Met when every line judged is met and none was left unjudged. */
export function overall(lines: readonly VerdictLine[]): "met" | "not met" | "incomplete" {
  if (lines.some((l) => l.met === false)) return "not met";
  if (lines.some((l) => l.met === undefined)) return "incomplete";
  return "met";
}

function rssLine(samples: readonly MinuteSample[]): VerdictLine {
  const criterion = `RSS of each instance grows less than ${LIMITS.rssGrowth * 100} % from the end of minute 2 to the end`;
  if (samples.length < 3) return { criterion, met: undefined, figures: "needs a run of at least 3 minutes" };
  const from = samples[1]!;
  const to = samples.at(-1)!;
  const growths = from.instances.map((a, i) => ({ a: a.rssMb, b: to.instances[i]!.rssMb, g: to.instances[i]!.rssMb / a.rssMb - 1 }));
  return {
    criterion,
    met: growths.every(({ g }) => g < LIMITS.rssGrowth),
    figures: growths.map(({ a, b, g }, i) => `${instanceName(i)} ${mb(a)} → ${mb(b)} (${pct(g)})`).join("; "),
  };
}

function p99Line(samples: readonly MinuteSample[]): VerdictLine {
  const criterion = `p99 stays flat: the highest per-minute p99 from minute 2 on is at most ${LIMITS.p99Spread}× the lowest`;
  if (samples.length < 3) return { criterion, met: undefined, figures: "needs a run of at least 3 minutes" };
  const judged = samples.slice(1);
  const silent = judged.filter((s) => s.all.count === 0);
  if (silent.length) return { criterion, met: false, figures: `no response at all in minute ${silent.map((s) => s.minute).join(", ")}` };
  const low = judged.reduce((a, b) => (b.all.p99 < a.all.p99 ? b : a));
  const high = judged.reduce((a, b) => (b.all.p99 > a.all.p99 ? b : a));
  const spread = low.all.p99 > 0 ? high.all.p99 / low.all.p99 : Infinity;
  return {
    criterion,
    met: spread <= LIMITS.p99Spread,
    figures: `${msText(low.all.p99)} ms (minute ${low.minute}) to ${msText(high.all.p99)} ms (minute ${high.minute}): ${spread.toFixed(2)}×`,
  };
}

function errorLine(samples: readonly MinuteSample[]): VerdictLine {
  const sum = (f: (s: MinuteSample) => number) => samples.reduce((t, s) => t + f(s), 0);
  const client5xx = sum((s) => Object.entries(s.statuses).reduce((t, [k, n]) => t + (/^5\d\d$/.test(k) ? n : 0), 0));
  const failed = sum((s) => s.statuses.failed ?? 0);
  const served5xx = sum((s) => s.served5xx);
  const webhookFailures = sum((s) => s.webhookFailures);
  const unscraped = sum((s) => s.metricsUnanswered);
  return {
    criterion: "no 5xx, and no request or carrier webhook left without an answer",
    met: client5xx + failed + served5xx + webhookFailures + unscraped === 0,
    figures:
      `instances answered ${count(served5xx)} 5xx of ${count(sum((s) => s.served))} requests (every route); ` +
      `the load generator got ${count(client5xx)} 5xx and ${count(failed)} failures of ${count(sum((s) => s.all.count))}; ` +
      `${count(webhookFailures)} of ${count(sum((s) => s.webhooks))} carrier webhooks not answered 2xx` +
      (unscraped ? `; ${count(unscraped)} scrapes of an instance's /metrics unanswered` : ""),
  };
}

function tablesLine(samples: readonly MinuteSample[], settings: VerdictSettings): VerdictLine {
  const criterion =
    `housekeeping keeps the tables bounded: rows of ${SWEPT_TABLES.join(", ")} at the end at most ${LIMITS.rowGrowth}× ` +
    `their rows at the first minute ending ${Math.round(settings.settleSeconds)} s or more into the run (codes expired, retention waited out, a sweep come round)`;
  const from = samples.find((s) => s.minute * 60 >= settings.settleSeconds);
  const to = samples.at(-1);
  if (!from || !to || from === to) {
    return { criterion, met: undefined, figures: `needs a run of at least ${Math.max(1, Math.ceil(settings.settleSeconds / 60)) + 1} minutes` };
  }
  const judged = SWEPT_TABLES.filter((t) => (from.tables[t]?.rows ?? 0) > 0);
  if (!judged.length) return { criterion, met: false, figures: `no rows in ${SWEPT_TABLES.join(", ")} at minute ${from.minute}: nothing was written` };
  const parts = judged.map((t) => {
    const a = from.tables[t]!;
    const b = to.tables[t] ?? { rows: 0, bytes: 0, dead: 0 };
    const ratio = b.rows / a.rows;
    return { met: ratio <= LIMITS.rowGrowth, text: `${t} ${count(a.rows)} → ${count(b.rows)} rows (${ratio.toFixed(2)}×; ${kb(a.bytes)} → ${kb(b.bytes)})` };
  });
  const oldest = to.oldestChallengeSeconds === undefined ? "" : `; oldest challenge ${Math.round(to.oldestChallengeSeconds)} s old at the end`;
  return { criterion, met: parts.every((p) => p.met), figures: `minute ${from.minute} → ${to.minute}: ${parts.map((p) => p.text).join("; ")}${oldest}` };
}

export const kb = (bytes: number) => (bytes >= 10 * 2 ** 20 ? `${Math.round(bytes / 2 ** 20)} MB` : `${Math.round(bytes / 1024).toLocaleString("en-US")} kB`);
