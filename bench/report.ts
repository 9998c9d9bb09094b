import { readFileSync, writeFileSync } from "node:fs";
import { cpus, release, totalmem, type } from "node:os";
import { fileURLToPath } from "node:url";
import type postgres from "postgres";
import type { LoadResult } from "./load.js";
import { busyShare, machineCpuTimes } from "./processes.js";

export interface Machine {
  cpu: string;
  cores: number;
  memoryGb: number;
  os: string;
  node: string;
  postgres: string;
  postgresSettings: string;
  /** Share of the CPUs busy in the 2 s before the run: other work on the machine skews every figure. */
  busyBefore: number;
}

/** process.memoryUsage() of the service right after a run, MB. */
export interface ServiceMemory {
  rss: number;
  heapUsed: number;
  heapTotal: number;
  external: number;
  arrayBuffers: number;
}
const cpuText = (r: LoadResult, server = "service") =>
  r.cpu
    ? ` CPU in cores (of the machine's ${cpus().length}): ${server} ${r.cpu.server.toFixed(2)}, PostgreSQL ${r.cpu.postgres.toFixed(2)}, simulator ${r.cpu.simulator.toFixed(2)}, load generator ${r.cpu.loadGenerator.toFixed(2)}.`
    : "";
const memoryText = (m: ServiceMemory) => `RSS ${m.rss} MB, V8 heap ${m.heapUsed} MB used of ${m.heapTotal} MB, external ${m.external} MB`;

export interface RequestAuthRun {
  delayMs: number;
  result: LoadResult;
  memory: ServiceMemory;
  /** Calls the carrier accepted during the run, and the webhook requests they made to the service. */
  calls: number;
  webhooks: number;
  webhookErrors: number;
  sampleWebhookError?: string;
  unfinishedCalls: number;
  /** With the slow carrier: the reference placing the same calls, a run just before and one just after. */
  reference?: { result: LoadResult; runs: LoadResult[] };
}

/** One service's figures: the current tree's, or the --against revision's. */
export interface ServiceRuns {
  pendingWithCode: number;
  /** Codes the simulated phones heard (all matched the stored ones). */
  heardCodes: number;
  validate: { result: LoadResult; reasons: Record<string, number>; memory: ServiceMemory };
  requestAuth: RequestAuthRun[];
  /** request-auth whose calls are answered and played through, webhooks and all. */
  wholeCalls: RequestAuthRun;
  /** Peak (VmHWM) and just after start, MB; memory after a full GC at the end. */
  rss: { idleMb: number; peakMb: number; atStart: ServiceMemory; afterGc: ServiceMemory };
}

/** The current service's figures at the top level; the --against revision's, if any, in `against`. */
export interface Measurements extends ServiceRuns {
  machine: Machine;
  mode: "quick" | "full";
  seconds: number;
  warmupSeconds: number;
  logLevel: string;
  /** result: the mean of runs, one just before and one just after the services' validation runs. */
  reference: { result: LoadResult; runs: LoadResult[]; peakRssMb: number };
  against?: ServiceRuns & { rev: string; sha: string; nodeFlags: string[] };
}

/**
 * Targets relative to the references measured in the same run, so that they move with
 * the machine (2 cores shared by the service, PostgreSQL, the simulator and autocannon)
 * rather than asking for what even a bare route does not reach on it.
 */
export const TARGETS = {
  /** validate-auth at 64 connections, against the validation reference. */
  validateRps: 0.8,
  validateP99: 1.25,
  /** request-auth with the 300 ms carrier (64 and 256 connections), against the request-auth reference. */
  slowCarrierRps: 0.9,
  peakRssMb: 150,
};

export interface TargetCheck {
  key: string;
  what: string;
  target: string;
  /** What was measured, as a ratio or a size. */
  got: string;
  met: boolean;
}

