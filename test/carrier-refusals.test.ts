import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sql } from "drizzle-orm";
import { createApp } from "../src/http/app.js";
import { refusalsOf, type Refusal } from "./helpers/api-errors.js";
import { databaseKinds } from "./helpers/databases.js";
import { declaredRoutes, jsonSchemaOf, type Doc, type RouteDef } from "./helpers/openapi.js";
import { CARRIER_KINDS, startTestService, type ApiResponse, type TestService } from "./helpers/service.js";
import { numbers } from "./helpers/webhooks.js";

/** The variables the log must name when each carrier refuses the credentials. */
const CREDENTIALS = {
  twilio: ["TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN"],
  signalwire: ["SIGNALWIRE_PROJECT", "SIGNALWIRE_TOKEN", "SIGNALWIRE_SPACE"],
  telnyx: ["TELNYX_API_KEY"],
};

describe.each(CARRIER_KINDS)("a carrier's refusal through %s says what happened", (carrier) => {
  const refusals = refusalsOf(carrier);
  const nextNumber = numbers();
  let t: TestService;
  let doc: Doc;
  let routes: RouteDef[];

  beforeAll(async () => {
    t = await startTestService({ db: "pglite", carrier, env: { CARRIER_TIMEOUT_MS: "1000", CALLS_PER_PREFIX_PER_HOUR: "1000" } });
    doc = (await (await fetch(`${t.service.url}/openapi.json`)).json()) as Doc;
    routes = declaredRoutes(createApp(t.service.deps));
  });
  afterAll(() => t?.close());

  /** Asks for a call to a number the carrier answers so, and checks the answer is what /request-auth documents. */
  async function refused(r: Refusal): Promise<ApiResponse> {
    const number = nextNumber();
    t.simulator.setOutcome(number, r.outcome);
    const before = t.simulator.calls().length;
    const res = await t.api("POST", "/request-auth", { number });
    expect(t.simulator.calls().length).toBe(before);
    const route = routes.find((d) => d.method === "post" && d.path === "/request-auth")!;
    const declared = route.responses[res.status]?.content?.["application/json"]?.schema;
    expect(declared, `/request-auth declares ${res.status}`).toBeDefined();
    expect(declared!.safeParse(res.body).success, JSON.stringify(res.body)).toBe(true);
    const documented = doc.paths["/request-auth"].post.responses[res.status];
    expect(jsonSchemaOf(doc, documented.content["application/json"].schema).safeParse(res.body).success).toBe(true);
    expect(Object.keys(documented.content["application/json"].examples)).toContain(res.body.error.code);
    return res;
  }

  const carrierFields = (r: Refusal) => ({ carrier, carrier_code: String(r.outcome.code), carrier_status: r.outcome.status });

  it("answers a number the carrier calls invalid or unreachable with 400 invalid_number, and no challenge", async () => {
    const invalid = refusals.filter((r) => r.refusal === "invalid_number");
    expect(invalid.length).toBeGreaterThan(1);
    for (const r of invalid) {
      const res = await refused(r);
      expect(res.status, r.label).toBe(400);
      expect(res.body.error).toEqual({
        code: "invalid_number",
        message: expect.stringMatching(new RegExp(`^number: ${carrier} refused to call it \\(${r.outcome.code}\\): `)),
        ...carrierFields(r),
      });
    }
  });

  it.skipIf(carrier === "telnyx")("answers a destination the account may not call with 400 destination_not_allowed", async () => {
    const notAllowed = refusals.filter((r) => r.refusal === "destination_not_allowed");
    expect(notAllowed.map((r) => r.outcome.code)).toEqual(expect.arrayContaining([21215, 21216]));
    for (const r of notAllowed) {
      const res = await refused(r);
      expect(res.status, r.label).toBe(400);
      expect(res.body.error).toEqual({ code: "destination_not_allowed", message: expect.stringContaining(r.outcome.message.slice(0, 20)), ...carrierFields(r) });
      // The number in the carrier's words is masked, as everywhere.
      expect(res.text).not.toContain("+12125550140");
    }
  });

  it("answers refused credentials with 503 carrier_auth_failed, and logs an error naming the variables to check", async () => {
    for (const r of refusals.filter((x) => x.refusal === "credentials")) {
      const lines = t.logLines.length;
      const res = await refused(r);
      expect(res.status, r.label).toBe(503);
      expect(res.headers.get("retry-after")).toBeNull();
      expect(res.body.error).toEqual({ code: "carrier_auth_failed", message: expect.stringContaining("operator must correct them"), ...carrierFields(r) });
      const logged = t.logLines.slice(lines).map((l) => JSON.parse(l) as Record<string, unknown>);
      const loud = logged.filter((l) => l.level === 50);
      expect(loud, JSON.stringify(logged)).toHaveLength(1);
      expect(loud[0]).toMatchObject({ carrier, carrierCode: String(r.outcome.code), variables: CREDENTIALS[carrier] });
      for (const name of CREDENTIALS[carrier]) expect(loud[0]!.msg).toContain(name);
    }
  });

  it("answers throttling with 503 carrier_throttled and the carrier's wait as Retry-After", async () => {
    const throttled = refusals.filter((r) => r.refusal === "throttled");
    expect(throttled.length).toBeGreaterThan(0);
    for (const r of throttled) {
      const res = await refused(r);
      expect(res.status, r.label).toBe(503);
      expect(res.headers.get("retry-after")).toBe(String(r.retryAfterSeconds));
      expect(res.body.error).toEqual({
        code: "carrier_throttled",
        message: expect.stringContaining("retry after Retry-After"),
        ...carrierFields(r),
        retry_after_seconds: r.retryAfterSeconds,
      });
    }
  });

  it("answers any other refusal with 502 carrier_error: without a challenge when nothing was placed, with the failed one when a call may have been", async () => {
    const other = refusals.find((r) => r.refusal === "other")!;
    const outright = await refused(other);
    expect(outright.status).toBe(502);
    expect(outright.body.error).toEqual({ code: "carrier_error", message: expect.stringContaining(`${carrier} refused the call`), ...carrierFields(other) });

    // A server error may come after the carrier placed the call: the challenge stays, failed.
    const serverError = refusals.find((r) => r.refusal === undefined)!;
    const failed = await refused(serverError);
    expect(failed.status).toBe(502);
    expect(failed.body.error).toMatchObject({ code: "carrier_error", ...carrierFields(serverError), challenge_id: expect.stringMatching(/^ch_/) });
    const view = await t.api("GET", `/challenges/${failed.body.error.challenge_id}`);
    expect(view.body).toMatchObject({ status: "failed", failure_code: `rejected:${serverError.outcome.code}` });
  });

  it("still counts a call that may have rung: after a carrier timeout the number waits out its cooldown", async () => {
    const number = nextNumber();
    t.simulator.setOutcome(number, { kind: "api-timeout" });
    const timedOut = await t.api("POST", "/request-auth", { number });
    expect(timedOut.status).toBe(504);
    expect(timedOut.body.error.challenge_id).toMatch(/^ch_/);
    t.simulator.setOutcome(number, { kind: "answer" });
    const retried = await t.api("POST", "/request-auth", { number });
    expect(retried.status).toBe(429);
    expect(retried.body.error.limit).toBe("resend_cooldown");
  });
});

