import { randomBytes, randomUUID } from "node:crypto";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { scratchDatabases } from "./databases.js";
import { numberPool } from "./numbers.js";
import { busyShare, cpuSecondsOf, machineCpuTimes, memoryOf, postgresCpuSeconds, startChild, type Child } from "./processes.js";
import { machineInfo } from "./report.js";
import { build, imageNodeFlags, stopCommands } from "./revisions.js";
import { startServiceChild } from "./service.js";
import { fixedRate, MinuteRecorder } from "./soak-load.js";
import { databaseState, scrapeMetrics, startEventReceiver, type EventReceiver } from "./soak-probes.js";
import { minuteText, verdictText, writeSoakReport, type SoakSetup } from "./soak-report.js";
import { instanceName, overall, parseSoakArgs, soakVerdict, SOAK_USAGE, type MinuteSample } from "./soak-verdict.js";

/**
 * `npm run soak -- --help` lists the options.
 *
 * Two instances of the compiled service share one fresh PostgreSQL database and place
 * their calls through the Twilio SDK to the carrier simulator, whose phones answer after
 * a second and play the call through (its status callbacks and voice webhook are the
 * webhooks of the mix). This process sends request-auth and validate-auth at fixed rates,
 * alternating between the instances, validates with the codes the phones heard, receives
 * the instances' event webhooks, and prints each minute's latencies, memory, database
 * connections and tables, then the verdict; bench/soak.md gets the same unless --no-write.
 */
