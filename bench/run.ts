import { randomBytes } from "node:crypto";
import { fileURLToPath } from "node:url";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import type postgres from "postgres";
import { deriveCodeKeys, unsealCode } from "../src/otp/codes.js";
import { load, meanOf, type CpuShare, type LoadResult } from "./load.js";
import { cycle, numberPool } from "./numbers.js";
import { cpuSecondsOf, memoryOf, postgresCpuSeconds, startChild, type Child } from "./processes.js";
import { scratchDatabases } from "./databases.js";
import { startServiceChild } from "./service.js";
import { build, checkOut, imageNodeFlags, removeCheckouts, stopCommands } from "./revisions.js";
import {
  machineInfo,
  printReport,
  writeReport,
  type Measurements,
  type RequestAuthRun,
  type ServiceMemory,
  type ServiceRuns,
} from "./report.js";

/**
 * `npm run bench -- --help` lists the options.
 *
 * The service (on PostgreSQL, placing calls through the Twilio SDK to the carrier
 * simulator) and a bare Hono + postgres reference each run in a child process and
 * are loaded with autocannon from this one. With --against, a second service built
 * from another revision runs beside it, on a database of its own, through the same
 * scenarios. Prints the table and writes bench/results.md and the README's
 * Performance section.
 */
const argv = process.argv.slice(2);
const USAGE = `npm run bench [-- options]
  --quick          a short run (1.5 s per scenario unless --duration says otherwise)
  --duration N     seconds per scenario (default 20)
  --against REV    also build and run the service of git revision REV through the same
                   scenarios, and compare the current one with it (current / against)
  --no-write       print the table only; leave bench/results.md and the README alone
  --profile        write CPU profiles of the service to bench/profiles/
  --log-level L    the service's LOG_LEVEL (default warn)`;
const FLAGS = new Set(["--quick", "--no-write", "--profile", "--help", "-h"]);
const OPTIONS = new Set(["--duration", "--log-level", "--against"]);
for (let i = 0; i < argv.length; i++) {
  if (OPTIONS.has(argv[i]!)) {
    if (argv[++i] === undefined) {
      console.error(`${argv[i - 1]} needs a value\n\n${USAGE}`);
      process.exit(2);
    }
  } else if (!FLAGS.has(argv[i]!)) {
    console.error(`unknown option ${argv[i]}\n\n${USAGE}`);
    process.exit(2);
  }
}
if (argv.includes("--help") || argv.includes("-h")) {
  console.log(USAGE);
  process.exit(0);
}
const flag = (name: string) => argv.includes(`--${name}`);
const option = (name: string) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1] : undefined;
};
const quick = flag("quick");
const seconds = Number(option("duration") ?? (quick ? 1.5 : 20));
if (!(seconds > 0)) throw new Error("--duration takes a number of seconds per scenario");
const warmupSeconds = seconds >= 10 ? 3 : 0;
// warn: the service's own work, not the cost of writing a JSON line per request to a pipe.
const logLevel = option("log-level") ?? "warn";
const profileDir = flag("profile") ? "bench/profiles" : undefined;
const againstRev = option("against");
const CARRIER_DELAY_MS = 300;
const VALIDATE_CONNECTIONS = 64;

const root = fileURLToPath(new URL("..", import.meta.url));
const databases = scratchDatabases("voice_otp_bench");
const children: Child[] = [];

let cleaning: Promise<void> | undefined;
function cleanUp(): Promise<void> {
  cleaning ??= (async () => {
    stopCommands();
    for (const c of children.reverse()) await c.stop().catch(() => {});
    await databases.dropAll();
    await removeCheckouts();
  })();
  return cleaning;
}
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => void cleanUp().finally(() => process.exit(130)));
}

/** Counter values from the service's /metrics by their result label, summed over the other labels (the service). */
async function counters(url: string, name: string): Promise<Map<string, number>> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const out = new Map<string, number>();
  for (const m of text.matchAll(new RegExp(`^${name}\\{[^}]*\\bresult="([^"]+)"[^}]*\\} (\\S+)$`, "gm"))) {
    out.set(m[1]!, (out.get(m[1]!) ?? 0) + Number(m[2]));
  }
  return out;
}

