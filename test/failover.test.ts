import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../src/config/index.js";
import { databaseHosts } from "../src/db/postgres-url.js";
import { startLoad, summary, type Answer } from "./helpers/load.js";
import { pgClusterAvailable, startPgCluster, startStandby, type PgCluster } from "./helpers/pg-cluster.js";
import {
  LOAD_LIMITS,
  codeHeardFor,
  startServiceProcess,
  startTwilioSimulator,
  type CarrierSide,
  type ServiceProcess,
  type TimedResponse,
} from "./helpers/service-process.js";
import { numbers } from "./helpers/webhooks.js";

/**
 * The database fails over under load. A primary and a hot standby streaming from it with
 * synchronous replication (a commit is acknowledged once the standby has it), the service
 * as its own process on a DATABASE_URL naming both, standby first; then the primary
 * crashes (pg_ctl stop -m immediate) and the standby is promoted (pg_ctl promote) while
 * clients keep asking.
 */
describe.runIf(await pgClusterAvailable())("a PostgreSQL failover", () => {
  let primary: PgCluster | undefined;
  let standby: PgCluster | undefined;
  let carrier: CarrierSide | undefined;
  let service: ServiceProcess | undefined;
  // The test's own sessions on each server (the standby's, read-only until promoted).
  let onPrimary: postgres.Sql | undefined;
  let onStandby: postgres.Sql | undefined;

  beforeAll(async () => {
    primary = await startPgCluster({ settings: ["synchronous_standby_names='*'"] });
    standby = await startStandby(primary);
    onPrimary = postgres(primary.url, { max: 1, onnotice: () => {} });
    onStandby = postgres(standby.url, { max: 1, onnotice: () => {} });
    await until("the standby replicates synchronously", async () => {
      const rows = await onPrimary!<Array<{ sync_state: string }>>`select sync_state from pg_stat_replication`;
      return rows[0]?.sync_state === "sync";
    });
    carrier = await startTwilioSimulator();
    service = await startServiceProcess({
      env: {
        DATABASE_URL: `postgres://postgres@127.0.0.1:${standby.port},127.0.0.1:${primary.port}/postgres?target_session_attrs=read-write`,
        ...carrier.env,
        ...LOAD_LIMITS,
        // One limit left on, to see it still refuse after the failover.
        RESEND_COOLDOWN_SECONDS: "600",
      },
    });
  });
  afterAll(async () => {
    await service?.kill();
    for (const sql of [onPrimary, onStandby]) await sql?.end({ timeout: 1 }).catch(() => {});
    await standby?.destroy();
    await primary?.destroy();
    await carrier?.simulator.close();
  });

  it("answers 503 during the switch, then serves from the new primary with every approval, pending code, count and limit intact", { timeout: 90_000 }, async () => {
    const svc = service!;
    const sim = carrier!.simulator;

    // Connected to the writable server only, though the URL names the standby first.
    expect(await sessions(onPrimary!)).toBeGreaterThan(0);
    expect(await sessions(onStandby!)).toBe(0);

    // Six challenges, their codes heard on the phone: three approved, three pending after one wrong guess each.
    const issued = await Promise.all(
      ["+14155550110", "+14155550111", "+14155550112", "+14155550113", "+14155550114", "+14155550115"].map(async (number) => {
        const res = await svc.api("POST", "/request-auth", { number });
        expect(res.status, res.text).toBe(201);
        const code = await codeHeardFor(sim, res.body.id);
        expect(code).toMatch(/^\d{6}$/);
        return { number, id: res.body.id as string, code: code! };
      }),
    );
    const approved = issued.slice(0, 3);
    const pending = issued.slice(3);
    for (const a of approved) expect((await svc.api("POST", "/validate-auth", { id: a.id, auth_code: a.code })).status).toBe(200);
    for (const p of pending) expect((await svc.api("POST", "/validate-auth", { id: p.id, auth_code: wrong(p.code) })).status).toBe(403);
    const before = await views(svc, issued);
    expect(before.map((v) => v.status)).toEqual([...approved.map(() => "approved"), ...pending.map(() => "pending")]);
    expect(before.slice(3).map((v) => v.attempts_used)).toEqual([1, 1, 1]);
    const cooldown = await svc.api("POST", "/request-auth", { number: pending[0]!.number });
    expect([cooldown.status, cooldown.body.error?.limit]).toEqual([429, "resend_cooldown"]);

    // A primary that stops taking writes while it runs (default_transaction_read_only, as
    // when it is fenced before a switchover) answers read-only (25006): 503, not 500. Each
    // of its sessions reloads the setting after its next command, so a few more calls may
    // still go through first. Once it takes writes again, so does the service.
    await onPrimary!`alter system set default_transaction_read_only = on`;
    await onPrimary!`select pg_reload_conf()`;
    const fenced: TimedResponse[] = [];
    let fresh = 120;
    await until("calls refused while the primary is read-only", async () => {
      fenced.push(await svc.api("POST", "/request-auth", { number: `+14155550${fresh++}` }));
      return fenced.filter((r) => r.status === 503).length >= 3;
    });
    for (const r of fenced) {
      expect([201, 503], r.text).toContain(r.status);
      if (r.status === 503) expect([r.body.error.code, r.headers.get("retry-after")]).toEqual(["service_unavailable", "5"]);
    }
    await onPrimary!`alter system reset default_transaction_read_only`;
    await onPrimary!`select pg_reload_conf()`;
    await until("calls issued again once the primary takes writes", async () => (await svc.api("POST", "/request-auth", { number: `+14155550${fresh++}` })).status === 201);

    // Clients asking for calls, checking codes and reading challenges throughout.
    const load = startLoad({ clients: 4, api: svc.api, simulator: sim, nextNumber: numbers(), listen: false, pauseMs: 20 });
    const reads: Seen[] = [];
    let reading = true;
    const reader = (async () => {
      while (reading) {
        for (const c of issued) {
          const res = await svc.api("GET", `/challenges/${c.id}`).catch(() => null);
          reads.push({ status: res?.status ?? "error", errorCode: res?.body?.error?.code, retryAfter: res?.headers.get("retry-after") });
        }
        await new Promise((r) => setTimeout(r, 20));
      }
    })();

    let promotedAt = 0;
    let steadyFrom = 0;
    try {
      await load.until("calls issued before the failover", (a) => count(a, "request-auth", 201) >= 3);

      const crashedAt = performance.now();
      await primary!.stop("immediate");
      await load.until("503s of both kinds while no server takes writes", (a) => {
        const during = a.filter((x) => x.sentAt > crashedAt);
        return count(during, "request-auth", 503) >= 3 && count(during, "validate-auth", 503) >= 3;
      });
      expect((await svc.api("GET", "/readyz", undefined, { key: null })).status).toBe(503);

      await standby!.promote();
      promotedAt = performance.now();
      await load.until("calls issued and codes checked on the new primary", (a) => {
        const after = a.filter((x) => x.sentAt > promotedAt);
        return count(after, "request-auth", 201) >= 3 && count(after, "validate-auth", 403) >= 3;
      });
      expect((await svc.api("GET", "/readyz", undefined, { key: null })).status).toBe(200);
      // A while longer: every connection the crash closed is opened again on the new primary.
      const backAt = performance.now();
      await load.until("a second more on the new primary", (a) => a.some((x) => x.sentAt > backAt + 1000));
      steadyFrom = backAt;
    } finally {
      await load.stop();
      reading = false;
      await reader;
    }

    // Back within seconds of the promotion.
    const firstIssued = Math.min(...load.answers.filter((a) => a.sentAt > promotedAt && a.status === 201).map((a) => a.sentAt + a.ms));
    expect(firstIssued - promotedAt, "ms from promotion to the first call issued").toBeLessThan(5000);

    // Once back, back for good: no request refused, none left waiting on a connection.
    const steady = load.answers.filter((a) => a.sentAt > steadyFrom);
    expect(steady.filter((a) => a.status === 503), summary(steady)).toEqual([]);
    expect(Math.max(...steady.map((a) => a.ms)), "slowest answer once back (ms)").toBeLessThan(3000);
    // No request got a 5xx other than 503, and every 503 says when to retry.
    const answers: Seen[] = [...load.answers, ...reads];
    const unexpected = answers.filter((a) => a.status === "error" || (a.status >= 500 && a.status !== 503));
    expect(unexpected, `${summary(load.answers)}; GET /challenges/{id}: ${reads.map((r) => r.status).join(" ")}`).toEqual([]);
    const unavailable = answers.filter((a) => a.status === 503);
    expect(unavailable.length).toBeGreaterThan(0);
    for (const a of unavailable) expect([a.errorCode, a.retryAfter]).toEqual(["service_unavailable", "5"]);
    expect(svc.proc.child.exitCode).toBeNull();
    expect(svc.proc.stdout()).not.toMatch(/"msg":"unhandled error"/);

    // Every challenge as it was: the approved still approved, the counts of guesses unchanged.
    expect(await views(svc, issued)).toEqual(before);
    // An approved code is refused if tried again; a pending one still validates with its code.
    for (const a of approved) expect((await svc.api("POST", "/validate-auth", { id: a.id, auth_code: a.code })).status).toBe(403);
    for (const p of pending) {
      const ok = await svc.api("POST", "/validate-auth", { id: p.id, auth_code: p.code });
      expect(ok.status, ok.text).toBe(200);
    }
    // The limits count what the old primary recorded: the number called before is still cooling down.
    const still = await svc.api("POST", "/request-auth", { number: pending[1]!.number });
    expect([still.status, still.body.error?.limit]).toEqual([429, "resend_cooldown"]);

    // The service's LISTEN (for changes to services' settings) moved to the new primary too.
    await until("the service listens on the new primary", async () => {
      const [row] = await onStandby!<Array<{ n: number }>>`
        select count(*)::int as n from pg_stat_activity where application_name = 'voice-otp' and query ilike 'listen %'`;
      return row!.n === 1;
    });
  });
});