/** Each target, met or not, for one service against the references of the run. */
export function targetChecks(runs: ServiceRuns, reference: LoadResult): TargetCheck[] {
  const v = runs.validate.result;
  const checks: TargetCheck[] = [
    {
      key: "validate-rps",
      what: `validate-auth, ${v.connections} connections, req/s`,
      target: `≥ ${TARGETS.validateRps}× the validation reference's`,
      got: `${ratio(v.rps, reference.rps)} (${int(v.rps)} against ${int(reference.rps)})`,
      met: v.rps >= TARGETS.validateRps * reference.rps,
    },
    {
      key: "validate-p99",
      what: `validate-auth, ${v.connections} connections, p99`,
      target: `≤ ${TARGETS.validateP99}× the validation reference's`,
      got: `${ratio(v.p99, reference.p99)} (${ms(v.p99)} ms against ${ms(reference.p99)} ms)`,
      met: v.p99 <= TARGETS.validateP99 * reference.p99,
    },
  ];
  for (const r of runs.requestAuth) {
    if (!r.delayMs) continue;
    const own = r.reference?.result;
    checks.push({
      key: `request-auth-${r.delayMs}-${r.result.connections}`,
      what: `request-auth, carrier ${r.delayMs} ms, ${r.result.connections} connections, req/s`,
      target: `≥ ${TARGETS.slowCarrierRps}× the request-auth reference's`,
      got: own ? `${ratio(r.result.rps, own.rps)} (${int(r.result.rps)} against ${int(own.rps)})` : "no reference measured",
      met: own !== undefined && r.result.rps >= TARGETS.slowCarrierRps * own.rps,
    });
  }
  checks.push({
    key: "rss",
    what: "peak RSS of the service process",
    target: `< ${TARGETS.peakRssMb} MB`,
    got: `${Math.round(runs.rss.peakMb)} MB`,
    met: runs.rss.peakMb < TARGETS.peakRssMb,
  });
  return checks;
}

/** The share of CPU time not idle over the next `ms`, from /proc/stat. */
async function cpuBusy(ms: number): Promise<number> {
  try {
    const a = machineCpuTimes();
    await new Promise((r) => setTimeout(r, ms));
    return busyShare(a, machineCpuTimes());
  } catch {
    return NaN; // not Linux
  }
}

export async function machineInfo(sql: postgres.Sql): Promise<Machine> {
  const [v] = await sql<{ server_version: string }[]>`show server_version`;
  const settings = await sql<{ name: string; setting: string; unit: string | null }[]>`
    select name, setting, unit from pg_settings
    where name in ('autovacuum', 'shared_buffers', 'synchronous_commit', 'max_connections', 'fsync') order by name`;
  return {
    cpu: cpus()[0]?.model.trim() ?? "unknown",
    cores: cpus().length,
    memoryGb: Math.round(totalmem() / 2 ** 30),
    os: `${type()} ${release()}`,
    node: process.version,
    postgres: v?.server_version ?? "unknown",
    busyBefore: await cpuBusy(2000),
    postgresSettings: settings.map((s) => `${s.name}=${s.setting}${s.unit && s.unit !== "" ? ` (${s.unit})` : ""}`).join(", "),
  };
}

const ms = (v: number) => (v < 10 ? v.toFixed(1) : Math.round(v).toString());
const int = (v: number) => Math.round(v).toLocaleString("en-US");
const ratio = (a: number, b: number) => (b > 0 ? `${(a / b).toFixed(2)}×` : "n/a");
const yes = (ok: boolean) => (ok ? "**yes**" : "**no**");

function statuses(r: LoadResult): string {
  const parts = Object.entries(r.statuses)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([status, n]) => `${status}: ${int(n)}`);
  if (r.errors) parts.push(`errors: ${int(r.errors)}`);
  if (r.timeouts) parts.push(`timeouts: ${int(r.timeouts)}`);
  return parts.join(" · ") || "none";
}

/** "current / against" for one scenario: the ratios, and the against revision's own figures. */
function versus(current: LoadResult, against: LoadResult | undefined): string {
  if (!against) return "n/a";
  return `req/s ${ratio(current.rps, against.rps)}, p99 ${ratio(current.p99, against.p99)} (against: ${int(against.rps)} req/s, p99 ${ms(against.p99)} ms)`;
}

