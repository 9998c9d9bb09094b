import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { VoiceOtpClient } from "../src/client/index.js";
import { createKey } from "../src/keys/api-keys.js";
import { camelCased, snakeKeys } from "../src/client/camel-case.js";
import { serviceSettings, SETTING_NAMES, type ServiceSettings } from "../src/services/settings.js";
import { updateService } from "../src/services/store.js";
import { createApp } from "../src/http/app.js";
import { databaseKinds, type DbKind } from "./helpers/databases.js";
import { declaredRoutes } from "./helpers/openapi.js";
import { runScript } from "./helpers/process.js";
import { API_KEY, codeHeard, startTestService, type ApiResponse, type TestService } from "./helpers/service.js";

const ADMIN_KEY = "admin-key-0123456789abcdef";

/**
 * The admin API (/services) and the `services` command: an operator creates, reads,
 * changes and deletes services; each change is checked as the environment's variable
 * would be, and holds at once for the service's keys.
 */
describe.each(await databaseKinds())("the admin API on %s", (db: DbKind) => {
  let t: TestService;
  let n = 0;
  beforeAll(async () => {
    t = await startTestService({ db, carrier: "twilio", env: { ADMIN_API_KEYS: ADMIN_KEY, RESEND_COOLDOWN_SECONDS: "0" } });
  });
  afterAll(() => t?.close());

  const admin = (method: string, path: string, body?: unknown) => t.api(method, path, body, { key: ADMIN_KEY });
  /** A name no other test of this suite uses. */
  const fresh = (prefix: string) => `${prefix}-${++n}`;
  async function created(name: string, settings: Record<string, unknown> = {}) {
    const res = await admin("POST", "/services", { name, settings });
    expect(res.status, res.text).toBe(201);
    return res.body as { id: string; name: string; settings: Record<string, unknown>; own_settings: Record<string, unknown> };
  }
  async function codeOfCall(res: ApiResponse): Promise<string> {
    expect(res.status, res.text).toBe(201);
    return codeHeard((await t.simulator.waitForCall((c) => c.url.includes(res.body.id))).heard);
  }
  const refusal = (res: ApiResponse) => ({ status: res.status, ...res.body.error });

  it("takes an admin key only, and an admin key asks for no call", async () => {
    const none = await t.api("GET", "/services", undefined, { key: null });
    expect(none.status).toBe(401);
    expect(none.headers.get("www-authenticate")).toMatch(/^Bearer/);
    expect(none.body.error.message).toContain("ADMIN_API_KEYS");
    expect(refusal(await t.api("GET", "/services"))).toMatchObject({ status: 403, code: "forbidden" });
    expect(refusal(await t.api("POST", "/services", { name: "sneaky" }))).toMatchObject({ status: 403, code: "forbidden" });
    const { key: serviceKey } = await createKey(t.service.deps.database, fresh("svc-key"), { now: t.clock.now() });
    expect(refusal(await t.api("DELETE", "/services/svc_whatever", undefined, { key: serviceKey }))).toMatchObject({ status: 403, code: "forbidden" });

    const placed = await admin("POST", "/request-auth", { number: "+14155550100" });
    expect(refusal(placed)).toMatchObject({ status: 403, code: "forbidden" });
    expect(placed.body.error.message).toMatch(/admin key manages services only/);
    expect(t.simulator.calls().filter((c) => c.to === "+14155550100")).toHaveLength(0);

    // An admin key from the database, as `voice-otp keys create NAME --admin` makes it.
    const { key: dbAdmin } = await createKey(t.service.deps.database, fresh("ops"), { admin: true, now: t.clock.now() });
    expect((await t.api("GET", "/services", undefined, { key: dbAdmin })).status).toBe(200);
  });

  it("creates, lists, shows, changes and deletes a service", async () => {
    const name = fresh("shop");
    const shop = await created(name, { org_name: "Acme Shop", code_length: 8, allowed_countries: ["US"] });
    expect(shop.id).toMatch(/^svc_[\w-]{16}$/);
    expect(shop).toMatchObject({
      name,
      editable: true,
      own_settings: { org_name: "Acme Shop", code_length: 8, allowed_countries: ["US"] },
      settings: { org_name: "Acme Shop", code_length: 8, allowed_countries: ["US"], code_ttl_seconds: 600, voice: null, calls_per_day: 1000 },
    });
    expect(Object.keys(shop.settings)).toEqual(SETTING_NAMES);

    const list = await admin("GET", "/services");
    expect(list.status).toBe(200);
    expect(list.body.services[0]).toMatchObject({ id: "default", name: "default", own_settings: {}, editable: false, created_at: null });
    expect(list.body.services.find((s: { id: string }) => s.id === shop.id)).toEqual(shop);

    expect((await admin("GET", `/services/${shop.id}`)).body).toEqual(shop);
    // By id only: a name is not an id here (the CLI takes either).
    expect(refusal(await admin("GET", `/services/${name}`))).toMatchObject({ status: 404, code: "not_found" });
    expect(refusal(await admin("GET", "/services/svc_AAAAAAAAAAAAAAAA"))).toMatchObject({ status: 404, code: "not_found" });

    t.clock.advance(60_000);
    const renamed = `${name}-eu`;
    const changed = await admin("PATCH", `/services/${shop.id}`, { name: renamed, settings: { code_length: null, gate: true, languages: ["en", "fr"] } });
    expect(changed.status, changed.text).toBe(200);
    expect(changed.body).toMatchObject({
      id: shop.id,
      name: renamed,
      own_settings: { org_name: "Acme Shop", allowed_countries: ["US"], gate: true, languages: ["en", "fr"] },
      settings: { code_length: 6, gate: true, languages: ["en", "fr"] },
    });
    expect(changed.body.own_settings).not.toHaveProperty("code_length");
    expect(Date.parse(changed.body.updated_at) - Date.parse(changed.body.created_at)).toBe(60_000);
    expect((await admin("GET", `/services/${shop.id}`)).body).toEqual(changed.body);

    const deleted = await admin("DELETE", `/services/${shop.id}`);
    expect(deleted.status).toBe(200);
    expect(deleted.body).toEqual(changed.body);
    expect(refusal(await admin("GET", `/services/${shop.id}`))).toMatchObject({ status: 404, code: "not_found" });
    expect(refusal(await admin("PATCH", `/services/${shop.id}`, { settings: { gate: false } }))).toMatchObject({ status: 404 });
    expect(refusal(await admin("DELETE", `/services/${shop.id}`))).toMatchObject({ status: 404 });
    expect((await admin("GET", "/services")).body.services.map((s: { id: string }) => s.id)).not.toContain(shop.id);
    // Its name is free again.
    expect((await admin("POST", "/services", { name: renamed })).status).toBe(201);
  });

  it("refuses a bad setting with 400 naming it, and changes nothing", async () => {
    const bad: Array<[unknown, string, RegExp]> = [
      [{ code_length: 3 }, "settings.code_length", />=4/],
      [{ code_length: "8" }, "settings.code_length", /number/],
      [{ allowed_countries: ["UK"] }, "settings.allowed_countries", /the United Kingdom is GB/],
      // Twilio's Polly.Hans speaks German: not a voice for English.
      [{ language: "en", voice: "Polly.Hans" }, "settings.voice", /Polly\.Hans speaks de-DE, not en-US \(language\); set voice to/],
      [{ calls_per_day: 0 }, "settings.calls_per_day", /.+/],
    ];
    for (const [settings, field, message] of bad) {
      const res = await admin("POST", "/services", { name: fresh("bad"), settings });
      expect(refusal(res), JSON.stringify(settings)).toMatchObject({ status: 400, code: "invalid_request", field });
      expect(res.body.error.message).toMatch(new RegExp(`^${field.replace(".", "\\.")}: `));
      expect(res.body.error.message).toMatch(message);
    }
    const unknown = await admin("POST", "/services", { name: fresh("bad"), settings: { colour: "blue" } });
    expect(refusal(unknown)).toMatchObject({ status: 400, field: "settings" });
    expect(unknown.body.error.message).toMatch(/colour: not a setting; use one of org_name, /);
    const extra = await admin("POST", "/services", { name: fresh("bad"), owner: "me" });
    expect(refusal(extra)).toMatchObject({ status: 400, code: "invalid_request", message: "owner: not a field of this body; send name and settings" });
    for (const name of ["default", "svc_abc", "-x", ""]) {
      expect(refusal(await admin("POST", "/services", { name })), name).toMatchObject({ status: 400, field: "name" });
    }
    expect(refusal(await admin("POST", "/services", {}))).toMatchObject({ status: 400, field: "name" });
    expect(refusal(await t.api("POST", "/services", { name: "x" }, { key: ADMIN_KEY, form: true }))).toMatchObject({ status: 415 });
    expect(refusal(await t.api("POST", "/services", undefined, { key: ADMIN_KEY }))).toMatchObject({ status: 415 });

    const shop = await created(fresh("shop"), { language: "de", code_length: 8 });
    for (const settings of [{ code_length: 11 }, { voice: "Polly.Joanna" }, { language: "xx" }]) {
      const res = await admin("PATCH", `/services/${shop.id}`, { settings });
      expect(refusal(res), JSON.stringify(settings)).toMatchObject({ status: 400, field: `settings.${Object.keys(settings)[0]}` });
    }
    expect((await admin("PATCH", `/services/${shop.id}`, { settings: { voice: "Polly.Hans" } })).status).toBe(200);
    // The voice holds the language: changing the language alone would leave a voice that does not speak it.
    expect(refusal(await admin("PATCH", `/services/${shop.id}`, { settings: { language: "en" } }))).toMatchObject({ status: 400, field: "settings.voice" });
    expect((await admin("GET", `/services/${shop.id}`)).body.own_settings).toEqual({ language: "de", code_length: 8, voice: "Polly.Hans" });
  });

  it("refuses a name another live service holds with 409", async () => {
    const a = await created(fresh("app"));
    const b = await created(fresh("app"));
    const again = await admin("POST", "/services", { name: a.name });
    expect(refusal(again)).toMatchObject({ status: 409, code: "name_taken" });
    expect(again.body.error.message).toContain("pick another name");
    expect(refusal(await admin("PATCH", `/services/${b.id}`, { name: a.name }))).toMatchObject({ status: 409, code: "name_taken" });
    expect((await admin("GET", `/services/${b.id}`)).body.name).toBe(b.name);
  });

  it("shows the default service, and leaves it to the environment", async () => {
    const res = await admin("GET", "/services/default");
    expect(res.body).toMatchObject({ id: "default", editable: false, own_settings: {}, settings: { code_length: 6, allowed_countries: ["US", "CA"] } });
    for (const [method, body] of [["PATCH", { settings: { gate: true } }], ["DELETE", undefined]] as const) {
      const refused = await admin(method, "/services/default", body);
      expect(refusal(refused), method).toMatchObject({ status: 400, code: "invalid_request" });
      expect(refused.body.error.message).toMatch(/^the default service cannot be (changed|deleted) here: its environment variables set it \(ORG_NAME, LANGUAGE, OTP_LENGTH/);
    }
  });

  it("holds a change for the service's keys at once, and a deletion revokes them", async () => {
    const shop = await created(fresh("shop"), { code_length: 8 });
    const { key } = await createKey(t.service.deps.database, fresh("shop-key"), { serviceId: shop.id, now: t.clock.now() });
    const ask = (number: string) => t.api("POST", "/request-auth", { number }, { key });
    expect(await codeOfCall(await ask("+14155550201"))).toHaveLength(8);
    expect((await admin("PATCH", `/services/${shop.id}`, { settings: { code_length: 4 } })).status).toBe(200);
    // The very next request, on the instance that made the change.
    expect(await codeOfCall(await ask("+14155550202"))).toHaveLength(4);

    expect((await admin("DELETE", `/services/${shop.id}`)).status).toBe(200);
    const after = await ask("+14155550203");
    expect(refusal(after)).toMatchObject({ status: 401, code: "unauthorized" });
    // The environment's keys act in the default service, untouched.
    expect((await t.api("POST", "/request-auth", { number: "+14155550204" }, { key: API_KEY })).status).toBe(201);
  });

  it("drops a cached service when the database notifies its change (from the CLI, say)", async () => {
    const shop = await created(fresh("shop"), { code_length: 8 });
    const directory = t.service.deps.services;
    expect((await directory.find(shop.id))?.otp.length).toBe(8);
    // Changed in the database without the admin API, which would also forget its own entry.
    const check = (s: Parameters<typeof serviceSettings>[1]) => void serviceSettings(directory.default, s, "twilio");
    await updateService(t.service.deps.database, shop.id, { settings: { code_length: 5 } }, t.clock.now(), check);
    // An entry is kept a minute while notifications flow, a second when they do not: half a second is the notification.
    const seen = Date.now();
    let settings: ServiceSettings | undefined;
    while (Date.now() - seen < 500 && (settings = await directory.find(shop.id))?.otp.length !== 5) await new Promise((r) => setTimeout(r, 10));
    expect(settings?.otp.length).toBe(5);
  });

  it("answers as its OpenAPI declaration says", async () => {
    const routes = declaredRoutes(createApp(t.service.deps));
    const conforms = (method: string, path: string, res: ApiResponse) => {
      const schema = routes.find((r) => r.method === method && r.path === path)?.responses[res.status]?.content?.["application/json"]?.schema;
      expect(schema, `${method} ${path} declares ${res.status}`).toBeDefined();
      expect(schema!.safeParse(res.body).error).toBeUndefined();
    };
    const shop = await admin("POST", "/services", { name: fresh("doc"), settings: { voice: "Polly.Joanna", languages: ["en", "es"] } });
    conforms("post", "/services", shop);
    conforms("post", "/services", await admin("POST", "/services", { name: shop.body.name }));
    conforms("post", "/services", await admin("POST", "/services", { name: "x", settings: { gate: "yes" } }));
    conforms("post", "/services", await t.api("POST", "/services", { name: "x" }, { key: API_KEY }));
    conforms("post", "/services", await t.api("POST", "/services", { name: "x" }, { key: ADMIN_KEY, form: true }));
    conforms("get", "/services", await admin("GET", "/services"));
    conforms("get", "/services", await t.api("GET", "/services", undefined, { key: null }));
    conforms("get", "/services/{id}", await admin("GET", `/services/${shop.body.id}`));
    conforms("get", "/services/{id}", await admin("GET", "/services/default"));
    conforms("get", "/services/{id}", await admin("GET", "/services/nope"));
    conforms("patch", "/services/{id}", await admin("PATCH", `/services/${shop.body.id}`, { settings: { voice: null } }));
    conforms("patch", "/services/{id}", await admin("PATCH", "/services/default", { settings: {} }));
    conforms("delete", "/services/{id}", await admin("DELETE", `/services/${shop.body.id}`));
    conforms("delete", "/services/{id}", await admin("DELETE", `/services/${shop.body.id}`));
  });

  it("serves the typed client", async () => {
    const client = new VoiceOtpClient({ baseUrl: t.service.url, apiKey: ADMIN_KEY });
    const made = await client.createService({ name: fresh("typed"), settings: { codeLength: 7, callsPerNumberPer10Min: 2, allowedCountries: ["US"] } });
    expect(made).toMatchObject({ editable: true, ownSettings: { codeLength: 7, callsPerNumberPer10Min: 2, allowedCountries: ["US"] } });
    expect(made.settings.codeTtlSeconds).toBe(600);
    expect((await client.listServices()).map((s) => s.id)).toEqual(expect.arrayContaining(["default", made.id]));
    expect(await client.getService(made.id)).toEqual(made);
    const changed = await client.updateService(made.id, { settings: { codeLength: null, gate: true } });
    expect(changed.ownSettings).toEqual({ callsPerNumberPer10Min: 2, allowedCountries: ["US"], gate: true });
    expect((await client.deleteService(made.id)).id).toBe(made.id);
    await expect(client.getService(made.id)).rejects.toMatchObject({ status: 404, code: "not_found" });
    await expect(client.createService({ name: "x", settings: { codeLength: 3 } })).rejects.toMatchObject({
      status: 400,
      code: "invalid_request",
      details: { field: "settings.code_length" },
    });
  });
});

describe("the client's setting names", () => {
  it("go back to the service's names unchanged", () => {
    const names = Object.fromEntries(SETTING_NAMES.map((n) => [n, 1]));
    expect(snakeKeys(camelCased(names))).toEqual(names);
  });
});

describe("the services command", () => {
  const run = async (dir: string, args: string[]) => {
    const p = runScript("src/cli/main.ts", { DATA_DIR: dir }, args);
    const code = await p.exited;
    return { code, stdout: p.stdout(), stderr: p.stderr() };
  };

  it("creates, lists, changes, shows and deletes services, and makes their keys", async () => {
    const dir = await mkdtemp(join(tmpdir(), "voice-otp-services-"));
    try {
      const made = await run(dir, ["services", "create", "shop", "--set", "org_name=Acme Shop", "--set", "code_length=8", "--set", "allowed_countries=US,CA"]);
      expect(made.stderr).toBe("");
      expect(made.stdout).toMatch(/^created service "shop" \(svc_[\w-]{16}\): org_name="Acme Shop" code_length=8 allowed_countries=US,CA\n/);
      const id = /\((svc_[\w-]{16})\)/.exec(made.stdout)![1]!;

      const bad = await run(dir, ["services", "create", "staff", "--set", "code_length=3"]);
      expect(bad).toMatchObject({ code: 1, stderr: "voice-otp: code_length: Too small: expected number to be >=4\n" });

      const list = await run(dir, ["services", "list"]);
      expect(list.stdout.split("\n").filter(Boolean).map((l) => l.split("\t").slice(0, 2))).toEqual([
        ["default", "default"],
        [id, "shop"],
      ]);

      const update = await run(dir, ["services", "update", "shop", "--name", "shop-eu", "--set", 'languages=["en","fr"]', "--set", "gate=true", "--reset", "code_length"]);
      expect(update.stderr).toBe("");
      expect(update.stdout).toContain(`updated service "shop-eu" (${id})`);

      const show = await run(dir, ["services", "show", id]);
      const lines = show.stdout.split("\n");
      expect(lines).toEqual(
        expect.arrayContaining([
          expect.stringMatching(/^\* org_name +"Acme Shop"$/),
          expect.stringMatching(/^\* languages +en,fr$/),
          expect.stringMatching(/^\* gate +true$/),
          expect.stringMatching(/^ {2}code_length +6$/),
          expect.stringMatching(/^ {2}voice +\(the language's default voice\)$/),
        ]),
      );

      expect((await run(dir, ["keys", "create", "shop-backend", "--service", "shop-eu"])).stdout).toMatch(/^created API key for service "shop-eu" "shop-backend"/);
      expect((await run(dir, ["keys", "create", "ops", "--admin"])).stdout).toMatch(/^created admin key "ops"/);
      const both = await run(dir, ["keys", "create", "both", "--admin", "--service", "shop-eu"]);
      expect(both).toMatchObject({ code: 1, stderr: expect.stringMatching(/give --admin or --service, not both/) });
      const nowhere = await run(dir, ["keys", "create", "lost", "--service", "nope"]);
      expect(nowhere).toMatchObject({ code: 1, stderr: expect.stringMatching(/^voice-otp: no service "nope"/) });

      expect((await run(dir, ["services", "delete", "shop-eu"])).stdout).toMatch(/^deleted service "shop-eu" .* revoked its keys/);
      const keys = (await run(dir, ["keys", "list"])).stdout.split("\n").filter(Boolean).map((l) => l.split("\t").slice(0, 4));
      expect(keys).toEqual([
        ["shop-backend", expect.stringMatching(/^revoked /), "default rate", "service shop-eu (deleted)"],
        ["ops", "active", "default rate", "admin"],
      ]);
      expect(await run(dir, ["services", "update", "default", "--set", "gate=true"])).toMatchObject({
        code: 1,
        stderr: expect.stringMatching(/^voice-otp: the default service is set by the environment's variables/),
      });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 300_000);
});
