import { afterEach, describe, expect, it } from "vitest";
import { sql } from "drizzle-orm";
import { createKey, revokeKey } from "../src/keys/api-keys.js";
import { countRequest } from "../src/limits/request-rate.js";
import { databaseKinds, type DbKind } from "./helpers/databases.js";
import { runScript } from "./helpers/process.js";
import { codeHeard, startTestService, type ApiResponse, type TestService } from "./helpers/service.js";

/**
 * Every limit, hit by parallel requests: on PostgreSQL spread over two service
 * instances sharing one database (as behind a load balancer), on PGlite through one.
 */
describe.each(await databaseKinds())("abuse limits on %s", (db: DbKind) => {
  let instances: TestService[] = [];
  afterEach(async () => {
    for (const t of instances.reverse()) await t.close();
    instances = [];
  });

  async function start(env: Record<string, string>) {
    const a = await startTestService({ db, carrier: "twilio", env });
    instances.push(a);
    if (db === "postgres") {
      const b = await startTestService({ db, carrier: "twilio", env, shareWith: a });
      instances.push(b);
    }
    const all = [...instances];
    return {
      a,
      /** The i-th request goes to instance i mod n. */
      on: (i: number) => all[i % all.length]!,
      advance: (ms: number) => all.forEach((t) => t.clock.advance(ms)),
      calls: () => a.simulator.calls().length,
    };
  }

  const parallel = (n: number, fn: (i: number) => Promise<ApiResponse>) => Promise.all(Array.from({ length: n }, (_, i) => fn(i)));
  const ok = (rs: ApiResponse[]) => rs.filter((r) => r.status === 201 || r.status === 200);
  const limited = (rs: ApiResponse[], limit: string) =>
    rs.filter((r) => r.status === 429 && r.body.error.code === "rate_limited" && r.body.error.limit === limit);

  function expectRetryAfter(r: ApiResponse, max: number) {
    const after = Number(r.headers.get("retry-after"));
    expect(after).toBeGreaterThan(0);
    expect(after).toBeLessThanOrEqual(max);
    expect(r.body.error.retry_after_seconds).toBe(after);
  }

  it("holds the resend cooldown", async () => {
    const s = await start({ RESEND_COOLDOWN_SECONDS: "30" });
    const rs = await parallel(10, (i) => s.on(i).api("POST", "/request-auth", { number: "+12125550100" }));
    expect(ok(rs)).toHaveLength(1);
    const refused = limited(rs, "resend_cooldown");
    expect(refused).toHaveLength(9);
    expectRetryAfter(refused[0]!, 30);
    expect(s.calls()).toBe(1);
    s.advance(30_000);
    expect((await s.on(1).api("POST", "/request-auth", { number: "+12125550100" })).status).toBe(201);
  });

  it("holds calls per number per 10 minutes and per day, leaving one pending challenge", async () => {
    const s = await start({ RESEND_COOLDOWN_SECONDS: "0", CALLS_PER_NUMBER_PER_10_MIN: "3", CALLS_PER_NUMBER_PER_DAY: "5" });
    const burst = await parallel(10, (i) => s.on(i).api("POST", "/request-auth", { number: "+12125550101" }));
    expect(ok(burst)).toHaveLength(3);
    const refused = limited(burst, "calls_per_number_per_10_min");
    expect(refused).toHaveLength(7);
    expectRetryAfter(refused[0]!, 600);
    s.advance(600_000);
    const later = await parallel(10, (i) => s.on(i).api("POST", "/request-auth", { number: "+12125550101" }));
    expect(ok(later)).toHaveLength(2);
    expect(limited(later, "calls_per_number_per_day")).toHaveLength(8);
    expect(s.calls()).toBe(5);
    const ids = ok([...burst, ...later]).map((r) => r.body.id as string);
    const statuses = await Promise.all(ids.map(async (id) => (await s.a.api("GET", `/challenges/${id}`)).body.status));
    expect(statuses.filter((x) => x === "pending")).toHaveLength(1);
  });

  it("holds calls per number range per hour", async () => {
    const s = await start({ RESEND_COOLDOWN_SECONDS: "0", CALLS_PER_PREFIX_PER_HOUR: "4" });
    const rs = await parallel(10, (i) => s.on(i).api("POST", "/request-auth", { number: `+1312555010${i}` }));
    expect(ok(rs)).toHaveLength(4);
    expect(limited(rs, "calls_per_prefix_per_hour")).toHaveLength(6);
    expect((await s.on(0).api("POST", "/request-auth", { number: "+13125560100" })).status).toBe(201);
    s.advance(3600_000);
    expect((await s.on(1).api("POST", "/request-auth", { number: "+13125550109" })).status).toBe(201);
  });

  it("holds calls per end-user IP per hour when the backend passes client_ip", async () => {
    const s = await start({ RESEND_COOLDOWN_SECONDS: "0", CALLS_PER_IP_PER_HOUR: "3" });
    const area = ["212", "646", "312", "617", "303", "206", "415", "512"];
    const rs = await parallel(8, (i) =>
      s.on(i).api("POST", "/request-auth", { number: `+1${area[i]}5550111`, client_ip: "203.0.113.7" }),
    );
    expect(ok(rs)).toHaveLength(3);
    expect(limited(rs, "calls_per_ip_per_hour")).toHaveLength(5);
    const other = await s.on(1).api("POST", "/request-auth", { number: "+12065550112", client_ip: "2001:db8::1" });
    expect(other.status).toBe(201);
    const bad = await s.on(0).api("POST", "/request-auth", { number: "+12065550113", client_ip: "300.1.1.1" });
    expect(bad.status).toBe(400);
    expect(bad.body.error.message).toMatch(/^client_ip:/);
  });

  it("holds the global calls-per-day spend guard", async () => {
    const s = await start({ RESEND_COOLDOWN_SECONDS: "0", CALLS_PER_DAY: "4" });
    const area = ["212", "646", "312", "617", "303", "206", "415", "512", "702", "305"];
    const rs = await parallel(10, (i) => s.on(i).api("POST", "/request-auth", { number: `+1${area[i]}5550120` }));
    expect(ok(rs)).toHaveLength(4);
    const refused = limited(rs, "calls_per_day");
    expect(refused).toHaveLength(6);
    expectRetryAfter(refused[0]!, 86_400);
    expect(s.calls()).toBe(4);
    s.advance(86_400_000);
    expect((await s.on(1).api("POST", "/request-auth", { number: "+17025550121" })).status).toBe(201);
  });

  it("holds requests per API key per minute, with a key's own rate", async () => {
    const s = await start({ REQUESTS_PER_KEY_PER_MINUTE: "5" });
    const rs = await parallel(12, (i) => s.on(i).api("GET", "/challenges/ch_unknown"));
    expect(rs.filter((r) => r.status === 404)).toHaveLength(5);
    const refused = limited(rs, "requests_per_key_per_minute");
    expect(refused).toHaveLength(7);
    expectRetryAfter(refused[0]!, 60);

    const { key } = await createKey(s.a.service.deps.database, "slow-backend", { ratePerMinute: 2, now: s.a.clock.now() });
    const own = await parallel(6, (i) => s.on(i).api("GET", "/challenges/ch_unknown", undefined, { key }));
    expect(own.filter((r) => r.status === 404)).toHaveLength(2);
    expect(limited(own, "requests_per_key_per_minute")).toHaveLength(4);

    s.advance(60_000);
    expect((await s.on(1).api("GET", "/challenges/ch_unknown")).status).toBe(404);

    // validate-auth counts its requests against the same budget.
    s.advance(60_000);
    const checks = await parallel(12, (i) =>
      s.on(i).api("POST", "/validate-auth", { number: "+12125550199", auth_code: "123456" }),
    );
    expect(checks.filter((r) => r.status === 403 && r.body.reason === "no_pending_challenge")).toHaveLength(5);
    expect(limited(checks, "requests_per_key_per_minute")).toHaveLength(7);
  });

  it("admits exactly a large per-key budget to bursts over several instances", async () => {
    const s = await start({ REQUESTS_PER_KEY_PER_MINUTE: "800" });
    const counted = async () =>
      (await s.a.service.deps.database.rows<{ hits: number }>(sql`select coalesce(sum(hits), 0)::int as hits from rate_windows`))[0]!.hits;
    // A burst well inside a budget, all at the counter at once (HTTP spreads requests
    // out too much to be sure of that): every request is admitted and counted once.
    const burst = await Promise.all(
      instances.flatMap((t) => Array.from({ length: 100 }, () => countRequest(t.service.deps.database, "burst", 800, t.clock.now()))),
    );
    expect(burst.filter((wait) => wait === null)).toHaveLength(instances.length * 100);
    expect(await counted()).toBe(instances.length * 100);
    await s.a.service.deps.database.rows(sql`delete from rate_windows`);

    const statuses: number[] = [];
    for (let wave = 0; wave < 9; wave++) {
      const rs = await parallel(100, (i) => s.on(i).api("GET", "/challenges/ch_unknown"));
      statuses.push(...rs.map((r) => r.status));
    }
    expect(statuses.filter((st) => st === 404)).toHaveLength(800);
    expect(statuses.filter((st) => st === 429)).toHaveLength(100);
    expect(await counted()).toBe(800);
  });

  it("locks validation for a number after too many wrong codes in a day", async () => {
    const s = await start({ RESEND_COOLDOWN_SECONDS: "0", OTP_MAX_ATTEMPTS: "5", FAILED_VALIDATIONS_PER_NUMBER_PER_DAY: "7" });
    const number = "+16175550130";
    const listen = async () => {
      const res = await s.on(0).api("POST", "/request-auth", { number });
      expect(res.status).toBe(201);
      const call = await s.a.simulator.waitForCall((c) => c.to === number && c.url.includes(res.body.id));
      return codeHeard(call.heard);
    };
    const wrong = (code: string) => code.replace(/^\d/, (d) => String((Number(d) + 1) % 10));

    const first = await listen();
    const spent = await parallel(8, (i) => s.on(i).api("POST", "/validate-auth", { number, auth_code: wrong(first) }));
    expect(spent.filter((r) => r.body.reason === "incorrect")).toHaveLength(5);
    s.advance(601_000); // the first challenge expires; a new one has a fresh budget of 5, but the day allows 2 more

    const second = await listen();
    const rs = await parallel(8, (i) => s.on(i).api("POST", "/validate-auth", { number, auth_code: wrong(second) }));
    const incorrect = rs.filter((r) => r.body.reason === "incorrect");
    expect(incorrect).toHaveLength(2);
    expect(Math.min(...incorrect.map((r) => r.body.attempts_remaining))).toBe(0);
    expect(rs.filter((r) => r.status === 403 && r.body.reason === "locked")).toHaveLength(6);
    // Locked means locked: the right code is refused too, and no new call is placed.
    const right = await s.on(1).api("POST", "/validate-auth", { number, auth_code: second });
    expect(right.body).toMatchObject({ status: "denied", reason: "locked", attempts_remaining: 0 });
    const call = await s.on(0).api("POST", "/request-auth", { number });
    expect(limited([call], "failed_validations")).toHaveLength(1);
    expectRetryAfter(call, 86_400);

    s.advance(86_400_000);
    const third = await listen();
    expect((await s.on(1).api("POST", "/validate-auth", { number, auth_code: third })).status).toBe(200);
  });

  it("revokes a database API key at once on every instance", async () => {
    const s = await start({});
    const { key } = await createKey(s.a.service.deps.database, "backend-7", { now: new Date() });
    const res = await s.on(1).api("POST", "/request-auth", { number: "+13035550140" }, { key });
    expect(res.status).toBe(201);
    expect((await s.on(0).api("GET", `/challenges/${res.body.id}`, undefined, { key })).body.api_key).toBe("backend-7");
    await revokeKey(s.a.service.deps.database, "backend-7", new Date());
    for (let i = 0; i < 2; i++) {
      const after = await s.on(i).api("GET", `/challenges/${res.body.id}`, undefined, { key });
      expect(after.status).toBe(401);
    }
  });
});