/** The table, as markdown (readable in a terminal too). */
export function table(m: Measurements): string {
  const ref = m.reference.result;
  const v = m.validate.result;
  const checks = new Map(targetChecks(m, ref).map((c) => [c.key, c]));
  const a = m.against;
  const rows: string[][] = [];
  /** A row, with the "current / against" column when there is one. */
  const row = (cells: string[], vsAgainst = "—") => rows.push(a ? [...cells, vsAgainst] : cells);

  const [rps, p99] = [checks.get("validate-rps")!, checks.get("validate-p99")!];
  row(
    [
      "validate-auth, mix of right/wrong/unknown",
      String(v.connections),
      int(v.rps),
      ms(v.p50),
      ms(v.p99),
      statuses(v),
      `${ratio(v.rps, ref.rps)} req/s, p50 ${ratio(v.p50, ref.p50)}, p99 ${ratio(v.p99, ref.p99)}`,
      `≥ ${TARGETS.validateRps}× reference req/s and p99 ≤ ${TARGETS.validateP99}× reference p99`,
      `${yes(rps.met && p99.met)} (req/s ${rps.met ? "met" : "not met"}, p99 ${p99.met ? "met" : "not met"})`,
    ],
    versus(v, a?.validate.result),
  );
  row(["validation reference: bare Hono + postgres, one UPDATE … RETURNING (mean of a run before and one after)", String(ref.connections), int(ref.rps), ms(ref.p50), ms(ref.p99), statuses(ref), "1.00×", "—", "—"]);
  m.requestAuth.forEach((r, i) => {
    const carrier = r.delayMs ? `carrier accepts in ${r.delayMs} ms` : "instant carrier";
    const own = r.reference?.result;
    const check = checks.get(`request-auth-${r.delayMs}-${r.result.connections}`);
    row(
      [
        `request-auth, ${carrier}, phone rings`,
        String(r.result.connections),
        int(r.result.rps),
        ms(r.result.p50),
        ms(r.result.p99),
        statuses(r.result),
        own
          ? `${ratio(r.result.rps, own.rps)} req/s, p50 ${ratio(r.result.p50, own.p50)}, p99 ${ratio(r.result.p99, own.p99)} of the request-auth reference below (${ratio(r.result.rps, ref.rps)} req/s of the validation one)`
          : `${ratio(r.result.rps, ref.rps)} req/s of the validation reference`,
        check ? `≥ ${TARGETS.slowCarrierRps}× the request-auth reference's req/s` : "— (no target)",
        check ? `${yes(check.met)} (${own ? ratio(r.result.rps, own.rps) : "no reference"})` : "—",
      ],
      versus(r.result, a?.requestAuth[i]?.result),
    );
    if (own) {
      row([
        "reference: bare Hono + postgres, one INSERT, the same create-call request, one UPDATE (mean of a run before and one after)",
        String(own.connections),
        int(own.rps),
        ms(own.p50),
        ms(own.p99),
        statuses(own),
        "1.00×",
        "—",
        "—",
      ]);
    }
  });
  const w = m.wholeCalls;
  row(
    [
      `request-auth, whole calls (instant carrier; ${(w.webhooks / Math.max(1, w.calls)).toFixed(0)} webhooks per call served too)`,
      String(w.result.connections),
      int(w.result.rps),
      ms(w.result.p50),
      ms(w.result.p99),
      statuses(w.result),
      `${ratio(w.result.rps, ref.rps)} req/s of the validation reference`,
      "— (no target)",
      "—",
    ],
    versus(w.result, a?.wholeCalls.result),
  );
  row(
    [
      "peak RSS of the service process",
      "—",
      "—",
      "—",
      "—",
      `${Math.round(m.rss.peakMb)} MB (${Math.round(m.rss.idleMb)} MB just after start)`,
      `reference ${Math.round(m.reference.peakRssMb)} MB`,
      `< ${TARGETS.peakRssMb} MB`,
      yes(checks.get("rss")!.met),
    ],
    a ? `${ratio(m.rss.peakMb, a.rss.peakMb)} (against: ${Math.round(a.rss.peakMb)} MB)` : "—",
  );
  const head = ["scenario", "connections", "req/s", "p50 ms", "p99 ms", "responses", "service / reference", "target", "met?"];
  if (a) head.push(`current / against ${a.sha.slice(0, 7)}`);
  return [head, head.map(() => "---"), ...rows].map((r) => `| ${r.join(" | ")} |`).join("\n");
}

