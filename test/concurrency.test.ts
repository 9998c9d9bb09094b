import { sql } from "drizzle-orm";
import postgres from "postgres";
import { afterEach, describe, expect, it } from "vitest";
import { openDatabase, type Database } from "../src/db/open.js";
import type { ChallengeDeps, ServiceRules } from "../src/otp/deps.js";
import { defaultService } from "../src/services/settings.js";
import { issueChallenge } from "../src/otp/issue.js";
import { checkCode } from "../src/otp/check-code.js";
import { manualClock } from "./helpers/clock.js";
import { deriveCodeKeys, unsealCode } from "../src/otp/codes.js";
import { loadConfig } from "../src/config/index.js";
import { createPostgresDatabase, databaseKinds, freshPglite, type DbKind } from "./helpers/databases.js";

type Instance = ChallengeDeps & { service: ServiceRules };

/**
 * Service instances on one fresh database, each with its own pool and clock, the clocks 0.5 s apart: `count` on PostgreSQL, one on PGlite (which one
 * process alone can open).
 */
async function openInstances(kind: DbKind, cleanups: Array<() => Promise<void>>, env: Record<string, string>, count: number) {
  const config = loadConfig({ NODE_ENV: "test", SECRET_KEY: "concurrency-test-secret-0123456789abcdef", ...env });
  const opened: Database[] = [];
  let url = "";
  if (kind === "pglite") {
    opened.push(await openDatabase({ dataDir: "memory://", pglite: await freshPglite() }));
  } else {
    const pg = await createPostgresDatabase();
    cleanups.push(() => pg.drop());
    url = pg.url;
    for (let i = 0; i < count; i++) opened.push(await openDatabase({ databaseUrl: url, dataDir: "memory://" }));
  }
  const start = Date.now();
  const instances = opened.map((database, i) => {
    cleanups.push(() => database.close());
    const clock = manualClock(new Date(start + i * 500));
    return { database, keys: deriveCodeKeys(config.secretKey!), clock, limits: config.limits, service: defaultService(config) } satisfies ChallengeDeps & { service: ServiceRules };
  });
  return { instances, url };
}

/**
 * Guesses sent at once: each is judged on its own challenge, counted once, and never
 * lost, whether it names the challenge by number or by id.
 */
