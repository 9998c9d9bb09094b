import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PROGRESS, progress } from "../src/otp/call-status.js";
import { closedPort } from "./helpers/carrier-world.js";
import { createPostgresDatabase, postgresAvailable } from "./helpers/databases.js";
import { codeHeard } from "./helpers/service.js";
import { startServiceProcess, startTwilioSimulator, type CarrierSide, type ServiceProcess } from "./helpers/service-process.js";

const RESEND_COOLDOWN_SECONDS = 10;

/**
 * kill -9 of the service process at the worst moments, then a restart on the same
 * database and port (the carrier keeps the webhook URLs it was given). The carrier
 * (the simulator, in this process) outlives the service, as a real one would.
 */
describe.runIf(await postgresAvailable())("crash safety: kill -9 and restart", () => {
  let database: { url: string; drop(): Promise<void> } | undefined;
  let carrier: CarrierSide | undefined;
  let service: ServiceProcess | undefined;
  let sql: postgres.Sql | undefined;
  let port: number;
  let env: Record<string, string>;

  beforeAll(async () => {
    database = await createPostgresDatabase();
    carrier = await startTwilioSimulator();
    port = await closedPort();
    env = { DATABASE_URL: database.url, ...carrier.env, RESEND_COOLDOWN_SECONDS: String(RESEND_COOLDOWN_SECONDS) };
    service = await startServiceProcess({ port, env });
    sql = postgres(database.url, { max: 1, onnotice: () => {} });
  });
  afterAll(async () => {
    await service?.kill();
    await sql?.end({ timeout: 1 }).catch(() => {});
    await carrier?.simulator.close();
    await database?.drop();
  });

  /** kill -9: no shutdown hook runs, nothing is flushed or rolled back by the service itself. */
  async function crash() {
    service!.proc.child.kill("SIGKILL");
    await service!.proc.exited;
    expect(service!.proc.child.signalCode).toBe("SIGKILL");
  }
  const restart = async () => void (service = await startServiceProcess({ port, env }));

  /**
   * Every challenge row is whole: a pending one has its code hashed, and sealed until its call
   * has ended; an ended one has both wiped; one pending per number.
   */
  async function expectNothingHalfWritten() {
    const rows = await sql!<Array<{ id: string; number: string; status: string; code_mac: string | null; code_sealed: string | null; ended_at: Date | null; call_status: string | null }>>`
      select id, number, status, code_mac, code_sealed, ended_at, call_status from challenges`;
    for (const r of rows) {
      const sealed = progress(r.call_status) === PROGRESS.completed ? null : expect.any(String);
      const whole = r.status === "pending" ? [expect.any(String), sealed, null] : [null, null, expect.any(Date)];
      expect([r.code_mac, r.code_sealed, r.ended_at], `${r.status} ${r.id}`).toEqual(whole);
    }
    const pending = rows.filter((r) => r.status === "pending").map((r) => r.number);
    expect(new Set(pending).size).toBe(pending.length);
  }

  it("reads the code and approves it when the service is killed between placing the call and its webhook", { timeout: 60_000 }, async () => {
    const sim = carrier!.simulator;
    const number = "+12125550100";
    sim.setOutcome(number, { kind: "answer", hold: true });
    const res = await service!.api("POST", "/request-auth", { number });
    expect(res.status, res.text).toBe(201);
    const held = await sim.waitForHeld({ to: number });

    await crash();
    await restart();
    sim.pickUp(held.sid);
    const call = await sim.waitForCall(held.sid);
    expect(call.webhookErrors).toEqual([]);
    const code = codeHeard(call.heard);
    expect(code).toMatch(/^\d{6}$/);

    const ok = await service!.api("POST", "/validate-auth", { number, auth_code: code });
    expect(ok.status, ok.text).toBe(200);
    expect(ok.body).toMatchObject({ status: "approved", id: res.body.id });
    const view = await service!.api("GET", `/challenges/${res.body.id}`);
    expect(view.body).toMatchObject({ status: "approved", call: { sid: held.sid, status: "completed" } });
    // Each call event once, whichever instance recorded it.
    expect(view.body.call.events.map((e: { status: string }) => e.status)).toEqual(["queued", "ringing", "in-progress", "completed"]);
    expect(await sql!`select id from challenges where number = ${number}`).toHaveLength(1);
    await expectNothingHalfWritten();
  });

  it(
    "after a kill -9 while the carrier had not answered the create-call, the number gets a working call once the resend cooldown has passed",
    { timeout: 60_000 },
    async () => {
      const sim = carrier!.simulator;
      const number = "+12125550101";
      // The carrier takes the request and never answers: as far as anyone knows, it may have placed the call.
      sim.setOutcome(number, { kind: "api-timeout" });
      const inFlight = settled(service!.api("POST", "/request-auth", { number }, { headers: { "idempotency-key": "signin-101" } }));
      await sim.waitForCreateCall(number);
      // The challenge is written before the carrier is asked, so it is there when the service dies.
      const [halfIssued] = await sql!<Array<{ id: string; status: string; call_sid: string | null }>>`
        select id, status, call_sid from challenges where number = ${number}`;
      expect(halfIssued).toMatchObject({ status: "pending", call_sid: null });

      await crash();
      expect(await inFlight).toBeInstanceOf(Error); // the backend got no answer at all
      await restart();

      // A retry with the same key finds the first request's claim, which the README says is
      // taken over only after twice CARRIER_TIMEOUT_MS plus 30 s.
      const sameKey = await service!.api("POST", "/request-auth", { number }, { headers: { "idempotency-key": "signin-101" } });
      expect(sameKey.status, sameKey.text).toBe(409);
      expect(sameKey.body.error.code).toBe("idempotency_in_flight");
      // A new request counts the half-issued challenge as a call (the carrier may have placed
      // it): refused until the resend cooldown has passed, and not a second longer.
      const tooSoon = await service!.api("POST", "/request-auth", { number });
      expect(tooSoon.status, tooSoon.text).toBe(429);
      expect(tooSoon.body.error).toMatchObject({ code: "rate_limited", limit: "resend_cooldown" });
      const wait = Number(tooSoon.headers.get("retry-after"));
      expect(wait).toBeGreaterThan(0);
      expect(wait).toBeLessThanOrEqual(RESEND_COOLDOWN_SECONDS);

      sim.setOutcome(number, { kind: "answer" });
      await new Promise((r) => setTimeout(r, wait * 1000)); // what Retry-After asks a client to do
      const again = await service!.api("POST", "/request-auth", { number });
      expect(again.status, again.text).toBe(201);
      const call = await sim.waitForCall((c) => c.url.endsWith(`c=${again.body.id}`));
      const ok = await service!.api("POST", "/validate-auth", { number, auth_code: codeHeard(call.heard) });
      expect(ok.status, ok.text).toBe(200);
      expect((await service!.api("GET", `/challenges/${halfIssued!.id}`)).body.status).toBe("superseded");
      await expectNothingHalfWritten();
    },
  );

  it("a call the carrier places although the service died waiting for its answer still reads a code that works", { timeout: 60_000 }, async () => {
    const sim = carrier!.simulator;
    const number = "+12125550102";
    // The carrier is slow to answer the create-call, then places the call anyway.
    sim.setOutcome(number, { kind: "answer", apiDelayMs: 1000, hold: true });
    const inFlight = settled(service!.api("POST", "/request-auth", { number }));
    await sim.waitForCreateCall(number);
    await crash();
    expect(await inFlight).toBeInstanceOf(Error);
    // The phone rings while no service runs: the ringing callback is lost.
    const held = await sim.waitForHeld({ to: number });
    expect(held.webhookErrors).toHaveLength(1);

    await restart();
    sim.pickUp(held.sid);
    const call = await sim.waitForCall(held.sid);
    const code = codeHeard(call.heard);
    const ok = await service!.api("POST", "/validate-auth", { number, auth_code: code });
    expect(ok.status, ok.text).toBe(200);
    const [row] = await sql!`select id, status, call_sid from challenges where number = ${number}`;
    expect(row).toMatchObject({ status: "approved", call_sid: held.sid });
    await expectNothingHalfWritten();
  });
});

/** The answer, or the error of a request that got none. */
const settled = <T>(p: Promise<T>): Promise<T | Error> => p.catch((err: Error) => err);
