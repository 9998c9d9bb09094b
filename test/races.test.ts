import { sql } from "drizzle-orm";
import { afterEach, describe, expect, it } from "vitest";
import type { CallRecord } from "../src/simulator/index.js";
import { PHRASES } from "../src/voice/phrases.js";
import { databaseKinds, type DbKind } from "./helpers/databases.js";
import { CARRIER_KINDS, codeHeard, startTestService, type ApiResponse, type CarrierKind, type TestService } from "./helpers/service.js";

/**
 * Issue 9, "Races": concurrent guesses at one challenge, concurrent calls to one number,
 * and both at once. On PostgreSQL the requests alternate between two service instances
 * sharing one database (as behind a load balancer); PGlite cannot be shared, so one instance.
 * Through every carrier: each places the calls and reads the codes its own way.
 */
const combos = (await databaseKinds()).flatMap((db: DbKind) => CARRIER_KINDS.map((carrier: CarrierKind) => ({ db, carrier })));
describe.each(combos)("races on $db through $carrier", ({ db, carrier }) => {
  let instances: TestService[] = [];
  afterEach(async () => {
    for (const t of instances.reverse()) await t.close();
    instances = [];
  });

  interface Row {
    id: string;
    status: string;
    attempts: number;
    failures: number;
    wiped: boolean;
  }

  async function start(env: Record<string, string> = {}) {
    const a = await startTestService({ db, carrier, env });
    instances.push(a);
    if (db === "postgres") instances.push(await startTestService({ db, carrier, env, shareWith: a }));
    const all = [...instances];
    /** The i-th request goes to instance i mod n. */
    const on = (i: number) => all[i % all.length]!;
    return {
      all,
      on,
      simulator: a.simulator,
      /** The number's challenges as stored, straight from the shared database. */
      challengesOf: (number: string) =>
        a.service.deps.database.rows<Row>(sql`
          select id, status, attempts, failures, (code_mac is null and code_sealed is null) as wiped
          from challenges where number = ${number}`),
      /** Requests a call through instance i and returns the challenge and the code its phone heard. */
      async listen(i: number, number: string) {
        const res = await on(i).api("POST", "/request-auth", { number });
        expect(res.status, res.text).toBe(201);
        const call = await a.simulator.waitForCall(callOf(res.body.id));
        return { id: res.body.id as string, code: codeHeard(call.heard) };
      },
    };
  }

  const parallel = <T>(n: number, fn: (i: number) => Promise<T>) => Promise.all(Array.from({ length: n }, (_, i) => fn(i)));
  /** Guesses name the challenge by number or by id, in turn on each instance. */
  const target = (i: number, number: string, id: string) => (Math.floor(i / 2) % 2 ? { id } : { number });
  const callOf = (id: string) => (c: CallRecord) => c.url.endsWith(`/call-2fa?c=${id}`);
  const reasons = (rs: ApiResponse[]) => rs.map((r) => (r.status === 200 ? "approved" : r.body.reason));
  /** Resend at once and often: the per-number limits have their own tests. */
  const unlimited = {
    RESEND_COOLDOWN_SECONDS: "0",
    CALLS_PER_NUMBER_PER_10_MIN: "100",
    CALLS_PER_NUMBER_PER_DAY: "100",
    CALLS_PER_PREFIX_PER_HOUR: "100",
  };

  it("approves exactly one of 20 concurrent right answers, and wipes the code", async () => {
    const s = await start();
    const number = "+12125550200";
    const { id, code } = await s.listen(0, number);
    const rs = await parallel(20, (i) => s.on(i).api("POST", "/validate-auth", { ...target(i, number, id), auth_code: code }));
    expect(rs.filter((r) => r.status === 200).map((r) => r.body)).toEqual([expect.objectContaining({ status: "approved", id })]);
    const denied = rs.filter((r) => r.status !== 200);
    expect(denied).toHaveLength(19);
    for (const r of denied) {
      expect(r.status).toBe(403);
      expect(r.body).toMatchObject({ status: "denied", reason: "no_pending_challenge", attempts_remaining: 0 });
    }
    for (const t of s.all) {
      expect((await t.api("GET", `/challenges/${id}`)).body).toMatchObject({ status: "approved", attempts_used: 0 });
    }
    expect(await s.challengesOf(number)).toEqual([{ id, status: "approved", attempts: 0, failures: 0, wiped: true }]);
  });

  it("counts exactly OTP_MAX_ATTEMPTS of 20 concurrent wrong answers, then refuses the right one", async () => {
    const s = await start();
    const number = "+12125550201";
    const { id, code } = await s.listen(0, number);
    const rs = await parallel(20, (i) =>
      s.on(i).api("POST", "/validate-auth", { ...target(i, number, id), auth_code: wrongCode(code) }),
    );
    expect(rs.every((r) => r.status === 403)).toBe(true);
    const incorrect = rs.filter((r) => r.body.reason === "incorrect");
    expect(incorrect.map((r) => r.body.attempts_remaining).sort()).toEqual([0, 1, 2, 3, 4]);
    expect(rs.filter((r) => r.body.reason === "too_many_attempts")).toHaveLength(15);
    for (const [i, t] of s.all.entries()) {
      const right = await t.api("POST", "/validate-auth", { ...target(2 * i, number, id), auth_code: code });
      expect(right.status).toBe(403);
      expect(right.body).toMatchObject({ reason: "too_many_attempts", attempts_remaining: 0 });
    }
    expect(await s.challengesOf(number)).toEqual([{ id, status: "too_many_attempts", attempts: 5, failures: 5, wiped: true }]);
  });

  it("approves at most once among concurrent right and wrong answers, never past the maximum", async () => {
    const s = await start();
    const number = "+12125550202";
    const { id, code } = await s.listen(0, number);
    const guesses = Array.from({ length: 24 }, (_, i) => (i % 2 ? wrongCode(code) : code));
    const rs = await parallel(24, (i) => s.on(i).api("POST", "/validate-auth", { ...target(i, number, id), auth_code: guesses[i] }));
    expect(rs.every((r) => r.status === 200 || r.status === 403)).toBe(true);
    const approved = rs.filter((r) => r.status === 200);
    const incorrect = rs.filter((r) => r.body.reason === "incorrect");
    // A wrong code is never approved, and a right one never counted as a wrong guess.
    expect(approved.every((r) => rs.indexOf(r) % 2 === 0)).toBe(true);
    expect(incorrect.every((r) => rs.indexOf(r) % 2 === 1)).toBe(true);
    const [row] = await s.challengesOf(number);
    expect(row).toMatchObject({ attempts: incorrect.length, failures: incorrect.length, wiped: true });
    if (approved.length === 1) {
      expect(approved[0]!.body).toMatchObject({ status: "approved", id });
      expect(row!.status).toBe("approved");
      expect(incorrect.length).toBeLessThan(5);
      expect(new Set(reasons(rs))).toEqual(new Set(["approved", "no_pending_challenge", ...(incorrect.length ? ["incorrect"] : [])]));
    } else {
      expect(approved).toHaveLength(0);
      expect(row!.status).toBe("too_many_attempts");
      expect(incorrect).toHaveLength(5);
      expect(reasons(rs.filter((_, i) => i % 2 === 0)).every((x) => x === "too_many_attempts")).toBe(true);
    }
  });

  it("leaves exactly one pending challenge after concurrent calls to one number; only its code works", async () => {
    const s = await start(unlimited);
    const number = "+12125550203";
    const superseded = new Map<string, string>(); // challenge id → the code its phone heard
    let pending: { id: string; code: string } | undefined;
    // Two waves: the second supersedes the first's survivor, whose code the phone surely heard.
    for (const wave of [0, 1]) {
      const before = s.simulator.calls().length;
      const rs = await parallel(10, (i) => s.on(i).api("POST", "/request-auth", { number }));
      expect(rs.map((r) => r.status)).toEqual(Array(10).fill(201));
      const ids = rs.map((r) => r.body.id as string);
      const calls = await Promise.all(ids.map((id) => s.simulator.waitForCall(callOf(id))));
      // Every 201 placed one call, and nothing else did.
      expect(s.simulator.calls().length - before).toBe(10);
      for (const id of ids) expect(s.simulator.calls().filter(callOf(id))).toHaveLength(1);
      for (const call of calls) expect(call.webhookErrors).toEqual([]);

      if (pending) superseded.set(pending.id, pending.code);
      const rows = await s.challengesOf(number);
      expect(rows).toHaveLength(10 * (wave + 1));
      const live = rows.filter((r) => r.status === "pending");
      expect(live).toHaveLength(1);
      expect(live[0]).toMatchObject({ wiped: false });
      expect(rows.filter((r) => r.status !== "pending")).toEqual(rows.filter((r) => r.status === "superseded" && r.wiped));
      for (const [k, call] of calls.entries()) {
        if (ids[k] === live[0]!.id) pending = { id: ids[k]!, code: codeHeard(call.heard) };
        // A call answered after its challenge was superseded reads no code.
        else if (call.heard.join(" ").includes(PHRASES.en!.codeIs)) superseded.set(ids[k]!, codeHeard(call.heard));
        else expect(call.heard.join(" ")).toContain(PHRASES.en!.unavailable);
      }
    }

    expect(superseded.size).toBeGreaterThan(0);
    const stale = [...superseded].filter(([, code]) => code !== pending!.code);
    for (const [k, [id, code]] of stale.entries()) {
      const byId = await s.on(k).api("POST", "/validate-auth", { id, auth_code: code });
      expect(byId.body).toMatchObject({ status: "denied", reason: "no_pending_challenge" });
    }
    // By number, an old code is a wrong guess at the pending challenge (4 leave it one).
    for (const [k, [, code]] of stale.slice(0, 4).entries()) {
      const byNumber = await s.on(k).api("POST", "/validate-auth", { number, auth_code: code });
      expect(byNumber.body).toMatchObject({ status: "denied", reason: "incorrect" });
    }
    const right = await s.on(1).api("POST", "/validate-auth", { number, auth_code: pending!.code });
    expect(right.body).toMatchObject({ status: "approved", id: pending!.id });
    expect((await s.challengesOf(number)).filter((r) => r.status === "pending")).toEqual([]);
  });

  it("keeps one pending challenge and single approvals when calls and guesses for one number race", async () => {
    const s = await start({ ...unlimited, OTP_MAX_ATTEMPTS: "20", FAILED_VALIDATIONS_PER_NUMBER_PER_DAY: "1000" });
    const number = "+12125550204";
    const first = await s.listen(0, number);
    const codeOf = new Map([[first.id, first.code]]); // every challenge's code, as its phone heard it
    const requests: ApiResponse[] = [];
    const guesses: Array<{ code: string; res: ApiResponse }> = [];
    const guess = async (i: number, by: { number: string } | { id: string }, code: string) => {
      const res = await s.on(i).api("POST", "/validate-auth", { ...by, auth_code: code });
      guesses.push({ code, res });
    };
    // A user asks for a call and types in what the phone says, while others do the same.
    const callAndAnswer = async (i: number) => {
      const res = await s.on(i).api("POST", "/request-auth", { number });
      requests.push(res);
      if (res.status !== 201) return;
      const call = await s.simulator.waitForCall(callOf(res.body.id));
      if (!call.heard.join(" ").includes(PHRASES.en!.codeIs)) return;
      codeOf.set(res.body.id, codeHeard(call.heard));
      await guess(i + 1, { number }, codeHeard(call.heard));
    };
    await Promise.all([
      ...Array.from({ length: 6 }, (_, i) => callAndAnswer(i)),
      ...Array.from({ length: 6 }, (_, i) => guess(i, target(i, number, first.id), first.code)),
      ...Array.from({ length: 3 }, (_, i) => guess(i, { number }, wrongCode(first.code))),
    ]);

    expect(requests.map((r) => r.status)).toEqual(Array(6).fill(201));
    expect(guesses.every(({ res }) => res.status === 200 || res.status === 403)).toBe(true);
    const calls = s.simulator.calls();
    expect(calls).toHaveLength(7);
    for (const call of calls) expect(call.webhookErrors).toEqual([]);
    for (const t of s.all) expect(t.logLines.filter((l) => JSON.parse(l).level >= 50)).toEqual([]);

    const approvals = guesses.filter(({ res }) => res.status === 200);
    const approvedIds = approvals.map(({ res }) => res.body.id as string);
    expect(new Set(approvedIds).size).toBe(approvedIds.length);
    // An approval names the very challenge whose code was sent.
    for (const { code, res } of approvals) expect(codeOf.get(res.body.id)).toBe(code);

    const rows = await s.challengesOf(number);
    expect(rows).toHaveLength(7);
    expect(rows.filter((r) => r.status === "pending").length).toBeLessThanOrEqual(1);
    expect(rows.filter((r) => r.status === "approved").map((r) => r.id).sort()).toEqual([...approvedIds].sort());
    expect(rows.filter((r) => r.status !== "pending").every((r) => r.wiped)).toBe(true);
    // Every wrong guess counted was answered "incorrect", and every "incorrect" was counted.
    const incorrect = guesses.filter(({ res }) => res.body.reason === "incorrect");
    expect(rows.reduce((n, r) => n + r.failures, 0)).toBe(incorrect.length);
  });

  it("sends a guess by number to the pending challenge when the instance that superseded it has a clock behind", async () => {
    const s = await start(unlimited);
    const number = "+12125550230";
    // Instance 0 runs a second ahead; with one instance, its clock steps back between the calls.
    s.on(0).clock.advance(1000);
    const first = await s.listen(0, number);
    if (s.all.length === 1) s.on(0).clock.advance(-1000);
    const second = await s.listen(1, number);
    const stored = await s.challengesOf(number);
    expect(stored.find((r) => r.id === first.id)?.status).toBe("superseded");
    expect(stored.find((r) => r.id === second.id)?.status).toBe("pending");
    const ok = await s.on(0).api("POST", "/validate-auth", { number, auth_code: second.code });
    expect(ok.status, ok.text).toBe(200);
    expect(ok.body).toMatchObject({ status: "approved", id: second.id });
  });
});

function wrongCode(code: string): string {
  return code.replace(/\d$/, (d) => String((Number(d) + 1) % 10));
}