describe.each(await databaseKinds())("guesses checked at once on %s", (kind: DbKind) => {
  const cleanups: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const c of cleanups.reverse()) await c();
    cleanups.length = 0;
  });

  const open = async (): Promise<Instance> => (await openInstances(kind, cleanups, { OTP_MAX_ATTEMPTS: "3" }, 1)).instances[0]!;

  async function issue(deps: Instance, number: string) {
    const issued = await issueChallenge(deps, { service: deps.service, number, language: "en", gate: false, carrier: "simulator" });
    if (issued.kind !== "issued") throw new Error(`not issued: ${issued.kind}`);
    const [row] = await deps.database.rows<{ code_sealed: string }>(sql`select code_sealed from challenges where id = ${issued.id}`);
    return { id: issued.id, code: unsealCode(deps.keys, issued.id, row!.code_sealed)! };
  }
  const wrong = (code: string) => code.slice(0, -1) + ((Number(code.at(-1)) + 1) % 10);

  it("judges each of several guesses sent at once on its own challenge", async () => {
    const deps = await open();
    const numbers = ["+14155550101", "+14155550102", "+14155550103", "+14155550104"];
    const issued = await Promise.all(numbers.map((n) => issue(deps, n)));
    const results = await Promise.all([
      checkCode(deps, deps.service, { number: numbers[0]! }, issued[0]!.code),
      checkCode(deps, deps.service, { number: numbers[1]! }, wrong(issued[1]!.code)),
      checkCode(deps, deps.service, { id: issued[2]!.id }, issued[2]!.code),
      checkCode(deps, deps.service, { id: issued[3]!.id }, wrong(issued[3]!.code)),
      checkCode(deps, deps.service, { number: "+14155550199" }, "123456"),
      checkCode(deps, deps.service, { id: "ch_nothing_by_this_id_000" }, "123456"),
    ]);
    expect(results).toEqual([
      { kind: "approved", id: issued[0]!.id, number: numbers[0] },
      { kind: "denied", reason: "incorrect", attemptsRemaining: 2, id: issued[1]!.id },
      { kind: "approved", id: issued[2]!.id, number: numbers[2] },
      { kind: "denied", reason: "incorrect", attemptsRemaining: 2, id: issued[3]!.id },
      { kind: "denied", reason: "no_pending_challenge", attemptsRemaining: 0, unknown: true },
      { kind: "denied", reason: "no_pending_challenge", attemptsRemaining: 0, unknown: true },
    ]);
    const rows = await deps.database.rows<{ number: string; status: string; attempts: number; wiped: boolean }>(sql`
      select number, status, attempts, code_mac is null as wiped from challenges order by number`);
    expect(rows).toEqual([
      { number: numbers[0], status: "approved", attempts: 0, wiped: true },
      { number: numbers[1], status: "pending", attempts: 1, wiped: false },
      { number: numbers[2], status: "approved", attempts: 0, wiped: true },
      { number: numbers[3], status: "pending", attempts: 1, wiped: false },
    ]);
  });

  it("counts every one of several wrong guesses at one challenge sent at once, by number and by id", async () => {
    const deps = await open();
    const { id, code } = await issue(deps, "+14155550111");
    const target = (i: number) => (i % 2 ? { id } : { number: "+14155550111" });
    const results = await Promise.all(Array.from({ length: 5 }, (_, i) => checkCode(deps, deps.service, target(i), wrong(code))));
    // Three attempts: three guesses are counted, one each, and the rest find the challenge spent.
    const incorrect = results.filter((r) => r.kind === "denied" && r.reason === "incorrect");
    expect(incorrect.map((r) => (r as { attemptsRemaining: number }).attemptsRemaining).sort()).toEqual([0, 1, 2]);
    expect(results.filter((r) => r.kind === "denied" && r.reason === "too_many_attempts")).toHaveLength(2);
    const [row] = await deps.database.rows<{ status: string; attempts: number }>(sql`select status, attempts from challenges where id = ${id}`);
    expect(row).toEqual({ status: "too_many_attempts", attempts: 3 });
  });

  it("approves a right code once when it is sent many times at once", async () => {
    const deps = await open();
    const { id, code } = await issue(deps, "+14155550121");
    const results = await Promise.all(Array.from({ length: 6 }, (_, i) => checkCode(deps, deps.service, i % 2 ? { id } : { number: "+14155550121" }, code)));
    expect(results.filter((r) => r.kind === "approved")).toEqual([{ kind: "approved", id, number: "+14155550121" }]);
    expect(results.filter((r) => r.kind !== "approved").map((r) => (r as { reason: string }).reason)).toEqual(Array(5).fill("no_pending_challenge"));
  });

  it("checks hundreds of guesses sent at once", async () => {
    const deps = await open();
    const { id, code } = await issue(deps, "+14155550131");
    const results = await Promise.all(
      Array.from({ length: 600 }, (_, i) =>
        i === 599 ? checkCode(deps, deps.service, { number: "+14155550131" }, code) : checkCode(deps, deps.service, { number: `+1202555${String(i).padStart(4, "0")}` }, "123456"),
      ),
    );
    expect(results[599]).toEqual({ kind: "approved", id, number: "+14155550131" });
    expect(results.slice(0, 599).every((r) => r.kind === "denied" && r.reason === "no_pending_challenge")).toBe(true);
  });
});

/**
 * Issuing (src/otp/issue.ts): many requests at once, for the same numbers and
 * ranges, spread over several instances sharing one PostgreSQL database (each with its
 * own pool and clock, the clocks a little apart), or through one on PGlite.
 * Every window (a number's, a range's, an end-user address's) admits exactly its
 * limit, never one more, and each number keeps one pending challenge. Without the
 * range lock the range admitted 51 of 40, without the address lock 31 of 30.
 */
