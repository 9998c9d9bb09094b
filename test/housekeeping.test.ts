import { sql } from "drizzle-orm";
import { afterEach, describe, expect, it } from "vitest";
import { sweep } from "../src/housekeeping.js";
import { databaseKinds } from "./helpers/databases.js";
import { codeHeard, startTestService, type TestService } from "./helpers/service.js";

describe.each(await databaseKinds())("housekeeping on %s", (db) => {
  let t: TestService | undefined;
  afterEach(async () => {
    await t?.close();
    t = undefined;
  });

  const rowsOf = (t: TestService, id: string) =>
    t.service.deps.database.rows<{ status: string; code_mac: string | null; code_sealed: string | null }>(
      sql`select status, code_mac, code_sealed from challenges where id = ${id}`,
    );

  it("wipes an expired code at the next sweep, and purges ended challenges after RETENTION_HOURS", async () => {
    t = await startTestService({ db, carrier: "twilio", env: { RETENTION_HOURS: "48" } });
    const database = t.service.deps.database;
    const ended = await t.api("POST", "/request-auth", { number: "+12125550150" });
    const call = await t.simulator.waitForCall({ to: "+12125550150" });
    expect((await t.api("POST", "/validate-auth", { id: ended.body.id, auth_code: codeHeard(call.heard) })).status).toBe(200);
    const left = await t.api("POST", "/request-auth", { number: "+12125550151" });
    await t.simulator.waitForCall({ to: "+12125550151" });
    // Its call has ended, which wiped the sealed copy; the MAC is kept for checking until the code expires.
    expect(await rowsOf(t, left.body.id)).toEqual([{ status: "pending", code_mac: expect.any(String), code_sealed: null }]);

    t.clock.advance(601_000);
    // Two instances sweeping at once: the statements are idempotent, so the total is the same.
    const [a, b] = await Promise.all([sweep(database, t.clock.now(), 48), sweep(database, t.clock.now(), 48)]);
    expect(a.expired + b.expired).toBe(1);
    expect(await rowsOf(t, left.body.id)).toEqual([{ status: "expired", code_mac: null, code_sealed: null }]);
    expect((await t.api("GET", `/challenges/${left.body.id}`)).body.status).toBe("expired");

    t.clock.advance(47 * 3600_000);
    expect((await sweep(database, t.clock.now(), 48)).purged).toBe(0);
    t.clock.advance(3600_000);
    expect((await sweep(database, t.clock.now(), 48)).purged).toBe(2);
    expect((await t.api("GET", `/challenges/${ended.body.id}`)).status).toBe(404);
    expect(await database.rows(sql`select * from call_events where challenge_id in (${ended.body.id}, ${left.body.id})`)).toEqual([]);
  });

  it("keeps a pending challenge however old its retention, and clears closed rate windows", async () => {
    t = await startTestService({ db, carrier: "twilio", env: { OTP_TTL_SECONDS: "86400" } });
    const database = t.service.deps.database;
    const res = await t.api("POST", "/request-auth", { number: "+12125550152" });
    t.clock.advance(23 * 3600_000);
    const swept = await sweep(database, t.clock.now(), 24);
    expect(swept).toMatchObject({ expired: 0, purged: 0 });
    expect(swept.windows).toBeGreaterThan(0);
    expect((await rowsOf(t, res.body.id))[0]!.status).toBe("pending");
    expect(await database.rows(sql`select * from rate_windows`)).toEqual([]);
  });

  it("refuses a retention shorter than the limits' 24-hour window", async () => {
    await expect(startTestService({ db, carrier: "twilio", env: { RETENTION_HOURS: "12" } })).rejects.toThrow(
      /^RETENTION_HOURS: must be at least 24/,
    );
  });
});
