import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sql } from "drizzle-orm";
import { VoiceOtpClient, VoiceOtpError } from "../src/client/index.js";
import { sweep } from "../src/housekeeping.js";
import { createKey } from "../src/keys/api-keys.js";
import { carriedGuesses } from "../src/otp/rules.js";
import { createService } from "../src/services/store.js";
import { PHRASES } from "../src/voice/phrases.js";
import { API_ERRORS } from "./helpers/api-errors.js";
import { databaseKinds } from "./helpers/databases.js";
import { runScript } from "./helpers/process.js";
import { API_KEY, codeHeard, startTestService, type TestService } from "./helpers/service.js";

/** A code that is not this one. */
const wrongCode = (code: string) => code.replace(/^\d/, (d) => String((Number(d) + 1) % 10));

describe.each(await databaseKinds())("a service's challenges through the API on %s", (db) => {
  let t: TestService;
  let otherKey: string;

  beforeAll(async () => {
    t = await startTestService({ db, carrier: "twilio", env: { CALLS_PER_PREFIX_PER_HOUR: "1000", ALLOWED_COUNTRIES: "US,GB" } });
    const database = t.service.deps.database;
    const other = await createService(database, { name: "another-app", settings: {} }, t.clock.now(), () => {});
    otherKey = (await createKey(database, "another-app-backend", { serviceId: other.id, now: t.clock.now() })).key;
  });
  afterAll(() => t?.close());

  /** Requests a call to the number; the phone answers and hears the code. */
  async function callAndListen(number: string) {
    const res = await t.api("POST", "/request-auth", { number });
    expect(res.status, res.text).toBe(201);
    const call = await t.simulator.waitForCall({ sid: (await t.api("GET", `/challenges/${res.body.id}`)).body.call.sid });
    return { id: res.body.id as string, code: codeHeard(call.heard) };
  }

  describe("POST /challenges/{id}/cancel", () => {
    it("ends a challenge whose phone is still ringing: the phone then hears no code, and no guess is taken", async () => {
      const number = "+12125550401";
      t.simulator.setOutcome(number, { kind: "answer", hold: true });
      const res = await t.api("POST", "/request-auth", { number });
      expect(res.status, res.text).toBe(201);
      const held = await t.simulator.waitForHeld({ to: number });

      const canceled = await t.api("POST", `/challenges/${res.body.id}/cancel`);
      expect(canceled.status, canceled.text).toBe(200);
      expect(canceled.body).toMatchObject({ id: res.body.id, number, status: "canceled", ended_at: t.clock.now().toISOString() });
      // The same view as GET /challenges/{id}.
      expect((await t.api("GET", `/challenges/${res.body.id}`)).body).toEqual(canceled.body);
      const [row] = await t.service.deps.database.rows<{ code_mac: string | null; code_sealed: string | null }>(
        sql`select code_mac, code_sealed from challenges where id = ${res.body.id}`,
      );
      expect(row).toEqual({ code_mac: null, code_sealed: null });

      t.simulator.pickUp(held.sid);
      const call = await t.simulator.waitForCall({ sid: held.sid });
      const heard = call.heard.join(" ");
      expect(heard).toContain(PHRASES.en!.unavailable);
      expect(heard).not.toContain(PHRASES.en!.codeIs);
      expect(call.webhookErrors).toEqual([]);

      for (const by of [{ number }, { id: res.body.id }]) {
        const guess = await t.api("POST", "/validate-auth", { ...by, auth_code: "123456" });
        expect(guess.status).toBe(403);
        expect(guess.body).toMatchObject({ status: "denied", reason: "no_pending_challenge", challenge_id: res.body.id });
      }

      // Twice is the same: 200, and nothing moves.
      const again = await t.api("POST", `/challenges/${res.body.id}/cancel`);
      expect(again.status).toBe(200);
      expect(again.body).toMatchObject({ status: "canceled", ended_at: canceled.body.ended_at });
    });

    it("refuses a challenge that has ended otherwise with 409 challenge_not_pending, and changes nothing", async () => {
      const approved = await callAndListen("+12125550402");
      expect((await t.api("POST", "/validate-auth", { id: approved.id, auth_code: approved.code })).status).toBe(200);
      const before = (await t.api("GET", `/challenges/${approved.id}`)).body;
      const refused = await t.api("POST", `/challenges/${approved.id}/cancel`);
      expect(refused.status).toBe(409);
      expect(refused.body.error).toEqual({
        code: "challenge_not_pending",
        message: "the challenge is approved, not pending; nothing was changed",
        status: "approved",
      });
      expect((await t.api("GET", `/challenges/${approved.id}`)).body).toEqual(before);

      // A pending challenge past its expiry has expired: there is nothing left to cancel.
      const late = await callAndListen("+12125550403");
      t.clock.advance(600_000);
      const expired = await t.api("POST", `/challenges/${late.id}/cancel`);
      expect(expired.status).toBe(409);
      expect(expired.body.error).toMatchObject({ code: "challenge_not_pending", status: "expired" });
    });

    it("answers 404 for an unknown id and for another service's challenge", async () => {
      for (const id of ["ch_nope", "not an id", "x".repeat(65)]) {
        const res = await t.api("POST", `/challenges/${encodeURIComponent(id)}/cancel`);
        expect(res.status, id).toBe(404);
        expect(res.body.error.code).toBe("not_found");
      }
      const mine = await t.api("POST", "/request-auth", { number: "+12125550404" });
      const theirs = await t.api("POST", `/challenges/${mine.body.id}/cancel`, undefined, { key: otherKey });
      expect(theirs.status).toBe(404);
      expect((await t.api("GET", `/challenges/${mine.body.id}`)).body.status).toBe("pending");
    });

    it("keeps counting the call toward the limits, and its wrong guesses toward the number's budget", async () => {
      const number = "+12125550405";
      const first = await callAndListen(number);
      for (let i = 0; i < 2; i++) await t.api("POST", "/validate-auth", { number, auth_code: wrongCode(first.code) });
      expect((await t.api("POST", `/challenges/${first.id}/cancel`)).status).toBe(200);
      // The call was placed: the resend cooldown still holds.
      const soon = await t.api("POST", "/request-auth", { number });
      expect(soon.status).toBe(429);
      expect(soon.body.error.limit).toBe("resend_cooldown");
      t.clock.advance(31_000);
      // A cancel does not refill the guessing budget.
      const next = await t.api("POST", "/request-auth", { number });
      expect(next.status, next.text).toBe(201);
      expect(next.body.attempts_allowed).toBe(3);
      const now = t.clock.now();
      const canceled = { status: "canceled", attempts: 2, expiresAt: new Date(now.getTime() + 60_000) };
      expect(carriedGuesses([canceled], 5, now)).toEqual({ attempts: 2, exhaustedUntil: null });
    });
  });

  describe("GET /challenges", () => {
    it("pages through the service's challenges newest first, with no duplicate and no gap, filtered by time, number and status", async () => {
      // A day of its own, so the range filter isolates this test's challenges.
      const start = new Date("2026-05-04T08:00:00Z");
      t.clock.set(start);
      const created: string[] = [];
      for (let i = 0; i < 25; i++) {
        // Two at each instant: the id orders challenges created at the same moment.
        if (i % 2 === 0) t.clock.advance(1000);
        const res = await t.api("POST", "/request-auth", { number: `+1646555${String(1000 + i)}` });
        expect(res.status, res.text).toBe(201);
        created.push(res.body.id);
      }
      const range = `since=2026-05-04&until=${encodeURIComponent(new Date(start.getTime() + 3600_000).toISOString())}`;

      const seen: string[] = [];
      let cursor: string | null = null;
      const sizes: number[] = [];
      do {
        const page: { status: number; text: string; body: any } = await t.api("GET", `/challenges?${range}&limit=10${cursor ? `&cursor=${cursor}` : ""}`);
        expect(page.status, page.text).toBe(200);
        sizes.push(page.body.challenges.length);
        seen.push(...page.body.challenges.map((c: { id: string }) => c.id));
        for (const c of page.body.challenges) expect(Object.keys(c).sort()).toEqual(Object.keys((await t.api("GET", `/challenges/${c.id}`)).body).sort());
        cursor = page.body.next_cursor;
        // Challenges created meanwhile shift nothing: they are newer than every page.
        if (sizes.length === 1) {
          t.clock.advance(60_000);
          expect((await t.api("POST", "/request-auth", { number: "+16465552000" })).status).toBe(201);
        }
      } while (cursor);
      expect(sizes).toEqual([10, 10, 5]);
      expect(new Set(seen).size).toBe(25);
      expect(new Set(seen)).toEqual(new Set(created));
      // Newest first: by time, then by id among those of one instant.
      const views = await Promise.all(seen.map(async (id) => (await t.api("GET", `/challenges/${id}`)).body));
      for (let i = 1; i < views.length; i++) {
        const [a, b] = [views[i - 1], views[i]];
        expect(a.created_at >= b.created_at).toBe(true);
      }

      const all = await t.api("GET", `/challenges?${range}&limit=100`);
      expect(all.body.challenges.map((c: { id: string }) => c.id)).toEqual([expect.any(String), ...seen]);
      expect(all.body.next_cursor).toBeNull();
      expect(all.text).not.toMatch(/code_mac|code_sealed|sealed/);

      // By number, in any spelling it is accepted in.
      const byNumber = await t.api("GET", `/challenges?number=${encodeURIComponent("(646) 555-1003")}`);
      expect(byNumber.status, byNumber.text).toBe(200);
      expect(byNumber.body.challenges.map((c: { id: string }) => c.id)).toEqual([created[3]]);

      // By status, as the view shows it.
      expect((await t.api("POST", `/challenges/${created[0]}/cancel`)).status).toBe(200);
      const canceled = await t.api("GET", `/challenges?${range}&status=canceled`);
      expect(canceled.body.challenges.map((c: { id: string }) => c.id)).toEqual([created[0]]);
      const pending = await t.api("GET", `/challenges?${range}&status=pending&limit=100`);
      expect(pending.body.challenges).toHaveLength(25);
      t.clock.advance(600_000);
      expect((await t.api("GET", `/challenges?${range}&status=pending`)).body.challenges).toEqual([]);
      expect((await t.api("GET", `/challenges?${range}&status=expired&limit=100`)).body.challenges).toHaveLength(25);

      // Another service's key sees none of them.
      const theirs = await t.api("GET", `/challenges?limit=100`, undefined, { key: otherKey });
      expect(theirs.status).toBe(200);
      expect(theirs.body).toEqual({ challenges: [], next_cursor: null });
      const default20 = await t.api("GET", "/challenges");
      expect(default20.body.challenges).toHaveLength(20);
    });

    it("refuses a bad filter with 400 invalid_request naming the field", async () => {
      const cases: Array<[string, string]> = [
        ["limit=0", "limit"],
        ["limit=101", "limit"],
        ["limit=ten", "limit"],
        ["status=done", "status"],
        ["since=yesterday", "since"],
        ["until=2026-13-01", "until"],
        // A year PostgreSQL does not have: refused here, never a 500 from the database.
        ["since=0000-01-01", "since"],
        ["until=0000-01-01", "until"],
        ["number=12", "number"],
        ["cursor=bm90IGEgY3Vyc29y", "cursor"],
        ["cursor=%21%21", "cursor"],
      ];
      for (const [query, field] of cases) {
        const res = await t.api("GET", `/challenges?${query}`);
        expect(res.status, query).toBe(400);
        expect(res.body.error, query).toMatchObject({ code: "invalid_request", field, message: expect.stringMatching(new RegExp(`^${field}: `)) });
      }
    });
  });
});

