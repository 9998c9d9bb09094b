import { createRemoteJWKSet, jwtVerify } from "jose";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../src/config/index.js";
import { createApp } from "../src/http/app.js";
import { envKeyName } from "../src/http/auth.js";
import { createKey } from "../src/keys/api-keys.js";
import { createService } from "../src/services/store.js";
import type { RunningService } from "../src/service.js";
import { checkExamples, declaredRoutes, type Doc } from "./helpers/openapi.js";
import { ADMIN_KEY, chromiumPresent, openBrowser, startPagesService, type Browser } from "./helpers/pages.js";
import { codeHeard, SECRET_KEY } from "./helpers/service.js";

/**
 * The /demo and /admin pages as a person uses them, in Debian's headless Chromium against
 * the service as `npm start` runs it (development, the simulator). Every test fails on a
 * console error (a CSP refusal is one) and on any request to another origin. Mandatory in
 * CI (.ci/run installs Chromium); skipped on a machine without it.
 */

const PER_ADDRESS = 4;
const PRODUCTION_KEY = "api-key-0123456789abcdef";

/** One Chromium for the whole file, opened by the first test that needs it: a launch takes seconds. */
let chromium: Promise<Browser> | undefined;
const sharedBrowser = () => (chromium ??= openBrowser());
afterAll(async () => {
  await (await chromium)?.close();
});
const json = { "content-type": "application/json" };

