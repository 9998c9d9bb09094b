import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { VoiceOtpClient } from "../src/client/index.js";
import { ConfigError, loadConfig } from "../src/config/index.js";
import { openDatabase } from "../src/db/open.js";
import { writeDefaultEndpoint } from "../src/events/default-endpoint.js";
import { disableEndpoint, loadEndpoints } from "../src/events/endpoints.js";
import { isSecret, newSecret } from "../src/events/signature.js";
import { createApp } from "../src/http/app.js";
import { createLogger } from "../src/logger.js";
import { deriveCodeKeys } from "../src/otp/codes.js";
import { createService } from "../src/services/store.js";
import { databaseKinds, type DbKind } from "./helpers/databases.js";
import { runScript } from "./helpers/process.js";
import { startTestService, type ApiResponse, type TestService } from "./helpers/service.js";

/**
 * Where events go (issue 21): the default service's endpoint from WEBHOOK_URL, any
 * service's through the admin API and the CLI, secrets shown once, and the events'
 * delivery state where an operator or a backend looks for it.
 */

const ADMIN_KEY = "admin-key-0123456789abcdef";
const SECRET = newSecret();
// Nothing listens there: whatever a dispatcher tries fails at once, without leaving the machine.
const DEFAULT_URL = "http://127.0.0.1:9/voice-otp-events";
const HOOK = "https://hooks.example.com/voice-otp";

describe("the webhook variables", () => {
  const production = {
    NODE_ENV: "production",
    API_KEYS: "k".repeat(32),
    SECRET_KEY: "s".repeat(40),
    PUBLIC_BASE_URL: "https://otp.example.com",
    METRICS_TOKEN: "m".repeat(32),
    TWILIO_ACCOUNT_SID: `AC${"0".repeat(32)}`,
    TWILIO_AUTH_TOKEN: "token",
    TWILIO_NUMBER: "+15005550006",
  };
  const refusal = (env: Record<string, string>) => {
    try {
      loadConfig(env);
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      return (err as Error).message;
    }
    throw new Error("accepted");
  };

  it("take WEBHOOK_URL with a whsec_ secret, and WEBHOOK_EVENTS as a list (empty: every type)", () => {
    expect(loadConfig({ WEBHOOK_URL: DEFAULT_URL, WEBHOOK_SECRET: SECRET }).webhook).toEqual({ url: DEFAULT_URL, secret: SECRET, eventTypes: null });
    const some = loadConfig({ ...production, WEBHOOK_URL: HOOK, WEBHOOK_SECRET: SECRET, WEBHOOK_EVENTS: "call.unanswered, challenge.approved,call.unanswered" });
    expect(some.webhook).toEqual({ url: HOOK, secret: SECRET, eventTypes: ["call.unanswered", "challenge.approved"] });
    expect(loadConfig({}).webhook).toBeUndefined();
  });

  it("refuse a URL without a secret, a malformed secret, unknown types, and a secret without a URL, in one line that says what to do", () => {
    expect(refusal({ WEBHOOK_URL: HOOK })).toMatch(/^WEBHOOK_SECRET: required when WEBHOOK_URL is set .*voice-otp events secret.*openssl rand -base64 32/);
    const bad = refusal({ WEBHOOK_URL: HOOK, WEBHOOK_SECRET: "whsec_c2hvcnQ=" });
    expect(bad).toMatch(/^WEBHOOK_SECRET: must be a whsec_ secret: make one with `voice-otp events secret`/);
    expect(bad).not.toContain("c2hvcnQ");
    expect(refusal({ WEBHOOK_URL: HOOK, WEBHOOK_SECRET: SECRET, WEBHOOK_EVENTS: "call.answered,call.hungup" })).toMatch(/^WEBHOOK_EVENTS: "call.hungup" is not an event type; use call.answered, /);
    expect(refusal({ WEBHOOK_SECRET: SECRET })).toMatch(/^WEBHOOK_SECRET: set WEBHOOK_URL too/);
    expect(refusal({ WEBHOOK_URL: "hooks.example.com/x", WEBHOOK_SECRET: SECRET })).toMatch(/^WEBHOOK_URL: is not an absolute URL/);
    for (const message of [bad, refusal({ WEBHOOK_URL: HOOK })]) expect(message).not.toContain("\n");
  });

  it("in production refuse an http:// URL, and a private one unless ALLOW_PRIVATE_WEBHOOKS", () => {
    const env = { ...production, WEBHOOK_SECRET: SECRET };
    expect(refusal({ ...env, WEBHOOK_URL: "http://hooks.example.com/x" })).toMatch(/^WEBHOOK_URL: must be https:\/\/ in production/);
    expect(refusal({ ...env, WEBHOOK_URL: "https://10.1.2.3/hook" })).toMatch(/^WEBHOOK_URL: points to 10\.1\.2\.3, a private address: .*ALLOW_PRIVATE_WEBHOOKS=true/);
    expect(refusal({ ...env, WEBHOOK_URL: "https://localhost:8443/hook" })).toMatch(/^WEBHOOK_URL: points to localhost, a loopback name/);
    expect(loadConfig({ ...env, WEBHOOK_URL: "https://10.1.2.3/hook", ALLOW_PRIVATE_WEBHOOKS: "true" }).webhook?.url).toBe("https://10.1.2.3/hook");
    expect(loadConfig({ ...env, WEBHOOK_URL: HOOK }).webhookTargets).toEqual({ requireHttps: true, allowPrivate: false });
    // Outside production, a receiver on this machine is the usual setup.
    expect(loadConfig({ WEBHOOK_URL: DEFAULT_URL, WEBHOOK_SECRET: SECRET }).webhookTargets).toEqual({ requireHttps: false, allowPrivate: true });
  });
});