describe.each(await databaseKinds())("GET /stats on %s", (db) => {
  let t: TestService;
  beforeAll(async () => {
    t = await startTestService({ db, carrier: "twilio", env: { OTP_MAX_ATTEMPTS: "2", ALLOWED_COUNTRIES: "US,GB" } });
  });
  afterAll(() => t?.close());

  /** Requests a call (and again at once, when `resend`); once the phone has heard it, wrong codes, then the code after `approveAfter` seconds. */
  async function verify(number: string, opts: { approveAfter?: number; wrong?: number; resend?: boolean } = {}) {
    const res = await t.api("POST", "/request-auth", { number });
    expect(res.status, res.text).toBe(201);
    if (opts.resend) expect((await t.api("POST", "/request-auth", { number })).body.error.limit).toBe("resend_cooldown");
    const call = await t.simulator.waitForCall({ sid: (await t.api("GET", `/challenges/${res.body.id}`)).body.call.sid });
    if (call.status !== "completed") return res.body.id as string;
    const code = codeHeard(call.heard);
    for (let i = 0; i < (opts.wrong ?? 0); i++) await t.api("POST", "/validate-auth", { id: res.body.id, auth_code: wrongCode(code) });
    if (opts.approveAfter !== undefined) {
      t.clock.advance(opts.approveAfter * 1000);
      expect((await t.api("POST", "/validate-auth", { id: res.body.id, auth_code: code })).status).toBe(200);
    }
    return res.body.id as string;
  }

  it("counts requests, calls, answers, approvals, the median time to approval and refusals by limit, by day and by country", async () => {
    // 2026-03-09: two approved in the US after 10 s and 30 s; a resend inside the cooldown refused.
    t.clock.set(new Date("2026-03-09T10:00:00Z"));
    await verify("+12125550501", { approveAfter: 10 });
    await verify("+12125550502", { approveAfter: 30, resend: true });

    // 2026-03-10: in GB one answered and not approved; in the US a busy line, one approved after
    // 50 s, one whose guesses ran out (asking again is refused: attempts_exhausted), and one the
    // carrier failed to place; a key over its rate.
    t.clock.set(new Date("2026-03-10T09:00:00Z"));
    await verify("+442079460501", { wrong: 1 });
    t.simulator.setOutcome("+12125550503", { kind: "busy" });
    await verify("+12125550503");
    await verify("+12125550504", { approveAfter: 50 });
    await verify("+12125550505", { wrong: 2 });
    t.clock.advance(31_000);
    const exhausted = await t.api("POST", "/request-auth", { number: "+12125550505" });
    expect(exhausted.body.error.code).toBe("attempts_exhausted");
    t.simulator.setOutcome("+12125550506", API_ERRORS.serverError);
    expect((await t.api("POST", "/request-auth", { number: "+12125550506" })).status).toBe(502);
    const { key: slow } = await createKey(t.service.deps.database, "stats-slow", { ratePerMinute: 1, now: t.clock.now() });
    expect((await t.api("GET", "/challenges", undefined, { key: slow })).status).toBe(200);
    expect((await t.api("GET", "/challenges", undefined, { key: slow })).status).toBe(429);

    const counts = (requests: number, placed: number, answered: number, approved: number, median: number | null, refusals: Record<string, number>) => ({
      requests,
      calls_placed: placed,
      answered,
      approved,
      conversion_rate: requests ? approved / requests : 0,
      median_seconds_to_approval: median,
      refusals,
    });
    const totals = counts(7, 6, 5, 3, 30, { resend_cooldown: 1, attempts_exhausted: 1, requests_per_key_per_minute: 1 });
    const range = "since=2026-03-09&until=2026-03-11";

    const byDay = await t.api("GET", `/stats?${range}`);
    expect(byDay.status, byDay.text).toBe(200);
    expect(byDay.body).toEqual({
      since: "2026-03-09T00:00:00.000Z",
      until: "2026-03-11T00:00:00.000Z",
      group_by: "day",
      groups: [
        { key: "2026-03-09", ...counts(2, 2, 2, 2, 20, { resend_cooldown: 1 }) },
        { key: "2026-03-10", ...counts(5, 4, 3, 1, 50, { attempts_exhausted: 1, requests_per_key_per_minute: 1 }) },
      ],
      totals,
    });

    const byCountry = await t.api("GET", `/stats?${range}&group_by=country`);
    expect(byCountry.status, byCountry.text).toBe(200);
    expect(byCountry.body.groups).toEqual([
      // Refused before its number was known: no country.
      { key: "", ...counts(0, 0, 0, 0, null, { requests_per_key_per_minute: 1 }) },
      { key: "GB", ...counts(1, 1, 1, 0, null, {}) },
      { key: "US", ...counts(6, 5, 4, 3, 30, { resend_cooldown: 1, attempts_exhausted: 1 }) },
    ]);
    expect(byCountry.body.totals).toEqual(totals);

    // By default the last 7 UTC days, today included, each one listed.
    const week = await t.api("GET", "/stats");
    expect(week.body).toMatchObject({ since: "2026-03-04T00:00:00.000Z", until: "2026-03-11T00:00:00.000Z", group_by: "day", totals });
    expect(week.body.groups.map((g: { key: string }) => g.key)).toEqual(["04", "05", "06", "07", "08", "09", "10"].map((d) => `2026-03-${d}`));
    expect(week.body.groups[0]).toEqual({ key: "2026-03-04", ...counts(0, 0, 0, 0, null, {}) });

    // A range is the instants in it: the second day alone.
    const secondDay = await t.api("GET", "/stats?since=2026-03-10T00:00:00Z&until=2026-03-11T00:00:00Z&group_by=country");
    expect(secondDay.body.totals).toMatchObject({ requests: 5, approved: 1 });

    // Another service's key sees none of it.
    const database = t.service.deps.database;
    const other = await createService(database, { name: "stats-other", settings: {} }, t.clock.now(), () => {});
    const { key } = await createKey(database, "stats-other-backend", { serviceId: other.id, now: t.clock.now() });
    const theirs = await t.api("GET", `/stats?${range}`, undefined, { key });
    expect(theirs.status).toBe(200);
    expect(theirs.body.totals).toEqual(counts(0, 0, 0, 0, null, {}));

    // Housekeeping drops a day's refusals once all of it is older than RETENTION_HOURS.
    await sweep(database, new Date("2026-03-11T01:00:00Z"), 24);
    const kept = await database.rows<{ day: Date | string }>(sql`select distinct day from limit_refusals`);
    expect(kept.map((r) => new Date(r.day).toISOString())).toEqual(["2026-03-10T00:00:00.000Z"]);
  });

  it("refuses a bad range with 400 invalid_request naming the field", async () => {
    const cases: Array<[string, string]> = [
      ["since=2026-03-10&until=2026-03-10", "since"],
      ["since=2025-01-01&until=2026-01-03", "until"],
      ["group_by=week", "group_by"],
      ["since=last-week", "since"],
      ["until=2026-03-10T25:00:00Z", "until"],
      ["until=0000-01-01", "until"],
    ];
    for (const [query, field] of cases) {
      const res = await t.api("GET", `/stats?${query}`);
      expect(res.status, query).toBe(400);
      expect(res.body.error, query).toMatchObject({ code: "invalid_request", field });
    }
    // 366 days is the longest range.
    expect((await t.api("GET", "/stats?since=2025-01-01&until=2026-01-02")).status).toBe(200);
  });
});