/** The targets one by one, met or not: for the current service, and for the --against revision if any. */
function targetsText(m: Measurements): string {
  const list = (checks: TargetCheck[]) => checks.map((c) => `- ${c.met ? "met" : "**not met**"}: ${c.what} ${c.target}: ${c.got}`).join("\n");
  const current = targetChecks(m, m.reference.result);
  let text = `Targets, relative to the references measured in this run: ${current.filter((c) => c.met).length} of ${current.length} met.\n\n${list(current)}`;
  if (m.against) {
    const against = targetChecks(m.against, m.reference.result);
    text += `\n\nThe same targets for the revision run with --against (${m.against.rev}, ${m.against.sha.slice(0, 7)}), against the same references: ${against.filter((c) => c.met).length} of ${against.length} met.\n\n${list(against)}`;
  }
  return text;
}

export function machineLine(m: Machine): string {
  return `${m.cpu}, ${m.cores} cores, ${m.memoryGb} GB; ${m.os}; Node ${m.node}; PostgreSQL ${m.postgres} (${m.postgresSettings}); CPUs ${Math.round(m.busyBefore * 100)} % busy just before the run`;
}

/** Per-run figures of one service, each line starting with `prefix`. */
function serviceLines(r: ServiceRuns, prefix: string): string[] {
  const lines = [
    `- ${prefix}validate-auth: ${int(r.validate.result.requests)} requests in ${r.validate.result.seconds} s over ${int(r.pendingWithCode)} pending challenges (${int(r.heardCodes)} of them from whole calls, checked with the code their phone heard); outcomes ${Object.entries(r.validate.reasons).map(([k, n]) => `${k} ${int(n)}`).join(", ") || "none"}; at the end: ${memoryText(r.validate.memory)}.${cpuText(r.validate.result)}`,
    `- ${prefix}service memory just after start: ${memoryText(r.rss.atStart)}; after a full garbage collection at the end: ${memoryText(r.rss.afterGc)}.`,
  ];
  for (const x of [r.wholeCalls, ...r.requestAuth]) {
    lines.push(
      `- ${prefix}request-auth, ${x === r.wholeCalls ? "whole calls" : "phones ringing"}, carrier ${x.delayMs} ms, ${x.result.connections} connections: ${int(x.result.requests)} requests, ${int(x.calls)} calls placed, ` +
        `${int(x.webhooks)} webhook requests from those calls also served (${(x.webhooks / Math.max(1, x.calls)).toFixed(1)} per call)` +
        `${x.webhookErrors ? `, ${int(x.webhookErrors)} webhook errors (${x.sampleWebhookError})` : ""}` +
        `${x.unfinishedCalls ? `, ${x.unfinishedCalls} calls still unfinished after 60 s` : ""}; ` +
        `peak RSS during the run ${Math.round(x.result.peakRssMb ?? 0)} MB; at its end: ${memoryText(x.memory)}.${cpuText(x.result)}`,
    );
  }
  return lines;
}

