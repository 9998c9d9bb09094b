import { sql } from "drizzle-orm";
import { afterEach, describe, expect, it } from "vitest";
import { setEndpoint } from "../src/events/endpoints.js";
import { newSecret } from "../src/events/signature.js";
import { sweep } from "../src/housekeeping.js";
import { databaseKinds, type DbKind } from "./helpers/databases.js";
import { codeHeard, startTestService, type TestService } from "./helpers/service.js";

interface Written {
  type: string;
  challenge_id: string;
  body: string;
}

/**
 * Each change the backend is told of writes its event in the change's own statement,
 * through the real service: an event for every change that committed, none for one that
 * did not, none for a service without an endpoint, and never the code.
 */
describe.each(await databaseKinds())("the event outbox on %s", (db: DbKind) => {
  let t: TestService | undefined;
  afterEach(async () => {
    await t?.close();
    t = undefined;
  });

  async function start(env: Record<string, string> = {}) {
    // The receiver is never reached here: the delivery side has its own tests.
    t = await startTestService({ db, carrier: "twilio", env: { RESEND_COOLDOWN_SECONDS: "0", ...env } });
    const database = t.service.deps.database;
    await setEndpoint(database, t.service.deps.otp.keys, { serviceId: "default", url: "https://receiver.example.com/hooks", secret: newSecret(), eventTypes: null }, t.clock.now());
    const written = async (id: string) =>
      database.rows<Written>(sql`select type, challenge_id, body from events where challenge_id = ${id} order by created_at, type`);
    return { t, database, written };
  }

  async function call(t: TestService, number: string) {
    const res = await t.api("POST", "/request-auth", { number });
    expect(res.status, res.text).toBe(201);
    const placed = await t.simulator.waitForCall((c) => c.url.includes(res.body.id));
    return { id: res.body.id as string, heard: placed.heard };
  }

  it("tells of an answered call and an approval, with the challenge's data and never the code", async () => {
    const s = await start();
    const { id, heard } = await call(s.t, "+14155550101");
    const code = codeHeard(heard);
    expect((await s.t.api("POST", "/validate-auth", { id, auth_code: code })).status).toBe(200);
    const events = await s.written(id);
    expect(events.map((e) => e.type)).toEqual(["call.answered", "challenge.approved"]);
    const approved = JSON.parse(events[1]!.body);
    expect(approved).toEqual({
      type: "challenge.approved",
      timestamp: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
      data: { challenge_id: id, service: "default", number: "+14155550101", status: "approved", reason: null, attempts_used: 0 },
    });
    for (const e of events) expect(e.body).not.toContain(code);
  });

  it("tells of guesses that spend a challenge and of the number's failed-guess lock", async () => {
    const wrong = (c: string) => c.replace(/\d$/, (d) => String((Number(d) + 1) % 10));
    let s = await start({ OTP_MAX_ATTEMPTS: "2" });
    const spent = await call(s.t, "+14155550102");
    for (let i = 0; i < 2; i++) await s.t.api("POST", "/validate-auth", { id: spent.id, auth_code: wrong(codeHeard(spent.heard)) });
    expect((await s.written(spent.id)).map((e) => e.type)).toEqual(["call.answered", "challenge.too_many_attempts"]);
    await t!.close();

    // The third wrong guess of the day reaches the lock: the challenge stays pending, but unusable.
    s = await start({ OTP_MAX_ATTEMPTS: "5", FAILED_VALIDATIONS_PER_NUMBER_PER_DAY: "3" });
    const locked = await call(s.t, "+14155550103");
    for (let i = 0; i < 3; i++) await s.t.api("POST", "/validate-auth", { id: locked.id, auth_code: wrong(codeHeard(locked.heard)) });
    const told = await s.written(locked.id);
    expect(told.map((e) => e.type)).toEqual(["call.answered", "challenge.locked"]);
    expect(JSON.parse(told[1]!.body).data).toMatchObject({ status: "pending", reason: "locked", attempts_used: 3 });
  });

  it("tells of an unanswered call, a machine, a cancel, an expiry and a carrier's refusal", async () => {
    const s = await start();
    s.t.simulator.setOutcome("+14155550111", { kind: "busy" });
    const busy = await s.t.api("POST", "/request-auth", { number: "+14155550111" });
    await s.t.simulator.waitForCall((c) => c.url.includes(busy.body.id));
    const unanswered = await s.written(busy.body.id);
    expect(unanswered.map((e) => e.type)).toEqual(["call.unanswered"]);
    expect(JSON.parse(unanswered[0]!.body).data).toMatchObject({ status: "failed", reason: "busy" });

    s.t.simulator.setOutcome("+14155550112", { kind: "voicemail" });
    const machine = await call(s.t, "+14155550112");
    expect((await s.written(machine.id)).map((e) => e.type)).toContain("call.machine");

    s.t.simulator.setOutcome("+14155550113", { kind: "answer", hold: true });
    const held = await s.t.api("POST", "/request-auth", { number: "+14155550113" });
    expect((await s.t.api("POST", `/challenges/${held.body.id}/cancel`)).status).toBe(200);
    expect((await s.written(held.body.id)).map((e) => e.type)).toEqual(["challenge.canceled"]);

    s.t.simulator.setOutcome("+14155550114", { kind: "answer", hold: true });
    const late = await s.t.api("POST", "/request-auth", { number: "+14155550114" });
    s.t.clock.advance(11 * 60_000);
    await sweep(s.database, s.t.clock.now(), 24);
    expect((await s.written(late.body.id)).map((e) => e.type)).toEqual(["challenge.expired"]);

    s.t.simulator.setOutcome("+14155550115", { kind: "api-error", status: 400, code: 21211, message: "Invalid 'To' Phone Number" });
    const refused = await s.t.api("POST", "/request-auth", { number: "+14155550115" });
    expect(refused.status).toBe(400);
    const failed = await s.database.rows<Written>(sql`select type, challenge_id, body from events where type = 'challenge.failed'`);
    expect(failed).toHaveLength(1);
    expect(JSON.parse(failed[0]!.body).data).toMatchObject({ number: "+14155550115", status: "failed", reason: "rejected:21211" });
  });

  it("writes one approval for many right codes at once, and nothing for a service without an endpoint", async () => {
    const s = await start();
    const { id, heard } = await call(s.t, "+14155550121");
    const code = codeHeard(heard);
    const results = await Promise.all(Array.from({ length: 25 }, () => s.t!.api("POST", "/validate-auth", { id, auth_code: code })));
    expect(results.filter((r) => r.status === 200)).toHaveLength(1);
    expect((await s.written(id)).filter((e) => e.type === "challenge.approved")).toHaveLength(1);

    await s.database.rows(sql`delete from webhook_endpoints`);
    const quiet = await call(s.t, "+14155550122");
    await s.t.api("POST", "/validate-auth", { id: quiet.id, auth_code: codeHeard(quiet.heard) });
    expect(await s.written(quiet.id)).toEqual([]);
  });
});