describe.runIf(chromiumPresent() || process.env.CI === "true")("the /demo and /admin pages in Chromium", () => {
  let service: RunningService & { logLines: string[] };
  let browser: Browser;
  /** The demo calls this file has placed, and approved, from the browser's address: what the admin page must chart. */
  const made = { placed: 0, approved: 0 };

  beforeAll(async () => {
    // TRUST_PROXY: the per-address test sends X-Forwarded-For; the browser sends none and counts as 127.0.0.1.
    [service, browser] = await Promise.all([
      startPagesService({ TRUST_PROXY: "true", CALLS_PER_IP_PER_HOUR: String(PER_ADDRESS) }),
      sharedBrowser(),
    ]);
  });
  afterAll(async () => {
    await service?.close(2000, 0);
  });

  /**
   * A fresh tab; at the end of the test, nothing it fetched came from elsewhere, and it logged
   * no error but the ones expected: Chromium logs every 4xx a script fetches, so a test that
   * is refused on purpose (a wrong code, a wrong key) names that one refusal.
   */
  async function tab(expectedErrors: RegExp[], run: (page: Page) => Promise<void>): Promise<void> {
    const page = await browser.context.newPage();
    const firstRequest = browser.requests.length;
    const firstError = browser.errors.length;
    try {
      await run(page);
    } finally {
      await page.close();
    }
    const elsewhere = browser.requests.slice(firstRequest).filter((u) => new URL(u).origin !== service.url);
    expect(elsewhere, "requests to another origin").toEqual([]);
    const errors = browser.errors.slice(firstError);
    expect(errors, "console errors").toHaveLength(expectedErrors.length);
    expectedErrors.forEach((expected, i) => expect(errors[i]).toMatch(expected));
  }

  /** What a chart on the admin page draws: uPlot's data, x values first. */
  const chartData = (page: Page, name: string) =>
    page.evaluate((n) => (globalThis as unknown as { voiceOtpCharts: Record<string, { data: number[][] } | undefined> }).voiceOtpCharts[n]?.data ?? null, name);

  const demoCall = (number: string, headers: Record<string, string> = {}) =>
    fetch(`${service.url}/demo/api/call`, { method: "POST", headers: { ...json, ...headers }, body: JSON.stringify({ number }) });
  const heardBy = async (id: string) => codeHeard((await service.simulator!.waitForCall((c) => c.url.endsWith(`c=${id}`))).heard);

  it("verifies a number end to end on /demo: the call rings and is answered, the page shows what the phone heard, the code earns a token for the number", async () => {
    await tab([/\/demo\/api\/verify: Failed to load resource: the server responded with a status of 403/], async (page) => {
      await page.goto(`${service.url}/demo`);
      // Development with the simulator and no API_KEYS: /request-auth is open, and so is the demo; no key asked for.
      expect(await (await fetch(`${service.url}/demo/api/config`)).json()).toEqual({ key_required: false, shows_heard: true });
      expect(await page.isVisible("#api-key")).toBe(false);
      await page.fill("#number", "+14155550123");
      await page.click("#call-button");
      made.placed++;
      await page.locator('#progress li[data-status="ringing"].done').waitFor();
      await page.locator('#progress li[data-status="in-progress"].done').waitFor();
      await page.locator('#progress li[data-status="completed"].done').waitFor();
      await expect.poll(() => page.textContent("#heard")).toMatch(/Your code is/);

      // The digits the page shows are the ones the simulated phone heard.
      const shown = (await page.locator("#heard strong").first().textContent())!.replace(/\D/g, "");
      const call = service.simulator!.calls().at(-1)!;
      expect(shown).toBe(codeHeard(call.heard));

      // A wrong code first: the page says so, and how many guesses are left.
      const wrong = String((Number(shown) + 1) % 10 ** shown.length).padStart(shown.length, "0");
      await page.fill("#code", wrong);
      await page.click("#check-button");
      await expect.poll(() => page.textContent("#code-error")).toMatch(/Not approved: the code is not right \(4 left\)/);

      await page.fill("#code", shown);
      await page.click("#check-button");
      await page.locator("#step-result").waitFor();
      made.approved++;
      expect(await page.textContent("#result-title")).toBe("Approved");
      expect(await page.textContent('#claims tr[data-claim="sub"] td')).toBe("+14155550123");
      expect(await page.textContent('#claims tr[data-claim="aud"] td')).toBe("default");
      expect(await page.textContent('#claims tr[data-claim="amr"] td')).toBe("phone-call");
      expect(await page.textContent("#signed-by")).toMatch(/checked the signature against the keys it publishes at \/\.well-known\/jwks\.json/);

      // The token the page decoded is one a verifier elsewhere accepts (jose, against the JWKS).
      const token = (await page.textContent("#token"))!;
      const { payload } = await jwtVerify(token, createRemoteJWKSet(new URL(`${service.url}/.well-known/jwks.json`)), {
        issuer: service.deps.publicBaseUrl(),
        audience: "default",
      });
      expect(payload).toMatchObject({ sub: "+14155550123", amr: ["phone-call"] });
    });
  });

  it("signs in to /admin with an admin key, refusing a wrong one, and shows the calls just made: masked numbers, and a chart drawing them", async () => {
    // One call more, left unanswered by the person: pending, placed, not approved.
    const pending = await demoCall("+14155550124");
    expect(pending.status).toBe(201);
    made.placed++;
    const { id } = (await pending.json()) as { id: string };
    await heardBy(id);

    await tab([/\/services: Failed to load resource: the server responded with a status of 401/], async (page) => {
      await page.goto(`${service.url}/admin`);
      await page.fill("#admin-key", "not-an-admin-key-0123456789");
      await page.click("#sign-in-button");
      await expect.poll(() => page.textContent("#sign-in-error")).toMatch(/That key was refused: API key not recognised/);
      expect(await page.isVisible("#console")).toBe(false);

      await page.fill("#admin-key", ADMIN_KEY);
      await page.click("#sign-in-button");
      await page.locator("#console").waitFor();
      const rows = page.locator("#challenges tbody tr");
      await expect.poll(() => rows.count()).toBe(made.placed);
      const newest = await rows.first().locator("td").allTextContents();
      expect(newest.slice(1, 3)).toEqual(["+1415•••0124", "pending"]);
      const approved = await rows.last().locator("td").allTextContents();
      expect(approved.slice(1, 4)).toEqual(["+1415•••0123", "approved", "completed · human"]);
      expect(approved[4]).toMatch(/^\d+\.\d s$/);
      // No full number anywhere on the page.
      expect(await page.textContent("body")).not.toMatch(/\+1415555012[34]/);

      // The calls chart draws today's calls: x values are UTC days, then calls placed, answered, approved.
      await expect.poll(() => chartData(page, "calls")).not.toBeNull();
      const data = (await chartData(page, "calls"))!;
      const today = Date.parse(new Date().toISOString().slice(0, 10)) / 1000;
      const at = data[0]!.indexOf(today);
      expect(at).toBe(data[0]!.length - 1);
      expect([data[1]![at], data[2]![at], data[3]![at]]).toEqual([made.placed, made.placed, made.approved]);
      expect(await page.locator("#chart-calls canvas").count()).toBe(1);
      // By country, the same calls, all in the US.
      const countries = (await chartData(page, "countries"))!;
      expect(countries.slice(1, 4)).toEqual([[made.placed], [made.placed], [made.approved]]);

      // Services and keys at a glance: the default service, no key shown but by name.
      expect(await page.textContent("#services tbody")).toMatch(/default/);
      await page.click("#sign-out");
      expect(await page.evaluate(() => (globalThis as unknown as { sessionStorage: { length: number } }).sessionStorage.length)).toBe(0);
    });
  });

  it("counts the demo's calls under the browser's own address: one address reaches CALLS_PER_IP_PER_HOUR, another still calls", async () => {
    const from = (ip: string) => ({ "x-forwarded-for": `198.51.100.1, ${ip}` });
    for (let i = 0; i < PER_ADDRESS; i++) expect((await demoCall(`+1415555020${i}`, from("203.0.113.7"))).status).toBe(201);
    const refused = await demoCall("+14155550209", from("203.0.113.7"));
    expect(refused.status).toBe(429);
    expect(await refused.json()).toMatchObject({ error: { code: "rate_limited", limit: "calls_per_ip_per_hour" } });
    expect((await demoCall("+14155550210", from("203.0.113.8"))).status).toBe(201);
  });

  it("shows and checks only the demo's own challenges, and refuses pages of other origins", async () => {
    // A backend's challenge (the development service is open: no key).
    const backend = await fetch(`${service.url}/request-auth`, { method: "POST", headers: json, body: JSON.stringify({ number: "+14155550130" }) });
    expect(backend.status).toBe(201);
    const { id } = (await backend.json()) as { id: string };
    const code = await heardBy(id);
    expect((await fetch(`${service.url}/demo/api/call/${id}`)).status).toBe(404);
    const verify = await fetch(`${service.url}/demo/api/verify`, { method: "POST", headers: json, body: JSON.stringify({ id, auth_code: code }) });
    expect(verify.status).toBe(404);
    expect(await verify.json()).toEqual({ error: { code: "not_found", message: "no demo call with this id" } });

    const cross = await demoCall("+14155550131", { origin: "https://elsewhere.example" });
    expect(cross.status).toBe(403);
    expect(await cross.json()).toMatchObject({ error: { code: "cross_origin" } });
    const form = await fetch(`${service.url}/demo/api/call`, { method: "POST", headers: { "content-type": "text/plain" }, body: '{"number":"+14155550132"}' });
    expect(form.status).toBe(415);
  });

  it("serves its pages under a strict policy, uncached, and no file but its own", async () => {
    for (const path of ["/demo", "/admin"]) {
      const res = await fetch(`${service.url}${path}`);
      expect(res.status).toBe(200);
      expect(res.headers.get("content-security-policy")).toBe(
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
      );
      expect(res.headers.get("x-content-type-options")).toBe("nosniff");
      expect(res.headers.get("cache-control")).toBe("no-store");
      const html = await res.text();
      expect(html).not.toMatch(/<script>|<script [^>]*>[^<]|\sstyle=|https?:\/\//);
    }
    expect((await fetch(`${service.url}/admin/uPlot.iife.min.js`)).headers.get("content-type")).toBe("text/javascript; charset=utf-8");
    for (const path of ["/admin/demo.js", "/demo/admin.js", "/admin/..%2Fpackage.json", "/demo/pages.css%00", "/admin/uPlot.esm.js"]) {
      const res = await fetch(`${service.url}${path}`);
      expect(res.status, path).toBe(404);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe("not_found");
    }
  });

  it("documents the demo's routes in /openapi.json while it serves them, with examples its schemas accept", async () => {
    const doc = (await (await fetch(`${service.url}/openapi.json`)).json()) as Doc;
    for (const path of ["/demo", "/demo/{file}", "/demo/api/config", "/demo/api/call", "/demo/api/call/{id}", "/demo/api/verify", "/admin", "/admin/{file}"]) {
      expect(doc.paths[path], path).toBeDefined();
    }
    // Keyless here, as /request-auth is: no security, no 401.
    expect(doc.paths["/demo/api/call"].post.security).toEqual([]);
    expect(doc.paths["/demo/api/call"].post.responses[401]).toBeUndefined();
    const { checked, total, failures } = checkExamples(doc, declaredRoutes(createApp(service.deps)));
    expect(failures).toEqual([]);
    expect(checked).toBe(total);
  });
});

/**
 * No endpoint that can place a call is open in production or with a real carrier: the demo's
 * API takes a service's API key there, checked as /request-auth checks it, and acts in that
 * key's service. Over HTTP, on every machine; the page itself in Chromium where it is present.
 */
describe("the demo API wherever /request-auth takes a key", () => {
  const production = {
    NODE_ENV: "production",
    API_KEYS: PRODUCTION_KEY,
    SECRET_KEY,
    METRICS_TOKEN: "metrics-token-0123456789",
    // Refused at once: the simulated phone never reaches this service here, and need not.
    PUBLIC_BASE_URL: "https://127.0.0.1:1",
    CARRIER: "simulator",
    ALLOW_SIMULATOR_IN_PRODUCTION: "true",
    DATA_DIR: "memory://",
  };
  let on: RunningService & { logLines: string[] };
  let otherKey: string;
  let otherServiceId: string;

  beforeAll(async () => {
    on = await startPagesService({ ...production, DEMO_ENABLED: "true", PORT: "0", HOST: "127.0.0.1" });
    const other = await createService(on.deps.database, { name: "another-app", settings: {} }, on.deps.clock.now(), () => {});
    otherServiceId = other.id;
    otherKey = (await createKey(on.deps.database, "another-backend", { serviceId: other.id, now: on.deps.clock.now() })).key;
  });
  afterAll(() => on?.close(2000, 0));

  const bearer = (key: string) => ({ authorization: `Bearer ${key}` });
  const send = (method: "GET" | "POST", path: string, body?: unknown, headers: Record<string, string> = {}) =>
    fetch(`${on.url}${path}`, { method, headers: { ...json, ...headers }, body: body === undefined ? undefined : JSON.stringify(body) });
  const challenges = async (key: string) =>
    ((await (await send("GET", "/challenges", undefined, bearer(key))).json()) as { challenges: Array<{ id: string; api_key: string }> }).challenges;

  it("is off in production unless DEMO_ENABLED=true", async () => {
    expect(loadConfig(production).demo).toBe(false);
    const off = createApp({ ...on.deps, config: loadConfig(production) });
    for (const [method, path] of [["GET", "/demo"], ["GET", "/demo/demo.js"], ["GET", "/demo/api/config"], ["POST", "/demo/api/call"], ["GET", "/demo/api/call/ch_x"]] as const) {
      const res = await off.request(path, { method, headers: json, body: method === "POST" ? "{}" : undefined });
      expect(res.status, path).toBe(404);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe("not_found");
    }
    expect((await off.request("/admin")).status).toBe(200);
  });

  it("in production with DEMO_ENABLED=true, refuses a call without a key or with a wrong one, with /request-auth's own 401, and places none", async () => {
    expect(on.logLines.join("\n")).toMatch(/DEMO_ENABLED: .*\/demo places calls with a service's API key typed into the page/);
    expect(await (await send("GET", "/demo/api/config")).json()).toEqual({ key_required: true, shows_heard: false });

    for (const headers of [{}, bearer("not-a-key-0123456789abcdef")]) {
      const demo = await send("POST", "/demo/api/call", { number: "+14155550140" }, headers);
      const backend = await send("POST", "/request-auth", { number: "+14155550140" }, headers);
      expect(demo.status).toBe(401);
      expect(backend.status).toBe(401);
      expect(demo.headers.get("www-authenticate")).toMatch(/^Bearer /);
      expect(demo.headers.get("www-authenticate")).toBe(backend.headers.get("www-authenticate"));
      expect(await demo.json()).toEqual(await backend.json());
    }
    const noKey = { error: { code: "unauthorized", message: "send Authorization: Bearer <key> with a key from API_KEYS or `npm run keys -- create`" } };
    const progress = await send("GET", "/demo/api/call/ch_w_pghrJuwBSBg7x0NbcBpA");
    expect([progress.status, await progress.json()]).toEqual([401, noKey]);
    const verify = await send("POST", "/demo/api/verify", { id: "ch_w_pghrJuwBSBg7x0NbcBpA", auth_code: "123456" });
    expect([verify.status, await verify.json()]).toEqual([401, noKey]);
    // An admin key is not a service's key.
    const admin = await send("POST", "/demo/api/call", { number: "+14155550140" }, bearer(ADMIN_KEY));
    expect([admin.status, ((await admin.json()) as { error: { code: string } }).error.code]).toEqual([403, "forbidden"]);

    expect(on.simulator!.calls()).toEqual([]);
    expect(await challenges(PRODUCTION_KEY)).toEqual([]);
  });

  it("with a service's key, places the call in that key's service, shows it to that key alone, and never what the phone heard", async () => {
    const call = await send("POST", "/demo/api/call", { number: "+14155550141" }, bearer(PRODUCTION_KEY));
    expect(call.status).toBe(201);
    const created = (await call.json()) as { id: string; shows_heard: boolean };
    expect(created.shows_heard).toBe(false);
    await on.simulator!.waitForCall((c) => c.url.endsWith(`c=${created.id}`));
    const progress = await send("GET", `/demo/api/call/${created.id}`, undefined, bearer(PRODUCTION_KEY));
    expect(progress.status).toBe(200);
    expect(((await progress.json()) as { heard: unknown }).heard).toBeNull();
    // Recorded under the key that asked, marked as the demo's.
    expect(await challenges(PRODUCTION_KEY)).toMatchObject([{ id: created.id, api_key: `demo:${envKeyName(PRODUCTION_KEY, false)}` }]);

    // Another service's key neither sees nor checks it, and its own demo call lands in its own service.
    expect((await send("GET", `/demo/api/call/${created.id}`, undefined, bearer(otherKey))).status).toBe(404);
    expect((await send("POST", "/demo/api/verify", { id: created.id, auth_code: "123456" }, bearer(otherKey))).status).toBe(404);
    const theirs = await send("POST", "/demo/api/call", { number: "+14155550142" }, bearer(otherKey));
    expect(theirs.status).toBe(201);
    const { id } = (await theirs.json()) as { id: string };
    expect((await challenges(otherKey)).map((c) => [c.id, c.api_key])).toEqual([[id, "demo:another-backend"]]);
    expect((await challenges(PRODUCTION_KEY)).map((c) => c.id)).toEqual([created.id]);
    const inOther = await send("GET", `/services/${otherServiceId}/challenges`, undefined, bearer(ADMIN_KEY));
    expect(((await inOther.json()) as { challenges: Array<{ id: string }> }).challenges.map((c) => c.id)).toEqual([id]);
  });

  it("takes a key in development too when API_KEYS are set, or with a real carrier even where ALLOW_OPEN_API opens /request-auth; documents it", async () => {
    const twilio = { TWILIO_ACCOUNT_SID: `AC${"0".repeat(32)}`, TWILIO_AUTH_TOKEN: "token", TWILIO_NUMBER: "+15005550006" };
    const variants = {
      "API_KEYS with the simulator": { API_KEYS: PRODUCTION_KEY, CARRIER: "simulator" },
      "a real carrier, open": { ...twilio, ALLOW_OPEN_API: "true" },
    };
    for (const [name, env] of Object.entries(variants)) {
      const config = loadConfig({ NODE_ENV: "development", SECRET_KEY, DATA_DIR: "memory://", HOST: "127.0.0.1", DEMO_ENABLED: "true", ...env });
      const app = createApp({ ...on.deps, config });
      expect(await (await app.request("/demo/api/config")).json(), name).toMatchObject({ key_required: true });
      const res = await app.request("/demo/api/call", { method: "POST", headers: json, body: JSON.stringify({ number: "+14155550143" }) });
      expect(res.status, name).toBe(401);
    }
    expect(on.simulator!.calls().map((c) => c.to)).not.toContain("+14155550143");

    const doc = (await (await send("GET", "/openapi.json")).json()) as Doc;
    for (const [path, method] of [["/demo/api/call", "post"], ["/demo/api/call/{id}", "get"], ["/demo/api/verify", "post"]] as const) {
      const op = doc.paths[path][method];
      expect(op.security, path).toEqual([{ apiKey: [] }]);
      expect(op.responses[401].content["application/json"].examples.unauthorized.value.error.code, path).toBe("unauthorized");
    }
    expect(doc.paths["/demo/api/config"].get.security).toEqual([]);
    const { checked, total, failures } = checkExamples(doc, declaredRoutes(createApp(on.deps)));
    expect(failures).toEqual([]);
    expect(checked).toBe(total);
  });

  it.runIf(chromiumPresent() || process.env.CI === "true")(
    "in Chromium, the page asks for a service's key, says so when one is refused, and calls with the right one, showing no code",
    async () => {
      const browser = await sharedBrowser();
      const [firstRequest, firstError] = [browser.requests.length, browser.errors.length];
      const page = await browser.context.newPage();
      try {
        await page.goto(`${on.url}/demo`);
        await page.locator("#api-key").waitFor();
        expect(await page.isVisible("#key-note")).toBe(true);

        await page.fill("#api-key", "not-a-key-0123456789abcdef");
        await page.fill("#number", "+14155550144");
        await page.click("#call-button");
        await expect.poll(() => page.textContent("#number-error")).toMatch(/needs a service's API key here, and that one was refused: API key not recognised/);
        expect(await page.isVisible("#step-call")).toBe(false);

        await page.fill("#api-key", PRODUCTION_KEY);
        await page.click("#call-button");
        await page.locator("#step-call").waitFor();
        expect(await page.isVisible("#listen-note")).toBe(true);
        expect(await page.evaluate(() => (globalThis as unknown as { sessionStorage: { getItem(k: string): string | null } }).sessionStorage.getItem("voice-otp-demo-key"))).toBe(PRODUCTION_KEY);
        const placed = await challenges(PRODUCTION_KEY);
        expect(placed[0]).toMatchObject({ api_key: `demo:${envKeyName(PRODUCTION_KEY, false)}` });
        // Followed with the key: the progress shows, what the phone heard does not.
        await page.locator('#progress li[data-status="queued"].done').waitFor();
        expect(await page.isVisible("#heard-box")).toBe(false);
      } finally {
        await page.close();
      }
      expect(browser.requests.slice(firstRequest).filter((u) => new URL(u).origin !== on.url)).toEqual([]);
      const errors = browser.errors.slice(firstError);
      expect(errors).toHaveLength(1);
      expect(errors[0]).toMatch(/\/demo\/api\/call: Failed to load resource: the server responded with a status of 401/);
    },
  );
});
