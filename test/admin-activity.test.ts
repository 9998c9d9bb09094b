import { createHash } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { newSecret } from "../src/events/signature.js";
import { createKey, revokeKey } from "../src/keys/api-keys.js";
import { createService } from "../src/services/store.js";
import { databaseKinds } from "./helpers/databases.js";
import { startReceiver, type Receiver } from "./helpers/event-receiver.js";
import { API_KEY, codeHeard, startTestService, type TestService } from "./helpers/service.js";

/**
 * A service's activity through the admin API, as the /admin page reads it: its challenges
 * with numbers masked, its statistics, its event deliveries and its keys, for an admin key
 * only, any service by id.
 */

const ADMIN = "admin-key-0123456789abcdef";

describe.each(await databaseKinds())("a service's activity through the admin API on %s", (db) => {
  let t: TestService;
  let receiver: Receiver;
  let otherId: string;
  let otherKey: string;
  const admin = { key: ADMIN };

  beforeAll(async () => {
    // The backend takes every event but call.answered, which it refuses (503): those are retried.
    receiver = await startReceiver({ answer: (d) => (JSON.parse(d.body) as { type: string }).type === "call.answered" ? 503 : 200 });
    t = await startTestService({
      db,
      carrier: "twilio",
      env: { ADMIN_API_KEYS: ADMIN, WEBHOOK_URL: receiver.url, WEBHOOK_SECRET: newSecret(), WEBHOOK_RETRY_BASE_SECONDS: "3600" },
    });
    const database = t.service.deps.database;
    const other = await createService(database, { name: "another-app", settings: {} }, t.clock.now(), () => {});
    otherId = other.id;
    otherKey = (await createKey(database, "another-backend", { serviceId: other.id, now: t.clock.now() })).key;
  });
  afterAll(async () => {
    await t?.close();
    await receiver?.close();
  });

  async function approvedCall(number: string, key = API_KEY): Promise<string> {
    const res = await t.api("POST", "/request-auth", { number }, { key });
    expect(res.status, res.text).toBe(201);
    const call = await t.simulator.waitForCall((c) => c.url.endsWith(`c=${res.body.id}`));
    const ok = await t.api("POST", "/validate-auth", { id: res.body.id, auth_code: codeHeard(call.heard) }, { key });
    expect(ok.status, ok.text).toBe(200);
    return res.body.id as string;
  }

  it("lists a service's challenges, newest first, as /challenges does for its key but with the numbers masked", async () => {
    const first = await approvedCall("+14155550123");
    t.clock.advance(1000);
    const second = await approvedCall("+14155550124");
    await approvedCall("+14155550125", otherKey);
    const own = await t.api("GET", "/challenges");
    const res = await t.api("GET", "/services/default/challenges?limit=2", undefined, admin);
    expect(res.status, res.text).toBe(200);
    expect(res.body.challenges.map((c: { id: string }) => c.id)).toEqual([second, first]);
    expect(res.body.challenges[0]).toEqual({ ...own.body.challenges[0], number: "+1415•••0124" });
    expect(res.text).not.toMatch(/\+1415555012/);
    // Filtered by a number as given, and paged as the key's list is.
    const one = await t.api("GET", `/services/default/challenges?number=${encodeURIComponent("(415) 555-0123")}`, undefined, admin);
    expect(one.body.challenges.map((c: { id: string }) => c.id)).toEqual([first]);
    const other = await t.api("GET", `/services/${otherId}/challenges`, undefined, admin);
    expect(other.body.challenges.map((c: { number: string }) => c.number)).toEqual(["+1415•••0125"]);
  });

  it("gives a service's statistics by day and by country, as /stats gives them to its key", async () => {
    for (const groupBy of ["day", "country"]) {
      const mine = await t.api("GET", `/stats?group_by=${groupBy}`);
      const res = await t.api("GET", `/services/default/stats?group_by=${groupBy}`, undefined, admin);
      expect(res.status, res.text).toBe(200);
      expect(res.body).toEqual(mine.body);
    }
    const other = await t.api("GET", `/services/${otherId}/stats?group_by=country`, undefined, admin);
    expect(other.body.totals).toMatchObject({ requests: 1, calls_placed: 1, approved: 1 });
    const tooLong = await t.api("GET", "/services/default/stats?since=2026-01-01&until=2027-06-01", undefined, admin);
    expect(tooLong.status).toBe(400);
    expect(tooLong.body.error).toMatchObject({ code: "invalid_request", field: "until" });
  });

  it("counts event deliveries per day, delivered and retrying after a refusal, and lists the failing ones with the receiver's answer", async () => {
    const approvedEvents = 2; // the default service's two approvals above
    let res;
    for (let i = 0; i < 100; i++) {
      t.service.dispatcher.kick();
      res = await t.api("GET", "/services/default/event-deliveries", undefined, admin);
      const today = res.body.days.at(-1);
      if (today.delivered === approvedEvents && today.retrying === 2) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(res!.status, res!.text).toBe(200);
    expect(res!.body.days).toHaveLength(7);
    expect(res!.body.days.at(-1)).toEqual({ day: t.clock.now().toISOString().slice(0, 10), delivered: approvedEvents, retrying: 2, failed: 0 });
    expect(res!.body.days.slice(0, 6).every((d: { delivered: number }) => d.delivered === 0)).toBe(true);
    expect(res!.body.failing).toHaveLength(2);
    expect(res!.body.failing[0]).toMatchObject({ type: "call.answered", state: "pending", attempts: 1, last_status: 503 });
    expect(typeof res!.body.failing[0].next_attempt_at).toBe("string");
  });

  it("lists a service's keys by name and dates, revoked ones too, never a key", async () => {
    const database = t.service.deps.database;
    const made = await createKey(database, "web-backend", { now: t.clock.now(), ratePerMinute: 600 });
    const madeAt = t.clock.now().toISOString();
    t.clock.advance(1000);
    await createKey(database, "old-backend", { now: t.clock.now() });
    await revokeKey(database, "old-backend", t.clock.now());
    await createKey(database, "ops", { admin: true, now: t.clock.now() });
    const res = await t.api("GET", "/services/default/keys", undefined, admin);
    expect(res.status, res.text).toBe(200);
    const envName = `env:${createHash("sha256").update(API_KEY).digest("hex").slice(0, 8)}`;
    const now = t.clock.now().toISOString();
    expect(res.body.keys).toEqual([
      { name: envName, source: "environment", rate_per_minute: null, created_at: null, revoked_at: null },
      { name: "web-backend", source: "database", rate_per_minute: 600, created_at: madeAt, revoked_at: null },
      { name: "old-backend", source: "database", rate_per_minute: null, created_at: now, revoked_at: now },
    ]);
    expect(res.text).not.toContain(made.key);
    expect(res.text).not.toContain(API_KEY);
    const other = await t.api("GET", `/services/${otherId}/keys`, undefined, admin);
    expect(other.body.keys.map((k: { name: string }) => k.name)).toEqual(["another-backend"]);
  });

  it("answers an admin key only, and an unknown service 404", async () => {
    for (const path of ["challenges", "stats", "event-deliveries", "keys"]) {
      const serviceKey = await t.api("GET", `/services/default/${path}`);
      expect(serviceKey.status, path).toBe(403);
      expect(serviceKey.body.error.code).toBe("forbidden");
      expect((await t.api("GET", `/services/default/${path}`, undefined, { key: null })).status, path).toBe(401);
      const unknown = await t.api("GET", `/services/svc_nope/${path}`, undefined, admin);
      expect(unknown.status, path).toBe(404);
      expect(unknown.body.error.code).toBe("not_found");
    }
  });
});
