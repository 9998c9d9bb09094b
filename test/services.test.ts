import { afterEach, describe, expect, it } from "vitest";
import { createKey } from "../src/keys/api-keys.js";
import { PHRASES } from "../src/voice/phrases.js";
import { serviceSettings } from "../src/services/settings.js";
import { createService, updateService, type StoredService } from "../src/services/store.js";
import { databaseKinds, type DbKind } from "./helpers/databases.js";
import { codeHeard, startTestService, type ApiResponse, type TestService } from "./helpers/service.js";

/**
 * Two apps on one deployment: each service speaks its own words, makes its own codes,
 * counts its own numbers and sees only its own challenges, while the ranges, the
 * addresses and the spend cap hold over all of them. On PostgreSQL through two
 * instances sharing the database, on PGlite through one.
 */
describe.each(await databaseKinds())("services on %s", (db: DbKind) => {
  let instances: TestService[] = [];
  afterEach(async () => {
    for (const t of instances.reverse()) await t.close();
    instances = [];
  });

  async function start(env: Record<string, string> = {}) {
    const a = await startTestService({ db, carrier: "twilio", env: { RESEND_COOLDOWN_SECONDS: "0", ...env } });
    instances.push(a);
    const b = db === "postgres" ? await startTestService({ db, carrier: "twilio", env: { RESEND_COOLDOWN_SECONDS: "0", ...env }, shareWith: a }) : a;
    if (b !== a) instances.push(b);
    const database = a.service.deps.database;
    const check = (s: StoredService) => serviceSettings(a.service.deps.services.default, s, "twilio");
    /** A service, and a key of it. */
    async function service(name: string, settings: Record<string, unknown>) {
      const created = await createService(database, { name, settings }, a.clock.now(), check);
      const { key } = await createKey(database, `${name}-key`, { serviceId: created.id, now: a.clock.now() });
      return { ...created, key };
    }
    return { a, b, database, check, service };
  }

  async function heard(t: TestService, res: ApiResponse): Promise<string> {
    expect(res.status, res.text).toBe(201);
    const call = await t.simulator.waitForCall((c) => c.url.includes(res.body.id));
    return call.heard.join(" ");
  }

  it("speaks each service's friendly name and reads codes of each service's length", async () => {
    const s = await start({ ORG_NAME: "Default Co" });
    const shop = await s.service("shop", { org_name: "Acme Shop", code_length: 8 });
    const tool = await s.service("tool", { org_name: "Acme Internal", code_length: 4, max_attempts: 2 });

    const fromShop = await s.a.api("POST", "/request-auth", { number: "+14155550101" }, { key: shop.key });
    expect(fromShop.body.attempts_allowed).toBe(5);
    const shopHeard = await heard(s.a, fromShop);
    expect(shopHeard).toContain(PHRASES.en!.greeting("Acme Shop"));
    expect(codeHeard([shopHeard])).toHaveLength(8);

    const fromTool = await s.b.api("POST", "/request-auth", { number: "+14155550102" }, { key: tool.key });
    expect(fromTool.body.attempts_allowed).toBe(2);
    const toolHeard = await heard(s.a, fromTool);
    expect(toolHeard).toContain(PHRASES.en!.greeting("Acme Internal"));
    expect(codeHeard([toolHeard])).toHaveLength(4);

    // The environment's own keys act in the default service, as before services existed.
    const fromDefault = await s.a.api("POST", "/request-auth", { number: "+14155550103" });
    const defaultHeard = await heard(s.a, fromDefault);
    expect(defaultHeard).toContain(PHRASES.en!.greeting("Default Co"));
    expect(codeHeard([defaultHeard])).toHaveLength(6);
    expect((await s.a.api("GET", `/challenges/${fromDefault.body.id}`)).body.service).toBe("default");
    expect((await s.a.api("GET", `/challenges/${fromShop.body.id}`, undefined, { key: shop.key })).body.service).toBe(shop.id);
  });

  it("lets a key see, validate and spend guesses only in its own service", async () => {
    const s = await start();
    const shop = await s.service("shop", {});
    const tool = await s.service("tool", {});
    const number = "+14155550111";
    // One number, pending in two services at once: each its own challenge and code.
    const inShop = await s.a.api("POST", "/request-auth", { number }, { key: shop.key });
    const shopCode = codeHeard([await heard(s.a, inShop)]);
    const inTool = await s.b.api("POST", "/request-auth", { number }, { key: tool.key });
    const toolCode = codeHeard([await heard(s.a, inTool)]);

    // Reading another service's challenge is the same 404 as an unknown id.
    const foreign = await s.a.api("GET", `/challenges/${inShop.body.id}`, undefined, { key: tool.key });
    const unknown = await s.a.api("GET", "/challenges/ch_nothing_by_this_id_000", undefined, { key: tool.key });
    expect([foreign.status, foreign.body]).toEqual([404, unknown.body]);

    // Validating another service's challenge by id finds nothing, and spends none of its guesses.
    const byForeignId = await s.b.api("POST", "/validate-auth", { id: inShop.body.id, auth_code: shopCode }, { key: tool.key });
    expect([byForeignId.status, byForeignId.body.reason, byForeignId.body.challenge_id]).toEqual([403, "no_pending_challenge", undefined]);
    const wrongById = await s.b.api("POST", "/validate-auth", { id: inShop.body.id, auth_code: "00000000" }, { key: tool.key });
    expect(wrongById.body.reason).toBe("no_pending_challenge");
    expect((await s.a.api("GET", `/challenges/${inShop.body.id}`, undefined, { key: shop.key })).body.attempts_used).toBe(0);

    // By number, each key looks only in its service: the other service's code is wrong here.
    if (shopCode !== toolCode) {
      const crossed = await s.a.api("POST", "/validate-auth", { number, auth_code: shopCode }, { key: tool.key });
      expect([crossed.status, crossed.body.reason, crossed.body.challenge_id]).toEqual([403, "incorrect", inTool.body.id]);
    }
    const approved = await s.a.api("POST", "/validate-auth", { number, auth_code: shopCode }, { key: shop.key });
    expect([approved.status, approved.body.id]).toEqual([200, inShop.body.id]);
    // The tool's challenge is still pending, untouched by the shop's approval.
    const toolView = (await s.b.api("GET", `/challenges/${inTool.body.id}`, undefined, { key: tool.key })).body;
    expect(toolView.status).toBe("pending");
    expect((await s.b.api("POST", "/validate-auth", { number, auth_code: toolCode }, { key: tool.key })).status).toBe(200);
  });

  it("counts a number within each service, with each service's own per-number limits", async () => {
    const s = await start({ CALLS_PER_NUMBER_PER_10_MIN: "2" });
    const shop = await s.service("shop", {});
    const strict = await s.service("strict", { calls_per_number_per_10_min: 1 });
    const number = "+14155550121";
    const shopCalls = await Promise.all([0, 1, 2].map((i) => (i % 2 ? s.b : s.a).api("POST", "/request-auth", { number }, { key: shop.key })));
    expect(shopCalls.map((r) => r.status).sort()).toEqual([201, 201, 429]);
    // The shop's two calls do not count against the strict service's one.
    const strictCalls = await Promise.all([0, 1].map((i) => (i % 2 ? s.b : s.a).api("POST", "/request-auth", { number }, { key: strict.key })));
    expect(strictCalls.map((r) => r.status).sort()).toEqual([201, 429]);
    const refused = strictCalls.find((r) => r.status === 429)!;
    expect(refused.body.error.limit).toBe("calls_per_number_per_10_min");
    expect(refused.body.error.message).toContain("at most 1 calls");
  });

  it("holds the ranges, the addresses and the deployment's spend cap over every service, under concurrency", async () => {
    const s = await start({ CALLS_PER_PREFIX_PER_HOUR: "6", CALLS_PER_IP_PER_HOUR: "5", CALLS_PER_DAY: "14" });
    const services = [await s.service("one", {}), await s.service("two", {}), await s.service("three", { calls_per_day: 3 })];
    const on = (i: number) => (i % 2 ? s.b : s.a);
    // One range, twelve numbers, spread over three services at once: six calls in all.
    const range = await Promise.all(
      Array.from({ length: 12 }, (_, i) => on(i).api("POST", "/request-auth", { number: `+1312555${String(200 + i).padStart(4, "0")}` }, { key: services[i % 3]!.key })),
    );
    expect(range.filter((r) => r.status === 201)).toHaveLength(6);
    expect(range.filter((r) => r.body?.error?.limit === "calls_per_prefix_per_hour")).toHaveLength(6);
    // One end-user address over many ranges and services: five calls in all.
    const address = await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        on(i).api("POST", "/request-auth", { number: `+1646${String(200 + i)}0100`, client_ip: "203.0.113.9" }, { key: services[i % 2]!.key }),
      ),
    );
    expect(address.filter((r) => r.status === 201)).toHaveLength(5);
    expect(address.filter((r) => r.body?.error?.limit === "calls_per_ip_per_hour")).toHaveLength(7);
    // Eleven calls so far (six and five); the deployment's cap of 14 leaves three, however they are spread,
    // and the third service's own cap of 3 holds within it.
    const spend = await Promise.all(
      Array.from({ length: 12 }, (_, i) => on(i).api("POST", "/request-auth", { number: `+1718${String(200 + i)}0100` }, { key: services[i % 3]!.key })),
    );
    expect(spend.filter((r) => r.status === 201)).toHaveLength(3);
    const caps = spend.filter((r) => r.status === 429).map((r) => r.body.error.limit as string);
    expect(new Set(caps)).toEqual(new Set(caps.some((c) => c === "service_calls_per_day") ? ["calls_per_day", "service_calls_per_day"] : ["calls_per_day"]));
    expect(s.a.simulator.calls()).toHaveLength(14);
  });

  it("holds a service's own spend cap exactly under concurrency", async () => {
    const s = await start({ CALLS_PER_DAY: "100" });
    const capped = await s.service("capped", { calls_per_day: 4 });
    const on = (i: number) => (i % 2 ? s.b : s.a);
    const burst = await Promise.all(
      Array.from({ length: 20 }, (_, i) => on(i).api("POST", "/request-auth", { number: `+1917${String(200 + i)}0100` }, { key: capped.key })),
    );
    expect(burst.filter((r) => r.status === 201)).toHaveLength(4);
    const refused = burst.filter((r) => r.status === 429);
    expect(refused.every((r) => r.body.error.limit === "service_calls_per_day")).toBe(true);
    expect(refused[0]!.body.error.message).toContain("at most 4 calls by this service");
    // The default service still has the rest of the deployment's day.
    expect((await s.a.api("POST", "/request-auth", { number: "+19175550199" })).status).toBe(201);
  });

  it("honours a setting changed through one instance on every instance within a second", async () => {
    const s = await start();
    const shop = await s.service("shop", { org_name: "Before" });
    const first = await heard(s.a, await s.b.api("POST", "/request-auth", { number: "+14155550131" }, { key: shop.key }));
    expect(first).toContain(PHRASES.en!.greeting("Before"));
    // Changed on the database the way the admin API and the CLI change it, then used at once elsewhere.
    await updateService(s.database, shop.id, { settings: { org_name: "After" } }, s.a.clock.now(), s.check);
    const deadline = Date.now() + 1000;
    let said = "";
    for (let i = 0; Date.now() < deadline || i === 0; i++) {
      said = await heard(s.a, await s.b.api("POST", "/request-auth", { number: `+1415555014${i % 10}` }, { key: shop.key }));
      if (said.includes(PHRASES.en!.greeting("After"))) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(said).toContain(PHRASES.en!.greeting("After"));
  });

  it("speaks the number's language when the service allows it, else the service's default", async () => {
    const s = await start({ ALLOWED_COUNTRIES: "US,CA,MX,DE" });
    const bilingual = await s.service("bilingual", { language: "en", languages: ["en", "fr", "es"] });
    const english = await s.service("english", { language: "en" });
    const quebec = await heard(s.a, await s.a.api("POST", "/request-auth", { number: "+15145550123" }, { key: bilingual.key }));
    expect(quebec).toContain(PHRASES.fr!.codeIs);
    const mexico = await heard(s.a, await s.a.api("POST", "/request-auth", { number: "+525512345678" }, { key: bilingual.key }));
    expect(mexico).toContain(PHRASES.es!.codeIs);
    const germany = await heard(s.a, await s.a.api("POST", "/request-auth", { number: "+493012345678" }, { key: english.key }));
    expect(germany).toContain(PHRASES.en!.codeIs);
    // A language in the request still wins.
    const asked = await heard(s.a, await s.a.api("POST", "/request-auth", { number: "+14155550151", language: "de" }, { key: english.key }));
    expect(asked).toContain(PHRASES.de!.codeIs);
  });
});