describe.each(await databaseKinds())("challenges issued at once on %s", (kind: DbKind) => {
  const cleanups: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const c of cleanups.reverse()) await c();
    cleanups.length = 0;
  });

  let postgresUrl = "";
  async function instances(env: Record<string, string>) {
    const opened = await openInstances(kind, cleanups, env, 4);
    postgresUrl = opened.url;
    return opened.instances;
  }

  it("admits exactly each window's limit to hundreds of requests at once, and leaves one pending challenge per number", async () => {
    const all = await instances({
      RESEND_COOLDOWN_SECONDS: "0",
      CALLS_PER_NUMBER_PER_10_MIN: "3",
      CALLS_PER_NUMBER_PER_DAY: "5",
      CALLS_PER_PREFIX_PER_HOUR: "40",
      CALLS_PER_IP_PER_HOUR: "30",
    });
    // 200 numbers of one range, one request each (no two share a row, so only the range's
    // lock keeps them apart); then 20 numbers in 10 other ranges, 30 requests each.
    const range = Array.from({ length: 200 }, (_, i) => `+1303555${String(200 + i).padStart(4, "0")}`);
    const numbers = ["212", "646", "312", "617", "206", "415", "512", "718", "917", "305"].flatMap((area) => [`+1${area}5550100`, `+1${area}5550101`]);
    // 200 numbers of 200 ranges, one request each, all for one end-user address.
    const spread = Array.from({ length: 200 }, (_, i) => `+1646${String(200 + i)}0100`);
    const wave = async (requests: string[], clientIp?: string) => {
      const shuffled = requests.map((n) => ({ n, r: Math.random() })).sort((a, b) => a.r - b.r).map((x) => x.n);
      const results = await Promise.all(
        shuffled.map(async (number, i) => ({ number, result: await issueChallenge(all[i % all.length]!, { service: all[i % all.length]!.service, number, language: "en", gate: false, carrier: "simulator", clientIp }) })),
      );
      const tally = (numbers: string[]) => {
        const out: Record<string, number> = {};
        for (const { number, result } of results) {
          if (!numbers.includes(number)) continue;
          const k = result.kind === "limited" ? result.limit : result.kind;
          out[k] = (out[k] ?? 0) + 1;
        }
        return out;
      };
      return { issuedPer: (n: string) => results.filter((x) => x.number === n && x.result.kind === "issued").length, tally };
    };
    const pendingPerNumber = async () =>
      all[0]!.database.rows<{ n: number; most: number }>(sql`
        select count(*)::int as n, max(c)::int as most from (select count(*) as c from challenges where status = 'pending' group by number) p`);

    expect((await wave(range)).tally(range)).toEqual({ issued: 40, calls_per_prefix_per_hour: 160 });
    expect((await wave(spread, "203.0.113.9")).tally(spread)).toEqual({ issued: 30, calls_per_ip_per_hour: 170 });
    const first = await wave(numbers.flatMap((n) => Array<string>(30).fill(n)));
    for (const n of numbers) expect(first.issuedPer(n), n).toBe(3);
    expect(first.tally(numbers)).toEqual({ issued: 60, calls_per_number_per_10_min: 540 });
    expect(await pendingPerNumber()).toEqual([{ n: 90, most: 1 }]);

    // Ten minutes on, the day's limit of 5 leaves each number 2 more.
    for (const i of all) i.clock.advance(11 * 60_000);
    const second = await wave(numbers.flatMap((n) => Array<string>(30).fill(n)));
    for (const n of numbers) expect(second.issuedPer(n), n).toBe(2);
    expect(second.tally(numbers)).toEqual({ issued: 40, calls_per_number_per_day: 560 });
    expect(await pendingPerNumber()).toEqual([{ n: 90, most: 1 }]);
  });

  it("never admits more than the day's spend cap to requests at once, without deadlocks, and leaves none of it unused", async () => {
    const all = await instances({ RESEND_COOLDOWN_SECONDS: "0", CALLS_PER_DAY: "50" });
    const issue = (number: string, i: number) => issueChallenge(all[i % all.length]!, { service: all[i % all.length]!.service, number, language: "en", gate: false, carrier: "simulator" });
    const burst = await Promise.all(Array.from({ length: 300 }, (_, i) => issue(`+1718${String(200 + i)}0100`, i)));
    const issued = burst.filter((r) => r.kind === "issued").length;
    expect(issued).toBeLessThanOrEqual(50);
    expect(burst.filter((r) => r.kind === "limited" && r.limit === "calls_per_day")).toHaveLength(300 - issued);
    // Contention waits (or, past its retries, answers busy: never this limit), so any of
    // the cap the burst left is taken by requests one at a time, and no more.
    const trickle: string[] = [];
    for (let i = 0; i < 10; i++) trickle.push((await issue(`+1917${String(200 + i)}0100`, i)).kind);
    expect(issued + trickle.filter((k) => k === "issued").length).toBe(50);
    expect(trickle.at(-1)).toBe("limited");
    const [counted] = await all[0]!.database.rows<{ calls: number }>(sql`select sum(calls)::int as calls from call_counts`);
    expect(counted!.calls).toBe(50);
    if (kind === "postgres") {
      // Statistics reach pg_stat_database when a backend exits: close the pools first.
      for (const d of all) await d.database.close();
      const client = postgres(postgresUrl, { max: 1, onnotice: () => {} });
      try {
        await new Promise((r) => setTimeout(r, 500));
        const [stats] = await client<{ deadlocks: number }[]>`select deadlocks::int from pg_stat_database where datname = current_database()`;
        expect(stats!.deadlocks).toBe(0);
      } finally {
        await client.end();
      }
    }
  });
});