describe.each(await databaseKinds())("service webhooks on %s", (db: DbKind) => {
  let t: TestService;
  let n = 0;
  beforeAll(async () => {
    t = await startTestService({ db, carrier: "twilio", env: { ADMIN_API_KEYS: ADMIN_KEY, WEBHOOK_URL: DEFAULT_URL, WEBHOOK_SECRET: SECRET, WEBHOOK_EVENTS: "call.unanswered,challenge.approved" } });
  });
  afterAll(() => t?.close());

  const admin = (method: string, path: string, body?: unknown) => t.api(method, path, body, { key: ADMIN_KEY });
  const refusal = (res: ApiResponse) => ({ status: res.status, ...res.body?.error });
  const endpointOf = async (serviceId: string) => (await loadEndpoints(t.service.deps.database, t.service.deps.otp.keys, [serviceId], t.clock.now())).get(serviceId);
  const newService = async () => (await createService(t.service.deps.database, { name: `hooked-${++n}`, settings: {} }, t.clock.now(), () => {})).id;

  it("writes the default service's endpoint from WEBHOOK_URL at start; a new WEBHOOK_SECRET is a rotation", async () => {
    expect(await endpointOf("default")).toEqual({ serviceId: "default", url: DEFAULT_URL, secrets: [SECRET], eventTypes: ["call.unanswered", "challenge.approved"], disabledAt: null });
    const res = await admin("GET", "/services/default/webhook");
    expect(res.status, res.text).toBe(200);
    expect(res.body).toEqual({ url: DEFAULT_URL, events: ["call.unanswered", "challenge.approved"], disabled_at: null, previous_valid_until: null });

    // What the next starts do: the same environment changes nothing, a new secret keeps the old one signing,
    // and an endpoint a 410 had stopped is sent to again.
    const silent = createLogger({ level: "silent", pretty: false });
    const next = newSecret();
    const { database, keys } = t.service.deps.otp;
    await writeDefaultEndpoint(database, keys, { url: DEFAULT_URL, secret: SECRET, eventTypes: ["call.unanswered", "challenge.approved"] }, t.clock.now(), silent);
    expect((await endpointOf("default"))?.secrets).toEqual([SECRET]);
    await disableEndpoint(database, "default", t.clock.now());
    expect((await admin("GET", "/services/default/webhook")).body.disabled_at).toBe(t.clock.now().toISOString());
    await writeDefaultEndpoint(database, keys, { url: DEFAULT_URL, secret: SECRET, eventTypes: ["call.unanswered", "challenge.approved"] }, t.clock.now(), silent);
    expect(await endpointOf("default")).toMatchObject({ secrets: [SECRET], disabledAt: null });
    await writeDefaultEndpoint(database, keys, { url: DEFAULT_URL, secret: next, eventTypes: ["call.unanswered", "challenge.approved"] }, t.clock.now(), silent);
    expect((await endpointOf("default"))?.secrets).toEqual([next, SECRET]);
    expect((await admin("GET", "/services/default/webhook")).body.previous_valid_until).toBe(new Date(t.clock.now().getTime() + 24 * 3600_000).toISOString());
    await writeDefaultEndpoint(database, keys, { url: DEFAULT_URL, secret: SECRET, eventTypes: ["call.unanswered", "challenge.approved"] }, t.clock.now(), silent);
    expect((await endpointOf("default"))?.secrets[0]).toBe(SECRET);
  });

  it("leaves the default service's webhook to the environment while WEBHOOK_URL is set", async () => {
    for (const [method, path] of [
      ["PUT", "/services/default/webhook"],
      ["POST", "/services/default/webhook/rotate"],
      ["DELETE", "/services/default/webhook"],
    ] as const) {
      const res = await admin(method, path, method === "PUT" ? { url: HOOK } : undefined);
      expect(refusal(res), `${method} ${path}`).toMatchObject({ status: 400, code: "invalid_request" });
      expect(res.body.error.message).toMatch(/^the default service's webhook is set by WEBHOOK_URL, WEBHOOK_SECRET and WEBHOOK_EVENTS: change them and restart/);
    }
    expect((await endpointOf("default"))?.url).toBe(DEFAULT_URL);
  });

  it("sets, shows, rotates and removes a service's webhook, showing each secret once", async () => {
    const id = await newService();
    expect(refusal(await admin("GET", `/services/${id}/webhook`))).toMatchObject({ status: 404, message: "this service has no webhook; PUT /services/{id}/webhook sets one" });
    expect(refusal(await admin("POST", `/services/${id}/webhook/rotate`))).toMatchObject({ status: 404 });

    const first = await admin("PUT", `/services/${id}/webhook`, { url: HOOK });
    expect(first.status, first.text).toBe(200);
    expect(first.body).toEqual({ url: HOOK, events: null, disabled_at: null, previous_valid_until: null, secret: expect.any(String) });
    const secret = first.body.secret as string;
    expect(isSecret(secret)).toBe(true);
    expect(await endpointOf(id)).toMatchObject({ url: HOOK, secrets: [secret], eventTypes: null });

    const changed = await admin("PUT", `/services/${id}/webhook`, { url: `${HOOK}/v2`, events: ["challenge.approved", "call.machine", "challenge.approved"] });
    expect(changed.body).toEqual({ url: `${HOOK}/v2`, events: ["challenge.approved", "call.machine"], disabled_at: null, previous_valid_until: null });
    expect((await endpointOf(id))?.secrets).toEqual([secret]);

    const rotated = await admin("POST", `/services/${id}/webhook/rotate`);
    expect(rotated.status, rotated.text).toBe(200);
    const until = new Date(t.clock.now().getTime() + 24 * 3600_000).toISOString();
    expect(rotated.body).toEqual({ url: `${HOOK}/v2`, events: ["challenge.approved", "call.machine"], disabled_at: null, previous_valid_until: until, secret: expect.any(String) });
    expect(rotated.body.secret).not.toBe(secret);
    // Both sign for a day, the new one first; then the old one stops.
    expect((await endpointOf(id))?.secrets).toEqual([rotated.body.secret, secret]);
    const shown = await admin("GET", `/services/${id}/webhook`);
    expect(shown.body).toEqual({ url: `${HOOK}/v2`, events: ["challenge.approved", "call.machine"], disabled_at: null, previous_valid_until: until });
    expect(shown.text).not.toContain("whsec_");

    const removed = await admin("DELETE", `/services/${id}/webhook`);
    expect(removed.status).toBe(200);
    expect(removed.body).toEqual(shown.body);
    expect(await endpointOf(id)).toBeUndefined();
    expect(refusal(await admin("DELETE", `/services/${id}/webhook`))).toMatchObject({ status: 404 });
  });

  it("is managed through the client too, its secrets in camelCase answers once", async () => {
    const id = await newService();
    const client = new VoiceOtpClient({ baseUrl: t.service.url, apiKey: ADMIN_KEY });
    const set = await client.setServiceWebhook(id, { url: HOOK, events: ["call.machine"] });
    expect(set).toEqual({ url: HOOK, events: ["call.machine"], disabledAt: null, previousValidUntil: null, secret: expect.stringMatching(/^whsec_/) });
    expect(await client.getServiceWebhook(id)).toEqual({ url: HOOK, events: ["call.machine"], disabledAt: null, previousValidUntil: null });
    const rotated = await client.rotateServiceWebhookSecret(id);
    expect((await endpointOf(id))?.secrets).toEqual([rotated.secret, set.secret]);
    expect(await client.deleteServiceWebhook(id)).toMatchObject({ url: HOOK, previousValidUntil: rotated.previousValidUntil });
    await expect(client.getServiceWebhook(id)).rejects.toMatchObject({ status: 404, code: "not_found" });
  });

  it("answers 400 naming the field for a bad URL or event type, and 404 for an unknown service", async () => {
    const id = await newService();
    const cases: Array<[unknown, string, RegExp]> = [
      [{ url: "ftp://hooks.example.com/x" }, "url", /^url uses the ftp scheme: write an https:\/\/ URL$/],
      [{ url: "not a url" }, "url", /^url is not an absolute URL/],
      [{ url: "https://u:p@hooks.example.com/" }, "url", /^url contains credentials/],
      [{ events: ["call.answered"] }, "url", /^url: /],
      [{ url: HOOK, events: ["call.answered", "call.hungup"] }, "events.1", /^events\.1: not an event type; use one of call\.answered, /],
      [{ url: HOOK, events: [] }, "events", /^events: give at least one event type, or leave events out/],
      [{ url: HOOK, secret: newSecret() }, "", /^secret: not a field of this body; send url and events$/],
    ];
    for (const [body, field, message] of cases) {
      const res = await admin("PUT", `/services/${id}/webhook`, body);
      expect(refusal(res), JSON.stringify(body)).toMatchObject({ status: 400, code: "invalid_request", message: expect.stringMatching(message) });
      if (field) expect(res.body.error.field).toBe(field);
    }
    expect(await endpointOf(id)).toBeUndefined();
    for (const path of ["/services/svc_AAAAAAAAAAAAAAAA/webhook", "/services/hooked-1/webhook"]) {
      expect(refusal(await admin("PUT", path, { url: HOOK })), path).toMatchObject({ status: 404, message: "no service with this id; GET /services lists them" });
    }
    expect(refusal(await t.api("GET", `/services/${id}/webhook`))).toMatchObject({ status: 403, code: "forbidden" });
  });

  it("lets the API manage the default service's webhook when WEBHOOK_URL is unset, and holds API URLs to the production rules", async () => {
    const deps = t.service.deps;
    const app = (config: object) => createApp({ ...deps, config: { ...deps.config, ...config } });
    const call = (a: ReturnType<typeof app>, method: string, path: string, body?: unknown) =>
      a.request(path, { method, headers: { authorization: `Bearer ${ADMIN_KEY}`, "content-type": "application/json" }, body: body === undefined ? undefined : JSON.stringify(body) });

    const production = app({ webhookTargets: { requireHttps: true, allowPrivate: false } });
    const id = await newService();
    for (const [url, message] of [
      ["http://hooks.example.com/x", /^url must be https:\/\/ in production/],
      ["https://10.0.0.7/x", /^url points to 10\.0\.0\.7, a private address/],
      ["https://[::1]/x", /^url points to ::1, a loopback address/],
      ["https://169.254.169.254/latest", /^url points to 169\.254\.169\.254, a cloud metadata address/],
    ] as const) {
      const res = await call(production, "PUT", `/services/${id}/webhook`, { url });
      expect(res.status, url).toBe(400);
      expect(((await res.json()) as { error: { message: string; field: string } }).error).toMatchObject({ message: expect.stringMatching(message), field: "url" });
    }

    const unset = app({ webhook: undefined });
    const res = await call(unset, "PUT", "/services/default/webhook", { url: `${HOOK}/default` });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { secret?: string; url: string };
    // The default had one (from the environment): its secret is kept, and not shown.
    expect(body).toMatchObject({ url: `${HOOK}/default`, events: null, disabled_at: null });
    expect(body).not.toHaveProperty("secret");
    expect((await endpointOf("default"))?.secrets[0]).toBe(SECRET);
    expect((await call(unset, "POST", "/services/default/webhook/rotate")).status).toBe(200);
    expect((await call(unset, "DELETE", "/services/default/webhook")).status).toBe(200);
    expect((await call(unset, "GET", "/services/default/webhook")).status).toBe(404);
    // Back as the environment has it, for the tests after this one.
    await writeDefaultEndpoint(deps.database, deps.otp.keys, deps.config.webhook, t.clock.now(), createLogger({ level: "silent", pretty: false }));
    expect((await endpointOf("default"))?.secrets).toEqual([SECRET]);
  });

  it("shows each event of a challenge and how its delivery went in GET /challenges/{id}", async () => {
    const asked = await t.api("POST", "/request-auth", { number: "+14155550161" });
    expect(asked.status, asked.text).toBe(201);
    const challenge = asked.body.id as string;
    const at = (s: number) => new Date(t.clock.now().getTime() + s * 1000);
    // Settled states only, so that no dispatcher running in this service changes them meanwhile.
    await t.service.deps.database.rows(sql`
      insert into events (id, service_id, challenge_id, type, body, state, attempts, next_attempt_at, last_status, last_error, created_at, delivered_at)
      values ('msg_testdelivered0001', 'default', ${challenge}, 'call.unanswered', '{}', 'delivered', 2, ${at(1).toISOString()}::timestamptz, 200, null, ${at(1).toISOString()}::timestamptz, ${at(30).toISOString()}::timestamptz),
             ('msg_testfailed0000002', 'default', ${challenge}, 'challenge.approved', '{}', 'failed', 12, ${at(2).toISOString()}::timestamptz, null, 'connect ECONNREFUSED', ${at(2).toISOString()}::timestamptz, null)`);

    const res = await t.api("GET", `/challenges/${challenge}`);
    expect(res.status, res.text).toBe(200);
    const mine = (res.body.events as Array<{ id: string }>).filter((e) => e.id.startsWith("msg_test"));
    expect(mine).toEqual([
      { id: "msg_testdelivered0001", type: "call.unanswered", state: "delivered", attempts: 2, last_status: 200, created_at: at(1).toISOString(), delivered_at: at(30).toISOString() },
      { id: "msg_testfailed0000002", type: "challenge.approved", state: "failed", attempts: 12, last_status: null, created_at: at(2).toISOString(), delivered_at: null },
    ]);
    expect(res.text).not.toContain("ECONNREFUSED");
    const listed = await t.api("GET", "/challenges?number=%2B14155550161");
    expect(listed.body.challenges[0].events.filter((e: { id: string }) => e.id.startsWith("msg_test"))).toEqual(mine);
  });
});

describe("the services webhook and events commands", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "voice-otp-events-"));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));
  const run = async (...args: string[]) => {
    const p = runScript("src/cli/main.ts", { DATA_DIR: dir }, args);
    const code = await p.exited;
    return { code, stdout: p.stdout(), stderr: p.stderr() };
  };
  /** The database, opened between two commands (PGlite takes one process at a time). */
  async function withDatabase<T>(fn: (d: Awaited<ReturnType<typeof openDatabase>>) => Promise<T>): Promise<T> {
    const database = await openDatabase({ dataDir: dir });
    try {
      return await fn(database);
    } finally {
      await database.close();
    }
  }

  it("makes a secret for WEBHOOK_SECRET", async () => {
    const res = await run("events", "secret");
    expect(res).toMatchObject({ code: 0, stderr: "" });
    expect(res.stdout).toMatch(/^whsec_[A-Za-z0-9+/]{43}=\n$/);
    expect(isSecret(res.stdout.trim())).toBe(true);
  });

  it("sets and rotates a service's webhook, printing each secret once, and lists and retries its events", async () => {
    const made = await run("services", "create", "shop");
    expect(made.stderr).toBe("");
    const id = /\((svc_[\w-]{16})\)/.exec(made.stdout)![1]!;

    const refused = await run("services", "webhook", "shop", "--url", HOOK, "--events", "call.answered,call.hungup");
    expect(refused).toMatchObject({ code: 1, stderr: expect.stringMatching(/^voice-otp: --events: "call.hungup" is not an event type; use call.answered, /) });

    const set = await run("services", "webhook", "shop", "--url", HOOK, "--events", "call.unanswered,challenge.approved");
    expect(set.stderr).toBe("");
    expect(set.stdout).toContain(`webhook of service "shop" (${id}): ${HOOK}; events: call.unanswered,challenge.approved\n`);
    const secret = /^(whsec_\S+)$/m.exec(set.stdout)![1]!;

    const rotated = await run("services", "webhook", "shop", "--rotate");
    expect(rotated.stderr).toBe("");
    const next = /^(whsec_\S+)$/m.exec(rotated.stdout)![1]!;
    expect(next).not.toBe(secret);
    expect(rotated.stdout).toMatch(/the previous secret keeps signing beside it until \d{4}-\d\d-\d\dT/);

    const keys = deriveCodeKeys((await readFile(join(dir, "secret.key"), "utf8")).trim());
    const now = new Date();
    await withDatabase(async (database) => {
      expect((await loadEndpoints(database, keys, [id], now)).get(id)).toMatchObject({ url: HOOK, secrets: [next, secret], eventTypes: ["call.unanswered", "challenge.approved"] });
      const day = (h: number) => new Date(now.getTime() - h * 3600_000).toISOString();
      await database.rows(sql`
        insert into events (id, service_id, challenge_id, type, body, state, attempts, next_attempt_at, last_status, last_error, created_at, delivered_at)
        values ('msg_cli_failed', ${id}, null, 'call.unanswered', '{}', 'failed', 14, ${day(1)}::timestamptz, 503, null, ${day(30)}::timestamptz, null),
               ('msg_cli_done', ${id}, null, 'challenge.approved', '{}', 'delivered', 1, ${day(2)}::timestamptz, 204, null, ${day(2)}::timestamptz, ${day(2)}::timestamptz),
               ('msg_cli_default', 'default', null, 'challenge.expired', '{}', 'failed', 3, ${day(3)}::timestamptz, null, 'timed out after 10000 ms', ${day(3)}::timestamptz, null)`);
    });

    const failed = await run("events", "list", "--failed");
    expect(failed.stderr).toBe("");
    expect(failed.stdout.trim().split("\n").map((l) => l.split("\t").slice(0, 6))).toEqual([
      ["msg_cli_default", "default", "challenge.expired", "failed", "3 attempts", "timed out after 10000 ms"],
      ["msg_cli_failed", "shop", "call.unanswered", "failed", "14 attempts", "HTTP 503"],
    ]);
    const ofShop = await run("events", "list", "--service", "shop", "--limit", "1");
    expect(ofShop.stdout.split("\t").slice(0, 4)).toEqual(["msg_cli_done", "shop", "challenge.approved", "delivered"]);

    const retried = await run("events", "retry", "msg_cli_failed");
    expect(retried).toMatchObject({ code: 0, stderr: "", stdout: "event msg_cli_failed (call.unanswered) will be sent again at once by a running instance\n" });
    expect(await run("events", "retry", "msg_cli_done")).toMatchObject({ code: 1, stderr: expect.stringMatching(/^voice-otp: event msg_cli_done was delivered at .*; nothing to retry\n$/) });
    await withDatabase(async (database) => {
      const [row] = await database.rows<{ state: string; attempts: number; claimed_until: unknown; next_attempt_at: Date | string }>(
        sql`select state, attempts, claimed_until, next_attempt_at from events where id = 'msg_cli_failed'`,
      );
      expect(row).toMatchObject({ state: "pending", attempts: 0, claimed_until: null });
      expect(Math.abs(new Date(row!.next_attempt_at).getTime() - Date.now())).toBeLessThan(120_000);
    });
  }, 240_000);
});