describe("allowed destinations", () => {
  let t: TestService | undefined;
  afterEach(async () => {
    await t?.close();
    t = undefined;
  });

  it("refuses premium-rate, blocked, toll-free and foreign numbers with 400 before any call", async () => {
    t = await startTestService({ db: "pglite", carrier: "twilio" });
    const cases: Array<[string, RegExp]> = [
      ["+19005550123", /\+1900 are blocked/],
      ["+18005550123", /toll-free/],
      ["+442079460018", /GB are not allowed/],
      ["+525512345678", /MX are not allowed/],
    ];
    for (const [number, message] of cases) {
      const res = await t.api("POST", "/request-auth", { number });
      expect(res.status, number).toBe(400);
      expect(res.body.error.code).toBe("destination_not_allowed");
      expect(res.body.error.message).toMatch(message);
    }
    expect(t.simulator.calls()).toHaveLength(0);
  });

  it("classifies by number type when no prefix blocks, and follows ALLOWED_COUNTRIES", async () => {
    t = await startTestService({ db: "pglite", carrier: "twilio", env: { BLOCKED_PREFIXES: "", ALLOWED_COUNTRIES: "US,GB" } });
    const premium = await t.api("POST", "/request-auth", { number: "+19005550123" });
    expect(premium.status).toBe(400);
    expect(premium.body.error.message).toMatch(/premium-rate/);
    const uk = await t.api("POST", "/request-auth", { number: "+447400123456" });
    expect(uk.status, uk.text).toBe(201);
    const canada = await t.api("POST", "/request-auth", { number: "+14165550123" });
    expect(canada.body.error.message).toMatch(/CA are not allowed/);
  });
});