/** Requests to a route the service has finished, whatever their status. */
async function finished(url: string, route: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  let n = 0;
  for (const m of text.matchAll(/^voice_otp_http_request_duration_seconds_count\{([^}]*)\} (\S+)$/gm)) {
    if (m[1]!.includes(`route="${route}"`)) n += Number(m[2]);
  }
  return n;
}

/**
 * autocannon stops waiting at the end of a run, but requests it sent are still queued
 * in the service: wait until the service has finished as many as were sent (or has
 * stopped making progress: a request cut by an error is never counted), so the next
 * run does not start with the last one's backlog.
 */
async function drain(url: string, route: string, sentSoFar: number) {
  let last = -1;
  let stalledSince = Date.now();
  for (;;) {
    const done = await finished(url, route);
    if (done >= sentSoFar) return;
    if (done !== last) [last, stalledSince] = [done, Date.now()];
    else if (Date.now() - stalledSince > 3000) return;
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Runs a load and notes how many cores each part of the benchmark kept busy meanwhile. */
async function withCpu(serverPid: number, simulatorPid: number, run: () => Promise<LoadResult>): Promise<LoadResult> {
  const before = { server: cpuSecondsOf(serverPid), postgres: postgresCpuSeconds(), simulator: cpuSecondsOf(simulatorPid), self: process.cpuUsage() };
  const started = performance.now();
  const result = await run();
  const wall = (performance.now() - started) / 1000;
  const self = process.cpuUsage(before.self);
  const cpu: CpuShare = {
    server: (cpuSecondsOf(serverPid) - before.server) / wall,
    postgres: (postgresCpuSeconds() - before.postgres) / wall,
    simulator: (cpuSecondsOf(simulatorPid) - before.simulator) / wall,
    loadGenerator: (self.user + self.system) / 1e6 / wall,
  };
  return { ...result, cpu };
}

/** A service under load: the current tree's, or the --against revision's. */
interface Service {
  /** In profile names: "" for the current one, ".against-<sha>" for the other. */
  suffix: string;
  child: Child;
  url: string;
  pid: number;
  dbUrl: string;
  db: postgres.Sql;
  /** Requests sent to it so far, per route: drain() waits until it has finished them. */
  sent: { requestAuth: number; validate: number };
  idleRssMb: number;
  atStart: ServiceMemory;
}

async function main(): Promise<Measurements> {
  // The service runs compiled, as `node dist/server.js` does in the Docker image: tsx's
  // loader would add its own memory and start-up work to every figure. Its own output
  // folder, so that tests building dist/ at the same time are not disturbed.
  const currentDist = join(root, "bench/tmp/dist");
  const checkout = againstRev ? await checkOut(root, againstRev) : undefined;
  await Promise.all([build(root, currentDist), ...(checkout ? [build(checkout.dir, join(checkout.dir, "dist"))] : [])]);
  const machine = await machineInfo(databases.admin);

  const accountSid = `AC${randomBytes(16).toString("hex")}`;
  const authToken = randomBytes(16).toString("hex");
  const sim = await startChild("./simulator-process.ts", { SIM_ACCOUNT_SID: accountSid, SIM_AUTH_TOKEN: authToken });
  children.push(sim);

  const apiKey = randomBytes(24).toString("hex");
  const secretKey = randomBytes(32).toString("hex");
  /** Starts a build's service on a fresh database of its own, which its own migrations set up. */
  async function startService(suffix: string, dist: string, cwd: string, nodeFlags: string[]): Promise<Service> {
    const { url: dbUrl, sql } = await databases.create();
    const { child, url, pid } = await startServiceChild({
      dist,
      cwd,
      nodeFlags,
      databaseUrl: dbUrl,
      apiKey,
      secretKey,
      simulator: { url: String(sim.ready.url), accountSid, authToken },
      logLevel,
    });
    children.push(child);
    return {
      suffix,
      child,
      url,
      pid,
      dbUrl,
      db: sql,
      sent: { requestAuth: 0, validate: 0 },
      idleRssMb: memoryOf(pid).rssMb,
      atStart: await child.call<ServiceMemory>("memory"),
    };
  }
  const current = await startService("", currentDist, root, imageNodeFlags(root));
  const againstFlags = checkout ? imageNodeFlags(checkout.dir) : [];
  const against = checkout ? await startService(`.against-${checkout.sha.slice(0, 7)}`, join(checkout.dir, "dist"), checkout.dir, againstFlags) : undefined;
  const services = against ? [current, against] : [current];
  /**
   * Runs a scenario on each service in turn, the order swapped from one scenario to the
   * next so that neither always runs first (the machine's speed drifts); results in the
   * order of `services`.
   */
  let scenarioCount = 0;
  async function eachService<T>(run: (s: Service) => Promise<T>): Promise<T[]> {
    const order = scenarioCount++ % 2 ? [...services].reverse() : services;
    const out = new Map<Service, T>();
    for (const s of order) out.set(s, await run(s));
    return services.map((s) => out.get(s)!);
  }

  // The references use the current service's database.
  const db = current.db;
  await db.unsafe(`create table reference_calls (
    id bigserial primary key, number text not null, status text not null, call_sid text, call_status text,
    created_at timestamptz not null default now())`);
  await db.unsafe(`create index on reference_calls (number, created_at)`);
  const reference = await startChild("./reference-process.ts", {
    DATABASE_URL: current.dbUrl,
    POOL_SIZE: "10",
    SIM_URL: String(sim.ready.url),
    SIM_ACCOUNT_SID: accountSid,
    SIM_AUTH_TOKEN: authToken,
  });
  children.push(reference);
  const referencePid = Number(reference.ready.pid);
  const headers = { authorization: `Bearer ${apiKey}` };
  if (profileDir) mkdirSync(profileDir, { recursive: true });

  // Numbers: whole calls (they leave the codes validate-auth needs), phones that ring through
  // the run for each carrier speed, and numbers never called.
  const pool = numberPool();
  const share = Math.floor(pool.length / 4);
  const [answered, ringingInstant, ringingSlow, unknown] = [0, 1, 2, 3].map((i) => pool.slice(i * share, (i + 1) * share)) as [
    string[],
    string[],
    string[],
    string[],
  ];
  const RING_THROUGH_THE_RUN = { kind: "no-answer", ringMs: 3_600_000 } as const;
  await sim.call("outcome", { numbers: ringingInstant, outcome: RING_THROUGH_THE_RUN });
  await sim.call("outcome", { numbers: ringingSlow, outcome: { ...RING_THROUGH_THE_RUN, apiDelayMs: CARRIER_DELAY_MS } });

  async function measure(s: Service, name: string, run: () => Promise<LoadResult>) {
    if (profileDir) await s.child.call("profileStart");
    const result = await withCpu(s.pid, sim.pid, run);
    if (profileDir) await s.child.call("profileStop", { file: `${root}${profileDir}/${name}${s.suffix}.cpuprofile` });
    return result;
  }

  async function requestAuthRun(s: Service, name: string, numbers: string[], delayMs: number, connections: number): Promise<RequestAuthRun> {
    const before = await sim.call<{ calls: number; webhooks: number; webhookErrors: number }>("stats");
    const bodies = cycle(numbers.map((number) => JSON.stringify({ number })));
    const result = await measure(s, name, () =>
      load({ url: s.url, path: "/request-auth", connections, seconds, headers, nextBody: bodies, watchPid: s.pid }),
    );
    s.sent.requestAuth += result.sent;
    await drain(s.url, "/request-auth", s.sent.requestAuth);
    const memory = await s.child.call<ServiceMemory>("memory");
    // Webhooks of answered calls go on after the load stops; the next run starts without them.
    const { open } = await sim.call<{ open: number }>("idle", { timeoutMs: 60_000 });
    const after = await sim.call<{ calls: number; webhooks: number; webhookErrors: number; sampleError?: string }>("stats");
    return {
      delayMs,
      result,
      memory,
      calls: after.calls - before.calls,
      webhooks: after.webhooks - before.webhooks,
      webhookErrors: after.webhookErrors - before.webhookErrors,
      sampleWebhookError: after.sampleError,
      unfinishedCalls: open,
    };
  }

  // First whole calls, answered and played through: they warm the services up and leave the
  // pending challenges (and the codes their phones heard) that validate-auth checks.
  const wholeCalls = await eachService((s) => requestAuthRun(s, "request-auth-whole-calls", answered, 0, 64));
  // A fresh database has no statistics until autovacuum's first ANALYZE (up to a minute
  // later), and statements planned blind keep scanning more rows as the table fills
  // (the issue function took 3x longer). A deployment's tables have statistics; so does
  // the reference's table before its run.
  for (const s of services) await s.db.unsafe("analyze");
  // With the slow carrier, the reference places the same calls just before and just after
  // the services' runs: the floor the machine sets for a route that waits 300 ms on a carrier
  // while the simulator, PostgreSQL and autocannon share its cores.
  const referenceCalls = async (connections: number, s: number) => {
    const bodies = cycle(ringingSlow.map((number) => JSON.stringify({ number })));
    const result = await withCpu(referencePid, sim.pid, () =>
      load({ url: reference.ready.url as string, path: "/request-auth", connections, seconds: s, headers: {}, nextBody: bodies }),
    );
    const deadline = Date.now() + 10_000;
    while ((await reference.call<number>("placing")) > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    await sim.call("idle", { timeoutMs: 60_000 });
    return result;
  };
  if (warmupSeconds) await referenceCalls(64, warmupSeconds);
  const requestAuth: RequestAuthRun[][] = services.map(() => []);
  for (const [delayMs, numbers] of [[0, ringingInstant], [CARRIER_DELAY_MS, ringingSlow]] as const) {
    for (const connections of [64, 256]) {
      const before = delayMs ? await referenceCalls(connections, seconds) : undefined;
      const runs = await eachService((s) => requestAuthRun(s, `request-auth-${delayMs}ms-${connections}`, numbers, delayMs, connections));
      if (before) {
        const refRuns = [before, await referenceCalls(connections, seconds)];
        // The reference brackets every service's run: each is compared with it.
        for (const run of runs) run.reference = { result: meanOf(refRuns), runs: refRuns };
      }
      runs.forEach((run, i) => requestAuth[i]!.push(run));
    }
  }

  // The validation mix, from every challenge left pending: the whole calls' codes as their phones
  // heard them, the ringing ones' unsealed with the service's key (the phone never heard those).
  // Both revisions share the challenges table's schema and get the same key, so the current
  // tree's unsealing reads either's rows; a row it cannot unseal falls back on the code heard.
  const heard = new Map(await sim.call<Array<[string, string]>>("codes"));
  const keys = deriveCodeKeys(secretKey);
  async function validationMix(s: Service) {
    // A whole call's sealed copy is wiped when the call ends: its code is the one its phone heard.
    const pending = await s.db<{ id: string; number: string; code_sealed: string | null }[]>`
      select id, number, code_sealed from challenges where status = 'pending' order by number`;
    let misheard = 0;
    let checkedByEar = 0;
    const withCode = pending.flatMap((p) => {
      const unsealed = p.code_sealed ? unsealCode(keys, p.id, p.code_sealed) : null;
      const code = unsealed ?? heard.get(p.id);
      if (heard.has(p.id)) checkedByEar++;
      if (unsealed && heard.has(p.id) && heard.get(p.id) !== unsealed) misheard++;
      return code ? [{ number: p.number, code }] : [];
    });
    if (misheard) throw new Error(`${misheard} phones heard another code than the one stored: the benchmark's setup is wrong`);
    if (withCode.length < 2) throw new Error(`only ${withCode.length} pending challenges: too few to validate`);
    const rightBodies = withCode.filter((_, i) => i % 2 === 0).map((c) => JSON.stringify({ number: c.number, auth_code: c.code }));
    const wrongBodies = withCode
      .filter((_, i) => i % 2 === 1)
      .map((c) => JSON.stringify({ number: c.number, auth_code: c.code.slice(0, -1) + ((Number(c.code.at(-1)) + 1) % 10) }));
    const nobodyBodies = unknown.map((number) => JSON.stringify({ number, auth_code: "123456" }));
    // Of every 10 requests: 5 right codes (each approves once; the second time round there is
    // nothing pending), 3 wrong codes (until a challenge's 20 guesses are spent), 2 numbers never
    // called. Service and reference each get the same sequence from its start. The warm-up
    // sends no right code, so that every right code is still unused when the measured run starts.
    const mixOf = (warmup = false) => {
      const [right, wrong, nobody] = [cycle(rightBodies), cycle(wrongBodies), cycle(nobodyBodies)];
      const r = warmup ? nobody : right;
      const pattern = cycle([r, wrong, r, nobody, r, wrong, r, nobody, r, wrong]);
      return () => pattern()();
    };
    return { mixOf, pendingWithCode: withCode.length, heardCodes: checkedByEar };
  }
  const mixes = new Map<Service, Awaited<ReturnType<typeof validationMix>>>();
  for (const s of services) mixes.set(s, await validationMix(s));

  // The reference works on a copy of the current service's rows, taken before validation changes them.
  await db.unsafe(`create table reference_challenges (like challenges including all)`);
  await db.unsafe(`insert into reference_challenges select * from challenges`);
  await db.unsafe(`analyze challenges; analyze reference_challenges`);
  for (const s of services) if (s !== current) await s.db.unsafe("analyze challenges");

  const validateLoad = (url: string, nextBody: () => string, s: number, watchPid?: number) =>
    load({ url, path: "/validate-auth", connections: VALIDATE_CONNECTIONS, seconds: s, headers, nextBody, watchPid });
  const validateService = async (s: Service, mix: () => string, duration: number, watchPid?: number) => {
    const result = await validateLoad(s.url, mix, duration, watchPid);
    s.sent.validate += result.sent;
    await drain(s.url, "/validate-auth", s.sent.validate);
    return result;
  };
  // The reference runs just before and just after the services' validation runs, and a
  // service is compared with the mean of the two: the machine's speed drifts (autovacuum,
  // checkpoints, the host), and a reference measured on one side only made the same build
  // read anywhere from 0.41 to 0.66 of it.
  const referenceMix = mixes.get(current)!.mixOf;
  const referenceRun = () =>
    withCpu(referencePid, sim.pid, () => validateLoad(reference.ready.url as string, referenceMix(), seconds, referencePid));
  if (warmupSeconds) await validateLoad(reference.ready.url as string, referenceMix(true), warmupSeconds);
  const referenceBefore = await referenceRun();

  const validations = await eachService(async (s) => {
    const { mixOf } = mixes.get(s)!;
    if (warmupSeconds) await validateService(s, mixOf(true), warmupSeconds);
    const reasonsBefore = await counters(s.url, "voice_otp_validations_total");
    const result = await measure(s, "validate-auth", () => validateService(s, mixOf(), seconds, s.pid));
    const memory = await s.child.call<ServiceMemory>("memory");
    const reasonsAfter = await counters(s.url, "voice_otp_validations_total");
    const reasons: Record<string, number> = {};
    for (const [k, v] of reasonsAfter) if (v - (reasonsBefore.get(k) ?? 0) > 0) reasons[k] = v - (reasonsBefore.get(k) ?? 0);
    // Peak RSS over the service's whole life: every request-auth run and this one.
    const peakMb = memoryOf(s.pid).peakMb;
    const afterGc = await s.child.call<ServiceMemory>("memory", { gc: true });
    return { validate: { result, reasons, memory }, peakMb, afterGc };
  });

  const referenceAfter = await referenceRun();
  const referencePeakMb = memoryOf(referencePid).peakMb;

  const runsOf = (i: number): ServiceRuns => {
    const s = services[i]!;
    const v = validations[i]!;
    return {
      pendingWithCode: mixes.get(s)!.pendingWithCode,
      heardCodes: mixes.get(s)!.heardCodes,
      validate: v.validate,
      requestAuth: requestAuth[i]!,
      wholeCalls: wholeCalls[i]!,
      rss: { idleMb: s.idleRssMb, peakMb: v.peakMb, atStart: s.atStart, afterGc: v.afterGc },
    };
  };
  return {
    machine,
    mode: quick ? "quick" : "full",
    seconds,
    warmupSeconds,
    logLevel,
    ...runsOf(0),
    reference: { result: meanOf([referenceBefore, referenceAfter]), runs: [referenceBefore, referenceAfter], peakRssMb: referencePeakMb },
    against: checkout ? { rev: checkout.rev, sha: checkout.sha, nodeFlags: againstFlags, ...runsOf(1) } : undefined,
  };
}

let exitCode = 0;
try {
  const measured = await main();
  const table = printReport(measured);
  if (!flag("no-write")) writeReport(measured, table);
} catch (err) {
  console.error(`benchmark failed: ${(err as Error).stack ?? err}`);
  for (const c of children) if (c.stderr().trim()) console.error(`--- stderr of child ${c.pid}:\n${c.stderr().trim()}`);
  exitCode = 1;
} finally {
  await cleanUp();
}
process.exit(exitCode);