function details(m: Measurements): string {
  const services = m.against ? "services' runs" : "service's run";
  const lines = [
    `- validation reference: ${int(m.reference.result.requests)} requests; ${m.reference.runs.map((r, i) => `${int(r.rps)} req/s ${i === 0 ? "just before" : "just after"} the ${services}`).join(", ")}.${cpuText(m.reference.result, "reference")}`,
  ];
  for (const r of m.requestAuth) {
    if (!r.reference) continue;
    lines.push(
      `- request-auth reference, carrier ${r.delayMs} ms, ${r.reference.result.connections} connections: ${int(r.reference.result.requests)} requests; ` +
        `${r.reference.runs.map((x, i) => `${int(x.rps)} req/s ${i === 0 ? "just before" : "just after"} the ${services}`).join(", ")}.${cpuText(r.reference.result, "reference")}`,
    );
  }
  lines.push(...serviceLines(m, ""));
  if (m.against) {
    const a = m.against;
    lines.push(
      `- against: revision ${a.rev} (${a.sha}), built from its own tree and started with \`node ${a.nodeFlags.join(" ")}\` (its Dockerfile's CMD); peak RSS ${Math.round(a.rss.peakMb)} MB (${Math.round(a.rss.idleMb)} MB just after start).`,
      ...serviceLines(a, "against: "),
    );
  }
  return lines.join("\n");
}

/** How the run was started, for the reports. */
function command(m: Measurements): string {
  const opts = [m.mode === "quick" ? "--quick" : "", m.against ? `--against ${m.against.rev}` : ""].filter(Boolean);
  return opts.length ? `\`npm run bench -- ${opts.join(" ")}\`` : "`npm run bench`";
}

export function printReport(m: Measurements): string {
  const t = table(m);
  if (m.machine.busyBefore > 0.1) {
    console.warn(`warning: the CPUs were ${Math.round(m.machine.busyBefore * 100)} % busy before the run started: the figures may be low`);
  }
  const against = m.against ? `, against ${m.against.rev} (${m.against.sha.slice(0, 7)})` : "";
  console.log(`\nvoice-otp benchmark (${m.mode}, ${m.seconds} s per scenario${against})`);
  console.log(`machine: ${machineLine(m.machine)}\n`);
  console.log(t);
  console.log(`\n${targetsText(m)}`);
  console.log(`\n${details(m)}\n`);
  return t;
}

const root = fileURLToPath(new URL("..", import.meta.url));