/** An answer to any request: its status ("error": none at all), its error code and Retry-After. */
type Seen = Pick<Answer, "status" | "errorCode" | "retryAfter">;

describe("a DATABASE_URL naming several servers", () => {
  it("is read as libpq reads it: every host with its port, 5432 where it names none", () => {
    expect(databaseHosts("postgres://otp:p%40ss@db-a:5433,db-b,[2001:db8::7]:5434/otp?target_session_attrs=read-write")).toEqual([
      { host: "db-a", port: 5433 },
      { host: "db-b", port: 5432 },
      { host: "2001:db8::7", port: 5434 },
    ]);
    expect(databaseHosts("postgres://otp@db-a:5433/otp")).toBeNull();
    for (const target of ["read-write", "primary", "any"]) {
      const url = `postgres://otp@db-a,db-b/otp?target_session_attrs=${target}`;
      expect(loadConfig({ DATABASE_URL: url }).databaseUrl).toBe(url);
    }
  });

  it("is refused at start when it asks for a server that takes no writes, or names a host badly", () => {
    for (const target of ["read-only", "standby", "prefer-standby"]) {
      expect(() => loadConfig({ DATABASE_URL: `postgres://otp@db-a,db-b/otp?target_session_attrs=${target}` })).toThrow(
        new RegExp(`^DATABASE_URL: target_session_attrs=${target} cannot work: the service writes`),
      );
    }
    expect(() => loadConfig({ DATABASE_URL: "postgres://otp@db-a:5432,db-b:port/otp" })).toThrow(/^DATABASE_URL: "db-b:port" is not a host or host:port/);
    expect(() => loadConfig({ DATABASE_URL: "postgres://otp@db-a,:5433/otp" })).toThrow(/^DATABASE_URL: ":5433" is not a host or host:port/);
  });
});

const count = (answers: Answer[], op: Answer["op"], status: number) => answers.filter((a) => a.op === op && a.status === status).length;

/** The same number of digits, one of them off. */
const wrong = (code: string) => code.slice(0, -1) + String((Number(code.at(-1)) + 1) % 10);

async function sessions(sql: postgres.Sql): Promise<number> {
  const [row] = await sql<Array<{ n: number }>>`select count(*)::int as n from pg_stat_activity where application_name = 'voice-otp'`;
  return row!.n;
}

async function views(svc: ServiceProcess, challenges: Array<{ id: string }>) {
  return Promise.all(
    challenges.map(async (c) => {
      const res = await svc.api("GET", `/challenges/${c.id}`);
      expect(res.status, res.text).toBe(200);
      return { id: c.id, status: res.body.status as string, attempts_used: res.body.attempts_used as number, attempts_allowed: res.body.attempts_allowed as number };
    }),
  );
}

async function until(what: string, check: () => Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!(await check().catch(() => false))) {
    if (performance.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