describe("the client and the command line", () => {
  let t: TestService;
  let client: VoiceOtpClient;
  beforeAll(async () => {
    t = await startTestService({ db: "pglite", carrier: "twilio" });
    client = new VoiceOtpClient({ baseUrl: t.service.url, apiKey: API_KEY });
  });
  afterAll(() => t?.close());

  async function cli(args: string[]) {
    const p = runScript("src/cli/main.ts", { VOICE_OTP_URL: t.service.url, VOICE_OTP_API_KEY: API_KEY }, args);
    const code = await p.exited;
    return { code, stdout: p.stdout(), stderr: p.stderr() };
  }

  it("lists page by page, cancels, and reads the statistics with their limits' names as the service spells them", async () => {
    const ids: string[] = [];
    for (const number of ["+12125550601", "+12125550602", "+12125550603"]) {
      t.clock.advance(1000);
      ids.push((await client.requestAuth(number)).id);
    }
    expect((await t.api("POST", "/request-auth", { number: "+12125550603" })).status).toBe(429);

    const first = await client.listChallenges({ limit: 2 });
    expect(first.challenges.map((c) => c.id)).toEqual([ids[2], ids[1]]);
    expect(first.nextCursor).toEqual(expect.any(String));
    const all: string[] = [];
    for await (const c of client.eachChallenge({ limit: 1, since: new Date(0) })) all.push(c.id);
    expect(all).toEqual([...ids].reverse());

    const canceled = await client.cancelChallenge(ids[0]!);
    expect(canceled).toMatchObject({ id: ids[0], status: "canceled", attemptsUsed: 0 });
    const refused = await client.cancelChallenge("ch_nope").catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(VoiceOtpError);
    expect(refused).toMatchObject({ status: 404, code: "not_found" });

    const stats = await client.getStats({ groupBy: "country" });
    expect(stats.groupBy).toBe("country");
    expect(stats.totals).toMatchObject({ requests: 3, callsPlaced: 3, approved: 0, conversionRate: 0, medianSecondsToApproval: null, refusals: { resend_cooldown: 1 } });
    expect(stats.groups).toEqual([expect.objectContaining({ key: "US", requests: 3 })]);

    const list = await cli(["challenges", "list", "--limit", "2"]);
    expect(list.code, list.stderr).toBe(0);
    const lines = list.stdout.trim().split("\n");
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatch(new RegExp(`^${ids[2]}  \\S+  \\+12125550603  pending  call \\S+$`));
    expect(lines[2]).toBe(`more: add --cursor ${first.nextCursor}`);

    const cancel = await cli(["challenges", "cancel", ids[1]!]);
    expect(cancel.code, cancel.stderr).toBe(0);
    expect(cancel.stdout).toBe(`canceled ${ids[1]} (+12125550602); nothing more can be approved with its code\n`);
    const again = await cli(["challenges", "list", "--status", "canceled", "--json"]);
    expect(JSON.parse(again.stdout).challenges.map((c: { id: string }) => c.id)).toEqual([ids[1], ids[0]]);
    const bad = await cli(["challenges", "list", "--status", "done"]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/^voice-otp: invalid_request: status: /);

    const table = await cli(["stats", "--group-by", "country"]);
    expect(table.code, table.stderr).toBe(0);
    expect(table.stdout).toMatch(/\nUS +3 +3 +\d +0 +0\.0% +- +resend_cooldown=1\ntotal +3 +3 +\d +0 +0\.0% +- +resend_cooldown=1\n$/);
    const wrongGroup = await cli(["stats", "--group-by", "week"]);
    expect(wrongGroup).toMatchObject({ code: 1, stderr: "voice-otp: --group-by takes day or country\n" });
  }, 60_000);
});