/**
 * A refused call rang nobody and cost nothing, so a demanding user expects it to count
 * toward nothing: not the resend cooldown (the person is still waiting for a call), not
 * the number's, range's or address's windows, not the day's spend cap. A call that may
 * have rung (a timeout, a carrier's 5xx) still counts: the phone may be ringing.
 */
describe.each((await databaseKinds()).flatMap((db) => CARRIER_KINDS.map((carrier) => ({ db, carrier }))))(
  "a refused call counts toward no limit, on $db through $carrier",
  ({ db, carrier }) => {
    const refusals = refusalsOf(carrier);
    let t: TestService;
    beforeAll(async () => {
      // Every limit at one call, so that any refused call counted would refuse the next request.
      t = await startTestService({
        db,
        carrier,
        env: {
          CARRIER_TIMEOUT_MS: "1000",
          RESEND_COOLDOWN_SECONDS: "30",
          CALLS_PER_NUMBER_PER_10_MIN: "1",
          CALLS_PER_NUMBER_PER_DAY: "1",
          CALLS_PER_PREFIX_PER_HOUR: "1",
          CALLS_PER_IP_PER_HOUR: "1",
          CALLS_PER_DAY: "1",
        },
      });
    });
    afterAll(() => t?.close());

    const ask = (number: string) => t.api("POST", "/request-auth", { number, client_ip: "203.0.113.9" });
    const rows = async <T>(query: ReturnType<typeof sql>) => t.service.deps.database.rows<T>(query);

    it("starts no cooldown, fills no window and spends no unit of the cap; the call placed after them does", async () => {
      const number = "+13035550150";
      const kinds = ["invalid_number", "destination_not_allowed", "credentials", "throttled", "other"] as const;
      const scripted = kinds.flatMap((k) => refusals.filter((r) => r.refusal === k).slice(0, 1));
      expect(scripted.length).toBeGreaterThanOrEqual(4);
      for (const r of scripted) {
        t.simulator.setOutcome(number, r.outcome);
        const res = await ask(number);
        expect([400, 502, 503], `${r.label}: ${res.text}`).toContain(res.status);
        expect(res.body.error.challenge_id, r.label).toBeUndefined();
      }
      expect(await rows<{ n: number }>(sql`select count(*)::int as n from challenges where number = ${number}`)).toEqual([{ n: 0 }]);
      expect(await rows<{ n: number }>(sql`select coalesce(sum(calls), 0)::int as n from call_counts`)).toEqual([{ n: 0 }]);

      t.simulator.setOutcome(number, { kind: "answer" });
      const placed = await ask(number);
      expect(placed.status, placed.text).toBe(201);
      expect(t.simulator.calls().filter((c) => c.to === number)).toHaveLength(1);

      // The call placed counts, so the limits are live: the same number waits out its cooldown,
      // and the next number of its range and address is refused too.
      const again = await ask(number);
      expect(again.status).toBe(429);
      expect(again.body.error.limit).toBe("resend_cooldown");
      const neighbour = await ask("+13035550151");
      expect(neighbour.status).toBe(429);
      expect(neighbour.body.error.limit).toBe("calls_per_prefix_per_hour");
      expect(await rows<{ n: number }>(sql`select coalesce(sum(calls), 0)::int as n from call_counts`)).toEqual([{ n: 1 }]);
    });
  },
);