/** bench/results.md in full, and the table between the README's markers. */
export function writeReport(m: Measurements, t: string) {
  const date = new Date().toISOString().slice(0, 16).replace("T", " ");
  const how = command(m);
  writeFileSync(
    `${root}bench/results.md`,
    `# Benchmark results

Written by ${how} on ${date} UTC (${m.seconds} s per scenario${m.warmupSeconds ? `, ${m.warmupSeconds} s warm-up before each validate-auth run` : ""}). Do not edit: the next run overwrites it.

**Machine:** ${machineLine(m.machine)}

${t}

${targetsText(m)}

## Details

${details(m)}

## How it was measured

- The service runs in its own Node process, compiled (\`tsc -p tsconfig.build.json\` into \`bench/tmp/dist\`) and started with plain \`node\` and the node flags of the Docker image's CMD (its heap sizes), as the image's \`node … dist/server.js\` is (\`bench/service-process.mjs\`), with \`NODE_ENV=test\`, \`LOG_LEVEL=${m.logLevel}\` (so the figures are the service's own work rather than the cost of one JSON log line per request written to a pipe), on a fresh PostgreSQL database with the default pool (10 connections), placing calls with the Twilio SDK to the carrier simulator, which runs in a process of its own. Every limit is raised to its maximum so none refuses the load (they are still counted: the per-key request budget, the spend cap and the per-number, per-range and per-address windows are checked on every request); codes live an hour; 20 guesses per challenge.
- request-auth cycles through distinct US numbers (+1 AAA 555 01xx across area codes), one set per scenario. The slow carrier answers the create-call request after 300 ms. In the four request-auth scenarios with a target, the phones ring through the run: the service gets each call's \`ringing\` status callback, not the rest (it does not ask for \`initiated\`).
- The "whole calls" run comes first (it also warms the service up): every call is answered at once and played through, so its three status callbacks (ringing, in-progress, completed) and its voice webhook reach the service while the load goes on, as a real carrier's would over a call's life. The next scenario starts when those calls have ended.
- validate-auth uses every challenge the request-auth runs left pending: the whole calls' codes as their simulated phones heard them, the ringing ones' unsealed from the database with the service's key. Of every 10 requests, 5 send a right code (each approves once; when the sequence comes round again there is nothing pending), 3 a wrong code, 2 a number that was never called. The warm-up sends only wrong codes and numbers never called.
- The validation reference (\`bench/reference-process.ts\`) is a bare Hono app with postgres.js (pool of 10) that parses the same JSON bodies and runs one \`UPDATE … SET attempts = attempts + 1 WHERE number = $1 AND status = 'pending' RETURNING\` on a copy of the challenges table (same columns and indexes, same rows), with the same connections and duration. It runs twice, just before and just after the service's validation run, and its row is the mean of the two: the machine's speed drifts between runs. Target: validate-auth reaches at least ${TARGETS.validateRps} × its requests per second, with a p99 at most ${TARGETS.validateP99} × its p99.
- With the slow carrier, the reference's \`/request-auth\` places the same calls (the same numbers, to the same simulator, with the same form fields and a kept-alive agent of 512 sockets): one \`INSERT\` of a row, the create-call request, one \`UPDATE\` noting the call's sid; its \`/call-status\` writes the status each \`ringing\` callback brings. No API key, number parsing, limit, code, sealing or signature. It runs just before and just after each of the service's two slow-carrier runs, with the same connections and duration (after a ${m.warmupSeconds || "no"}-second warm-up before the first), and its row is their mean. It is the floor the machine sets for that scenario, and the target is relative to it: at least ${TARGETS.slowCarrierRps} × its requests per second, at 64 and at 256 connections.
- autocannon runs as a library in the benchmark's own process; the connections share one request sequence, so no two send the same body at once. req/s is responses / elapsed time, all statuses included.
- The simulator is reached over plain HTTP. The service gives the \`twilio\` SDK's agent 512 sockets per host (its default of 20 would cap a process at 20 create-call requests in flight against the real, HTTPS, API).
${m.against ? `- With \`--against ${m.against.rev}\`, that revision (${m.against.sha}) is checked out in a worktree under \`bench/tmp/\` with this tree's \`node_modules\`, compiled with its own \`tsconfig.build.json\` into its own \`dist/\`, and started the same way (\`bench/service-process.mjs\`, the node flags of its own Dockerfile's CMD, the same environment) on a fresh database of its own, which its own migrations set up. It goes through every scenario right after or right before the current service (the order alternates from one scenario to the next), between the same reference runs; its validation mix is made the same way, from its own pending challenges unsealed with the same key. The last column gives current / against for each scenario.\n` : ""}- Peak RSS (target under ${TARGETS.peakRssMb} MB) is the service process's VmHWM from /proc at the end of the validate run, after all request-auth runs (the reference's, after its request-auth and validation runs; it runs under tsx with Node's default heap sizes, so its figure is for scale only); the per-run figures in the details are sampled every 100 ms.
- CPU in cores: the user + system time /proc gives for the process under load, for every PostgreSQL process of the machine, for the simulator and for this process (autocannon), divided by the run's wall time. The machine has ${m.machine.cores} cores; when their sum comes near it, the figure is what the machine can do with the simulator and the load generator on it too, not the service's own ceiling.
`,
  );

  const readmePath = `${root}README.md`;
  const readme = readFileSync(readmePath, "utf8");
  const block = `<!-- bench:start -->\nLatest run: ${how}, ${date} UTC, ${m.seconds} s per scenario, on ${machineLine(m.machine)}.\n\n${t}\n<!-- bench:end -->`;
  const marked = /<!-- bench:start -->[\s\S]*?<!-- bench:end -->/;
  if (marked.test(readme)) writeFileSync(readmePath, readme.replace(marked, block));
  else console.warn("README.md has no <!-- bench:start --> marker: its Performance table was not updated");
}
