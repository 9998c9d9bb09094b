import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PROGRESS, progress } from "../src/otp/call-status.js";
import { createPostgresDatabase, postgresAvailable } from "./helpers/databases.js";
import { startLoad, summary } from "./helpers/load.js";
import { codeHeard } from "./helpers/service.js";
import { LOAD_LIMITS, startServiceProcess, startTwilioSimulator, type CarrierSide, type ServiceProcess } from "./helpers/service-process.js";
import { numbers } from "./helpers/webhooks.js";

/**
 * SIGTERM to the service process while clients keep asking: what a deploy or a
 * scale-down does. On PostgreSQL when one answers (then the rows are checked too),
 * else on embedded PGlite.
 */
const onPostgres = await postgresAvailable();

describe(`graceful shutdown under load (${onPostgres ? "postgres" : "pglite"})`, () => {
  let carrier: CarrierSide | undefined;
  let service: ServiceProcess | undefined;
  let database: { url: string; drop(): Promise<void> } | undefined;
  let dataDir: string | undefined;

  beforeAll(async () => {
    carrier = await startTwilioSimulator();
    let storage: Record<string, string>;
    if (onPostgres) {
      database = await createPostgresDatabase();
      storage = { DATABASE_URL: database.url };
    } else {
      dataDir = await mkdtemp(join(tmpdir(), "voice-otp-shutdown-"));
      storage = { DATA_DIR: dataDir };
    }
    service = await startServiceProcess({ env: { ...storage, ...carrier.env, ...LOAD_LIMITS } });
  });
  afterAll(async () => {
    await service?.kill();
    await carrier?.simulator.close();
    await database?.drop();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it(
    "on SIGTERM turns /readyz 503 first, finishes what is in flight (carrier webhooks included), refuses new work cleanly, and exits 0 within 10 s",
    { timeout: 60_000 },
    async () => {
      const svc = service!;
      const sim = carrier!.simulator;

      // A call placed before the signal and answered during the drain: its webhook must still be served.
      const ringing = "+14155550131";
      sim.setOutcome(ringing, { kind: "answer", hold: true });
      const placed = await svc.api("POST", "/request-auth", { number: ringing });
      expect(placed.status, placed.text).toBe(201);
      const held = await sim.waitForHeld({ to: ringing });

      // Clients that, refused by a draining instance, go elsewhere (as their load balancer would).
      const load = startLoad({
        clients: 4,
        api: svc.api,
        simulator: sim,
        nextNumber: numbers(),
        pauseMs: 10,
        stopOn: (a) => a.status === "error" || a.errorCode === "shutting_down",
      });
      let signalledAt = 0;
      let exitCode: number | null | undefined;
      try {
        await load.until("approvals before the signal", (a) => a.filter((x) => x.op === "validate-auth" && x.status === 200).length >= 5);

        // A request held at a slow carrier when the signal comes.
        const slowNumber = "+14155550132";
        sim.setOutcome(slowNumber, { kind: "answer", apiDelayMs: 1500 });
        const slow = svc.api("POST", "/request-auth", { number: slowNumber }).catch((err: Error) => err);
        await sim.waitForCreateCall(slowNumber);

        signalledAt = performance.now();
        const exited = svc.proc.exited.then((code) => ((exitCode = code), performance.now() - signalledAt));
        svc.proc.child.kill("SIGTERM");

        // Readiness goes first: answered 503 while the port still takes connections.
        const ready = await firstNonReady(svc);
        expect(ready.status, ready.text).toBe(503);
        expect(ready.body.error.code).toBe("shutting_down");

        // New work is refused in the error shape, not dropped.
        const refused = await svc.api("POST", "/validate-auth", { number: ringing, auth_code: "000000" });
        expect(refused.status, refused.text).toBe(503);
        expect(refused.body.error.code).toBe("shutting_down");
        expect(refused.headers.get("retry-after")).toBe("1");
        // No client is invited to reuse a socket that is about to close.
        expect(refused.headers.get("connection")).toBe("close");

        // The held call is answered now: the carrier's webhooks reach the draining instance.
        sim.pickUp(held.sid);
        const heldCall = await sim.waitForCall(held.sid);
        expect(heldCall.webhookErrors).toEqual([]);
        expect(codeHeard(heldCall.heard)).toMatch(/^\d{6}$/);

        // The slow request completes, and so does the call it placed.
        const slowAnswer = await slow;
        expect(slowAnswer instanceof Error ? slowAnswer.message : slowAnswer.status).toBe(201);
        const slowCall = await sim.waitForCall({ to: slowNumber });
        expect(slowCall.webhookErrors).toEqual([]);
        expect(codeHeard(slowCall.heard)).toMatch(/^\d{6}$/);

        expect(await exited, "ms from SIGTERM to exit").toBeLessThan(10_000);
        expect(exitCode).toBe(0);
        expect(svc.proc.stdout()).toMatch(/"msg":"stopped"/);
        // Closed: a new request is refused at connect, at once.
        const late = await svc.api("GET", "/healthz").catch((err: Error & { cause?: { code?: string } }) => err.cause?.code);
        expect(late).toBe("ECONNREFUSED");
      } finally {
        await load.stop();
      }

      // Every load request got a clean answer: done, or refused in the error shape (or at connect, once the port closed).
      const answers = load.answers;
      expect(answers.filter((a) => a.errorCode === "shutting_down").length, summary(answers)).toBeGreaterThan(0);
      const unclean = answers.filter(
        (a) =>
          !(typeof a.status === "number" && [200, 201, 403].includes(a.status)) &&
          !(a.status === 503 && a.errorCode === "shutting_down") &&
          !(a.status === "error" && /ECONNREFUSED/.test(a.error ?? "") && a.sentAt > signalledAt),
      );
      expect(unclean, summary(answers)).toEqual([]);
      expect(Math.max(...answers.map((a) => a.ms)), "slowest answer (ms)").toBeLessThan(10_000);
      // Every call placed for a 201 read its code: no webhook was turned away by the shutdown.
      for (const id of load.issued.map((i) => i.id)) {
        const call = sim.calls().find((c) => c.url.endsWith(`c=${id}`))!;
        expect(call.webhookErrors, id).toEqual([]);
      }

      if (database) {
        const sql = postgres(database.url, { max: 1, onnotice: () => {} });
        try {
          const rows = await sql<Array<{ status: string; code_mac: string | null; code_sealed: string | null; call_status: string | null }>>`
            select status, code_mac, code_sealed, call_status from challenges`;
          for (const r of rows) {
            // The sealed copy goes once the call has ended; the MAC stays for checking.
            const sealed = progress(r.call_status) === PROGRESS.completed ? null : expect.any(String);
            const whole = r.status === "pending" ? [expect.any(String), sealed] : [null, null];
            expect([r.code_mac, r.code_sealed]).toEqual(whole);
          }
        } finally {
          await sql.end();
        }
      }
    },
  );
});

describe("a restart while calls ring", () => {
  let carrier: CarrierSide | undefined;
  let dataDir: string | undefined;
  afterAll(async () => {
    await carrier?.simulator.close();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it("serves a ringing call's webhooks after SIGTERM until the call ends, then exits 0", { timeout: 60_000 }, async () => {
    carrier = await startTwilioSimulator();
    dataDir = await mkdtemp(join(tmpdir(), "voice-otp-grace-"));
    // No quiet period could cover 3 s of ringing: only waiting for the call does.
    const svc = await startServiceProcess({ env: { DATA_DIR: dataDir, ...carrier.env } });
    try {
      const number = "+14155550141";
      carrier.simulator.setOutcome(number, { kind: "answer", ringMs: 3000 });
      const placed = await svc.api("POST", "/request-auth", { number });
      expect(placed.status, placed.text).toBe(201);
      const signalledAt = performance.now();
      const exited = svc.proc.exited.then((code) => ({ code, ms: performance.now() - signalledAt }));
      svc.proc.child.kill("SIGTERM");
      expect((await firstNonReady(svc)).status).toBe(503);

      const call = await carrier.simulator.waitForCall({ to: number });
      expect(call.webhookErrors).toEqual([]);
      expect(codeHeard(call.heard)).toMatch(/^\d{6}$/);
      const { code, ms } = await exited;
      expect(code).toBe(0);
      // It stopped when the call ended, not at the end of the grace period (25 s).
      expect(ms).toBeLessThan(20_000);
    } finally {
      await svc.kill();
    }
  });

  it("stops at SHUTDOWN_GRACE_SECONDS however long a call rings", { timeout: 60_000 }, async () => {
    carrier ??= await startTwilioSimulator();
    dataDir ??= await mkdtemp(join(tmpdir(), "voice-otp-grace-"));
    const svc = await startServiceProcess({ env: { DATA_DIR: dataDir, ...carrier.env, SHUTDOWN_GRACE_SECONDS: "1" } });
    try {
      const number = "+14155550142";
      carrier.simulator.setOutcome(number, { kind: "answer", hold: true });
      expect((await svc.api("POST", "/request-auth", { number })).status).toBe(201);
      await carrier.simulator.waitForHeld({ to: number });
      svc.proc.child.kill("SIGTERM");
      expect(await svc.proc.exited).toBe(0);
      expect(svc.proc.stdout()).toMatch(/"msg":"stopped"/);
    } finally {
      await svc.kill();
    }
  });
});

/** Polls /readyz from the moment of the signal until it stops answering 200 (the signal arrives asynchronously). */
async function firstNonReady(svc: ServiceProcess) {
  const deadline = performance.now() + 5_000;
  for (;;) {
    const res = await svc.api("GET", "/readyz", undefined, { key: null });
    if (res.status !== 200 || performance.now() > deadline) return res;
  }
}