const parsed = parseSoakArgs(process.argv.slice(2));
if (parsed.kind === "help") {
  console.log(SOAK_USAGE);
  process.exit(0);
}
if (parsed.kind === "error") {
  console.error(`${parsed.message}\n\n${SOAK_USAGE}`);
  process.exit(2);
}
const { minutes, rate, write } = parsed.options;
const command = `npm run soak${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(" ")}` : ""}`;

// The sweep every 10 s with a retention of a minute (instead of every 30 s and RETENTION_HOURS),
// and codes that expire after 30 s (the shortest allowed): rows made at the start are purged
// within two minutes, so a run of minutes shows whether the sweep keeps up.
const RETENTION_SECONDS = 60;
const SWEEP_SECONDS = 10;
const CODE_TTL_SECONDS = 30;
const SETTLE_SECONDS = CODE_TTL_SECONDS + RETENTION_SECONDS + 2 * SWEEP_SECONDS;
// The phones ring a second before answering, so each call is still open while others start.
const RING_MS = 1000;
const REQUEST_TIMEOUT_MS = 10_000;
const INSTANCES = 2;
const setup: SoakSetup = {
  instances: INSTANCES,
  rate,
  ringMs: RING_MS,
  codeTtlSeconds: CODE_TTL_SECONDS,
  sweepSeconds: SWEEP_SECONDS,
  retentionSeconds: RETENTION_SECONDS,
  requestTimeoutMs: REQUEST_TIMEOUT_MS,
  autovacuum: true,
};

const root = fileURLToPath(new URL("..", import.meta.url));
const databases = scratchDatabases("soak");
const children: Child[] = [];
let receiver: EventReceiver | undefined;
/** Whether to keep asking the simulator for the codes its phones heard. */
let polling = true;

let cleaning: Promise<void> | undefined;
function cleanUp(): Promise<void> {
  cleaning ??= (async () => {
    polling = false;
    stopCommands();
    for (const c of children.reverse()) await c.stop().catch(() => {});
    await receiver?.close();
    await databases.dropAll();
  })();
  return cleaning;
}
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => void cleanUp().finally(() => process.exit(130)));
}

async function main() {
  const dist = join(root, "bench/tmp/soak-dist");
  console.log("building the service…");
  await build(root, dist);
  const machine = await machineInfo(databases.admin);
  if (machine.busyBefore > 0.1) console.warn(`warning: the CPUs were ${Math.round(machine.busyBefore * 100)} % busy before the run started`);
  setup.autovacuum = !/\bautovacuum=off\b/.test(machine.postgresSettings);
  if (!setup.autovacuum) console.warn("warning: autovacuum is off on this server: dead tuples and table sizes will grow whatever the sweep does");

  const accountSid = `AC${randomBytes(16).toString("hex")}`;
  const authToken = randomBytes(16).toString("hex");
  const sim = await startChild("./simulator-process.ts", { SIM_ACCOUNT_SID: accountSid, SIM_AUTH_TOKEN: authToken });
  children.push(sim);
  const pool = numberPool();
  // Numbers never called, for validate-auth when no heard code is waiting; the rest are called in turn.
  const neverCalled = pool.slice(-2000);
  const called = pool.slice(0, -2000);
  await sim.call("outcome", { numbers: called, outcome: { kind: "answer", ringMs: RING_MS } });

  const webhookSecret = `whsec_${randomBytes(32).toString("base64")}`;
  const events = (receiver = await startEventReceiver(webhookSecret));
  const db = await databases.create();
  const apiKey = randomBytes(24).toString("hex");
  const secretKey = randomBytes(32).toString("hex");
  const instances: Array<{ url: string; pid: number }> = [];
  // One after the other: the first applies the migrations.
  for (let i = 0; i < INSTANCES; i++) {
    const s = await startServiceChild({
      dist,
      cwd: root,
      nodeFlags: imageNodeFlags(root),
      databaseUrl: db.url,
      apiKey,
      secretKey,
      simulator: { url: String(sim.ready.url), accountSid, authToken },
      logLevel: "warn",
      env: {
        OTP_TTL_SECONDS: String(CODE_TTL_SECONDS),
        WEBHOOK_URL: events.url,
        WEBHOOK_SECRET: webhookSecret,
        BENCH_HOUSEKEEPING: JSON.stringify({ intervalMs: SWEEP_SECONDS * 1000, retentionHours: RETENTION_SECONDS / 3600 }),
      },
    });
    children.push(s.child);
    instances.push(s);
  }
  console.log(`machine: ${machine.cpu}, ${machine.cores} cores; ${instances.length} instances on database ${db.name}`);
  console.log(`${minutes} minutes: request-auth ${rate}/s, validate-auth ${2 * rate}/s, round-robin over the instances\n`);

  // --- the load ---
  const recorder = new MinuteRecorder();
  const inFlight = new Set<Promise<void>>();
  const headers = { authorization: `Bearer ${apiKey}`, "content-type": "application/json" };
  let turn = 0;
  const send = (op: string, body: string, scheduledAt: number, extra: Record<string, string> = {}) => {
    const target = instances[turn++ % instances.length]!;
    const p = (async () => {
      let status: number | "failed" = "failed";
      let json: unknown;
      try {
        const res = await fetch(`${target.url}/${op}`, { method: "POST", headers: { ...headers, ...extra }, body, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
        status = res.status;
        json = await res.json().catch(() => undefined);
      } catch {
        // No answer: counted as "failed".
      }
      recorder.record(op, performance.now() - scheduledAt, status);
      return { status, json };
    })();
    const tracked = p.then(() => undefined);
    inFlight.add(tracked);
    void tracked.finally(() => inFlight.delete(tracked));
    return p;
  };

  // Codes the phones heard wait here for validate-auth: every other challenge gets a wrong
  // guess before its right code. When none waits, a number never called is tried.
  const toValidate: Array<{ kind: "right" | "wrong"; body: string }> = [];
  const outcomes: Record<string, Record<string, number>> = { right: {}, wrong: {}, "never called": {} };
  let heardCount = 0;
  let withoutCode = 0;
  let nextCalled = 0;
  let nextUnknown = 0;
  const poll = (async () => {
    while (polling) {
      const { heard, withoutCode: missed } = await sim.call<{ heard: Array<[string, string, string]>; withoutCode: number }>("newCodes");
      withoutCode += missed;
      for (const [id, code, number] of heard) {
        const k = heardCount++;
        const who = k % 2 ? { id } : { number };
        if (Math.floor(k / 2) % 2) {
          const wrong = code.slice(0, -1) + ((Number(code.at(-1)) + 1) % 10);
          toValidate.push({ kind: "wrong", body: JSON.stringify({ ...who, auth_code: wrong }) });
        }
        toValidate.push({ kind: "right", body: JSON.stringify({ ...who, auth_code: code }) });
      }
      await new Promise((r) => setTimeout(r, 200));
    }
  })();
  // The simulator gone: the next minute's sample stops the run.
  let pollError: Error | undefined;
  poll.catch((err: Error) => (pollError = err));

  const startedAt = new Date();
  const startAt = performance.now();
  const endAt = startAt + minutes * 60_000;
  const requestAuth = fixedRate(rate, startAt, endAt, (at) => {
    const number = called[nextCalled++ % called.length]!;
    // Every other request carries an Idempotency-Key, as a client that retries sends one.
    void send("request-auth", JSON.stringify({ number }), at, nextCalled % 2 ? { "idempotency-key": randomUUID() } : {});
  });
  const validateAuth = fixedRate(2 * rate, startAt, endAt, (at) => {
    const next = toValidate.shift() ?? {
      kind: "never called" as const,
      body: JSON.stringify({ number: neverCalled[nextUnknown++ % neverCalled.length], auth_code: "123456" }),
    };
    void send("validate-auth", next.body, at).then(({ status, json }) => {
      const reason = (json as { reason?: unknown } | undefined)?.reason;
      const key = typeof reason === "string" ? `${status} ${reason}` : String(status);
      outcomes[next.kind]![key] = (outcomes[next.kind]![key] ?? 0) + 1;
    });
  });

  // --- a sample at the end of every minute ---
  const samples: MinuteSample[] = [];
  /** CPU seconds used so far by each part, and the machine's CPU times. */
  const cpuNow = () => {
    const self = process.cpuUsage();
    return {
      at: performance.now(),
      instances: instances.map((s) => cpuSecondsOf(s.pid)),
      simulator: cpuSecondsOf(sim.pid),
      self: (self.user + self.system) / 1e6,
      postgres: postgresCpuSeconds(),
      machine: machineCpuTimes(),
    };
  };
  let before = {
    served: instances.map(() => ({ served: 0, served5xx: 0 })),
    webhooks: 0,
    webhookFailures: 0,
    events: 0,
    cpu: cpuNow(),
  };
  const sample = async (minute: number): Promise<MinuteSample> => {
    if (pollError) throw pollError;
    const load = recorder.take();
    const cpu = cpuNow();
    const cores = (f: (c: typeof cpu) => number) => (f(cpu) - f(before.cpu)) / ((cpu.at - before.cpu.at) / 1000);
    const answered = await Promise.all(instances.map((s) => scrapeMetrics(s.url, REQUEST_TIMEOUT_MS)));
    // An instance that did not answer keeps its last counts: what it served counts in the next minute.
    const scraped = answered.map((m, i) => m ?? { ...before.served[i]!, heapUsedMb: NaN, heapTotalMb: NaN });
    const stats = await sim.call<{ webhooks: number; webhookErrors: number }>("stats");
    const dbState = await databaseState(db.sql);
    const s: MinuteSample = {
      minute,
      ...load,
      served: scraped.reduce((t, m, i) => t + m.served - before.served[i]!.served, 0),
      served5xx: scraped.reduce((t, m, i) => t + m.served5xx - before.served[i]!.served5xx, 0),
      metricsUnanswered: answered.filter((m) => m === undefined).length,
      webhooks: stats.webhooks - before.webhooks,
      webhookFailures: stats.webhookErrors - before.webhookFailures,
      events: events.counts.received - before.events,
      instances: instances.map((inst, i) => ({
        rssMb: memoryOf(inst.pid).rssMb,
        heapUsedMb: scraped[i]!.heapUsedMb,
        heapTotalMb: scraped[i]!.heapTotalMb,
        cpuCores: cores((c) => c.instances[i]!),
      })),
      cpu: { simulator: cores((c) => c.simulator), loadGenerator: cores((c) => c.self), postgres: cores((c) => c.postgres) },
      machineBusy: busyShare(before.cpu.machine, cpu.machine),
      ...dbState,
    };
    before = { served: scraped, webhooks: stats.webhooks, webhookFailures: stats.webhookErrors, events: events.counts.received, cpu };
    return s;
  };
  for (let minute = 1; minute <= minutes; minute++) {
    if (minute < minutes) await new Promise((r) => setTimeout(r, startAt + minute * 60_000 - performance.now()));
    else {
      // The last minute takes in the answers still on their way when the schedule ends.
      await Promise.all([requestAuth, validateAuth]);
      while (inFlight.size) await Promise.allSettled([...inFlight]);
    }
    const s = await sample(minute);
    samples.push(s);
    console.log(minuteText(s));
  }
  polling = false;
  await poll;
  const { sampleError } = await sim.call<{ sampleError?: string }>("stats");

  const verdict = soakVerdict(samples, { settleSeconds: SETTLE_SECONDS });
  console.log(`\n${verdictText(verdict)}`);
  const total = (o: Record<string, number>) => Object.values(o).reduce((a, b) => a + b, 0);
  const outcomeText = (k: string) =>
    `${k} ${total(outcomes[k]!).toLocaleString("en-US")} (${Object.entries(outcomes[k]!)
      .map(([st, n]) => `${st}: ${n.toLocaleString("en-US")}`)
      .join(", ")})`;
  const details = [
    `Calls placed ${nextCalled.toLocaleString("en-US")}; codes heard by the simulated phones ${heardCount.toLocaleString("en-US")}; calls ended without a code heard ${withoutCode.toLocaleString("en-US")}.`,
    `validate-auth by what it sent: ${["right", "wrong", "never called"].map(outcomeText).join("; ")}.`,
    `Event webhooks received ${events.counts.received.toLocaleString("en-US")}, signatures refused by the standardwebhooks package ${events.counts.badSignatures}.`,
    ...(sampleError ? [`The first carrier webhook that failed: ${sampleError}.`] : []),
  ];
  for (const d of details) console.log(d);
  if (write) {
    writeSoakReport({
      machine,
      command,
      startedAt,
      samples,
      verdict,
      details,
      setup,
    });
    console.log("\nwrote bench/soak.md");
  }
  return overall(verdict);
}

let exitCode = 0;
try {
  const result = await main();
  // A run that does not meet its criteria is a finding, not a failure of the script.
  if (result === "not met") console.log("(the soak's criteria were not all met: see the verdict)");
} catch (err) {
  // Interrupted: the clean-up under way stopped the children, which is what failed.
  if (cleaning) await cleaning.finally(() => process.exit(130));
  console.error(`soak failed: ${(err as Error).stack ?? err}`);
  for (const c of children) if (c.stderr().trim()) console.error(`--- stderr of child ${c.pid}:\n${c.stderr().trim()}`);
  exitCode = 1;
} finally {
  await cleanUp();
}
process.exit(exitCode);
