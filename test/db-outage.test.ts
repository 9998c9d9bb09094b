import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PROGRESS, progress } from "../src/otp/call-status.js";
import { summary, startLoad, type Answer } from "./helpers/load.js";
import { pgClusterAvailable, startPgCluster, type PgCluster } from "./helpers/pg-cluster.js";
import { LOAD_LIMITS, codeHeardFor, startServiceProcess, startTwilioSimulator, type CarrierSide, type ServiceProcess } from "./helpers/service-process.js";
import { numbers } from "./helpers/webhooks.js";

/**
 * The database goes away under load and comes back. The service runs as its own
 * process on a PostgreSQL server of this test's own, which the test crashes
 * (pg_ctl stop -m immediate) and starts again while clients keep asking.
 */
describe.runIf(await pgClusterAvailable())("a database outage under load", () => {
  let cluster: PgCluster | undefined;
  let carrier: CarrierSide | undefined;
  let service: ServiceProcess | undefined;
  let sql: postgres.Sql | undefined;

  beforeAll(async () => {
    cluster = await startPgCluster();
    carrier = await startTwilioSimulator();
    service = await startServiceProcess({ env: { DATABASE_URL: cluster.url, ...carrier.env, ...LOAD_LIMITS } });
    sql = postgres(cluster.url, { max: 1, onnotice: () => {} });
  });
  afterAll(async () => {
    // The cluster first: a server process left behind would outlive the test run.
    await service?.kill();
    await sql?.end({ timeout: 1 }).catch(() => {});
    await cluster?.destroy();
    await carrier?.simulator.close();
  });

  it("answers 503 while the database is down and recovers without a restart, losing and duplicating no challenge", { timeout: 90_000 }, async () => {
    const svc = service!;
    const sim = carrier!.simulator;
    const db = cluster!;

    // A challenge issued before the outage, its call ringing through it (held at the phone).
    const waiting = "+14155550199"; // outside the load's numbers
    sim.setOutcome(waiting, { kind: "answer", hold: true });
    const before = await svc.api("POST", "/request-auth", { number: waiting });
    expect(before.status, before.text).toBe(201);
    const heldCall = await sim.waitForHeld({ to: waiting });

    const load = startLoad({ clients: 6, api: svc.api, simulator: sim, nextNumber: numbers(), pauseMs: 10 });
    try {
      await load.until("approvals before the outage", (a) => count(a, "validate-auth", 200) >= 10);

      const crashedAt = performance.now();
      await db.stop("immediate");
      const ready = await svc.api("GET", "/readyz", undefined, { key: null });
      expect(ready.status).toBe(503);
      expect(ready.body.error.code).toBe("service_unavailable");
      const since = (a: Answer) => a.sentAt > crashedAt;
      // Down long enough for the driver's reconnect backoff to grow to its longest.
      await load.until("two seconds of 503s of both kinds", (a) => {
        const during = a.filter(since);
        return (
          count(during, "request-auth", 503) >= 10 &&
          count(during, "validate-auth", 503) >= 10 &&
          during.some((x) => x.sentAt - crashedAt > 2000)
        );
      });
      expect((await svc.api("GET", "/healthz", undefined, { key: null })).status).toBe(200);

      await db.start();
      const restartedAt = performance.now();
      const after = (a: Answer) => a.sentAt > restartedAt;
      await load.until(
        "issues and approvals after the restart",
        (a) => count(a.filter(after), "request-auth", 201) >= 5 && count(a.filter(after), "validate-auth", 200) >= 5,
      );
      expect((await svc.api("GET", "/readyz", undefined, { key: null })).status).toBe(200);
    } finally {
      await load.stop();
    }

    // Every request got an answer, promptly, of a kind a client can act on.
    const answers = load.answers;
    const unexpected = answers.filter((a) =>
      a.op === "request-auth" ? ![201, 503].includes(a.status as number) : ![200, 403, 503].includes(a.status as number),
    );
    expect(unexpected, summary(answers)).toEqual([]);
    expect(Math.max(...answers.map((a) => a.ms)), "slowest answer (ms)").toBeLessThan(10_000);
    for (const a of answers.filter((x) => x.status === 503)) {
      expect(a.errorCode).toBe("service_unavailable");
      expect(a.retryAfter).toBe("5");
    }
    expect(svc.proc.child.exitCode).toBeNull();
    expect(svc.proc.stdout()).not.toMatch(/"msg":"unhandled error"/);

    // The challenge from before the outage: its call reads the code now, and the code works.
    sim.pickUp(heldCall.sid);
    const code = await codeHeardFor(sim, before.body.id);
    expect(code).toMatch(/^\d{6}$/);
    const ok = await svc.api("POST", "/validate-auth", { number: waiting, auth_code: code });
    expect(ok.status, ok.text).toBe(200);

    // No challenge lost or duplicated, nothing half-written.
    const rows = await sql!<Array<{ id: string; number: string; status: string; code_mac: string | null; code_sealed: string | null; ended_at: Date | null; call_status: string | null }>>`
      select id, number, status, code_mac, code_sealed, ended_at, call_status from challenges`;
    const byId = new Map(rows.map((r) => [r.id, r]));
    const issued = [{ id: before.body.id as string, number: waiting }, ...load.issued];
    expect(new Set(issued.map((i) => i.id)).size).toBe(issued.length);
    for (const i of issued) expect(byId.get(i.id)?.number, i.id).toBe(i.number);
    const pendingPerNumber = new Map<string, number>();
    for (const r of rows) {
      if (r.status === "pending") {
        pendingPerNumber.set(r.number, (pendingPerNumber.get(r.number) ?? 0) + 1);
        // The sealed copy goes once the call has ended; the MAC stays for checking.
        const sealed = progress(r.call_status) === PROGRESS.completed ? null : expect.any(String);
        expect([r.code_mac, r.code_sealed, r.ended_at], `pending ${r.id}`).toEqual([expect.any(String), sealed, null]);
      } else {
        expect([r.code_mac, r.code_sealed, r.ended_at], `${r.status} ${r.id}`).toEqual([null, null, expect.any(Date)]);
      }
    }
    expect(Math.max(0, ...pendingPerNumber.values())).toBeLessThanOrEqual(1);
    // A call was placed for exactly the challenges answered 201: none for a request answered 503, none twice.
    const callsPer = new Map<string, number>();
    for (const c of sim.calls()) {
      const id = new URL(c.url).searchParams.get("c")!;
      callsPer.set(id, (callsPer.get(id) ?? 0) + 1);
    }
    expect([...callsPer.keys()].sort()).toEqual(issued.map((i) => i.id).sort());
    expect([...callsPer.values()].every((n) => n === 1)).toBe(true);
    const orphans = await sql!`select e.id from call_events e left join challenges c on c.id = e.challenge_id where c.id is null`;
    expect(orphans).toEqual([]);
  });
});

const count = (answers: Answer[], op: Answer["op"], status: number) => answers.filter((a) => a.op === op && a.status === status).length;