describe("npm run keys", () => {
  it("creates a key shown once, lists it without the key, and revokes it", async () => {
    const { mkdtemp, rm } = await import("node:fs/promises");
    const { tmpdir } = await import("node:os");
    const { join } = await import("node:path");
    const dir = await mkdtemp(join(tmpdir(), "voice-otp-keys-"));
    try {
      const env = { DATA_DIR: dir };
      const run = async (...args: string[]) => {
        const p = runScript("src/cli/main.ts", env, ["keys", ...args]);
        const code = await p.exited;
        return { code, stdout: p.stdout(), stderr: p.stderr() };
      };
      const created = await run("create", "ops", "--rate-per-minute", "30");
      expect(created.code).toBe(0);
      const key = /^(votp_[\w-]{43})$/m.exec(created.stdout)?.[1];
      expect(key).toBeDefined();
      const listed = await run("list");
      expect(listed.stdout).toMatch(/^ops\tactive\t30\/min\t/m);
      expect(listed.stdout).not.toContain(key!);
      const dup = await run("create", "ops");
      expect(dup.code).toBe(1);
      expect(dup.stderr).toMatch(/exists already/);
      const revoked = await run("revoke", "ops");
      expect(revoked.code).toBe(0);
      expect((await run("list")).stdout).toMatch(/^ops\trevoked /m);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
    // Five processes, each starting tsx and opening an embedded PostgreSQL: ~20 s alone,
    // three times that beside the other suites.
  }, 180_000);
});
