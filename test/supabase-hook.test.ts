import { randomBytes, randomUUID } from "node:crypto";
import { sql } from "drizzle-orm";
import { Webhook } from "standardwebhooks";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createService } from "../src/services/store.js";
import { serviceSettings } from "../src/services/settings.js";
import { postgresAvailable } from "./helpers/databases.js";
import { runScript } from "./helpers/process.js";
import { codeHeard, SECRET_KEY, startTestService, type TestService } from "./helpers/service.js";
import { numbers } from "./helpers/webhooks.js";

/**
 * Supabase Auth's Send SMS hook: Supabase makes the code and POSTs it, signed per Standard
 * Webhooks with the hook's secret (`v1,whsec_…`); the number hears it in a call. Requests
 * are signed here with the `standardwebhooks` package, as Supabase's Go server signs them
 * with that library's Go twin, and shaped as Supabase documents its payload.
 */

const newSecret = () => `v1,whsec_${randomBytes(32).toString("base64")}`;
const ADMIN_KEY = "admin-key-0123456789abcdef";

/** Supabase's documented example payload (Send SMS Hook, "Inputs"), as published. */
const DOCUMENTED = {
  user: {
    id: "6481a5c1-3d37-4a56-9f6a-bee08c554965",
    aud: "authenticated",
    role: "authenticated",
    email: "",
    phone: "+1333363128",
    phone_confirmed_at: "2024-05-13T11:52:48.157306Z",
    confirmation_sent_at: "2024-05-14T12:31:52.824573Z",
    confirmed_at: "2024-05-13T11:52:48.157306Z",
    phone_change_sent_at: "2024-05-13T11:47:02.183064Z",
    last_sign_in_at: "2024-05-13T11:52:48.162518Z",
    app_metadata: { provider: "phone", providers: ["phone"] },
    user_metadata: {},
    identities: [
      {
        identity_id: "3be5e552-65aa-41d9-9db9-2a502f845459",
        id: "6481a5c1-3d37-4a56-9f6a-bee08c554965",
        user_id: "6481a5c1-3d37-4a56-9f6a-bee08c554965",
        identity_data: { email_verified: false, phone: "+1612341244428", phone_verified: true, sub: "6481a5c1-3d37-4a56-9f6a-bee08c554965" },
        provider: "phone",
        last_sign_in_at: "2024-05-13T11:52:48.155562Z",
        created_at: "2024-05-13T11:52:48.155599Z",
        updated_at: "2024-05-13T11:52:48.159391Z",
      },
    ],
    created_at: "2024-05-13T11:45:33.7738Z",
    updated_at: "2024-05-14T12:31:52.82475Z",
    is_anonymous: false,
  },
  sms: { otp: "561166" },
};

/** The documented payload for another user's number and code. */
const payload = (phone: string, otp: string, sms: Record<string, string> = {}) => ({
  ...DOCUMENTED,
  user: { ...DOCUMENTED.user, phone },
  sms: { otp, ...sms },
});

/**
 * A request as Supabase Auth sends it: JSON, a new webhook-id each time, signed with every
 * secret it holds, the signatures joined by ", " as its Go server joins them.
 */
function signed(secrets: string[], body: unknown, opts: { at?: Date; id?: string } = {}) {
  const text = JSON.stringify(body);
  const id = opts.id ?? randomUUID();
  const at = opts.at ?? new Date();
  const signatures = secrets.map((s) => new Webhook(s.slice("v1,whsec_".length)).sign(id, at, text));
  return {
    text,
    headers: {
      "content-type": "application/json",
      "webhook-id": id,
      "webhook-timestamp": String(Math.floor(at.getTime() / 1000)),
      "webhook-signature": signatures.join(", "),
    },
  };
}

async function hook(t: TestService, path: string, request: { text: string; headers: Record<string, string> }) {
  const res = await fetch(`${t.service.url}${path}`, { method: "POST", headers: request.headers, body: request.text });
  const text = await res.text();
  return { status: res.status, text, body: JSON.parse(text) as any, contentType: res.headers.get("content-type") };
}

describe("the Supabase Send SMS hook on pglite", () => {
  let t: TestService;
  const nextNumber = numbers();
  const oldSecret = newSecret();
  const current = newSecret();

  beforeAll(async () => {
    // During a rotation: both secrets, `|` between them, as Supabase takes them.
    t = await startTestService({ db: "pglite", carrier: "twilio", env: { SUPABASE_HOOK_SECRET: `${oldSecret}|${current}`, ADMIN_API_KEYS: ADMIN_KEY } });
  });
  afterAll(() => t?.close());

  const heardFor = async (number: string) => codeHeard((await t.simulator.waitForCall({ to: number })).heard);

  it("calls the user's number and reads Supabase's code, answering 200 with an empty JSON object", async () => {
    const number = nextNumber();
    const res = await hook(t, "/hooks/supabase/send-sms", signed([current], payload(number, "561166")));
    expect(res.status).toBe(200);
    expect(res.contentType).toMatch(/^application\/json/);
    expect(res.body).toEqual({});
    expect(await heardFor(number)).toBe("561166");
    const [challenge] = await t.service.deps.database.rows<{ id: string; api_key_name: string; service_id: string }>(
      sql`select id, api_key_name, service_id from challenges where number = ${number}`,
    );
    expect(challenge).toMatchObject({ api_key_name: "supabase-hook", service_id: "default" });
    // Supabase checks the code itself, but the challenge is an ordinary one.
    expect((await t.api("POST", "/validate-auth", { number, auth_code: "561166" })).status).toBe(200);
    expect(t.logLines.join("\n")).not.toContain("561166");
  });

  it("accepts either secret during a rotation, and Supabase's signature list of both", async () => {
    for (const secrets of [[oldSecret], [current], [oldSecret, current], [newSecret(), current]]) {
      const number = nextNumber();
      const res = await hook(t, "/hooks/supabase/send-sms", signed(secrets, payload(number, "203040")));
      expect(res.body, `${secrets.length} secret(s)`).toEqual({});
      expect(await heardFor(number)).toBe("203040");
    }
  });

  it("refuses a bad signature or a stale timestamp with 401, and places no call", async () => {
    const number = nextNumber();
    const forged = await hook(t, "/hooks/supabase/send-sms", signed([newSecret()], payload(number, "111222")));
    expect(forged.status).toBe(401);
    expect(forged.body.error).toEqual({ code: "invalid_hook_signature", http_code: 401, message: expect.stringContaining("secret") });

    const tampered = signed([current], payload(number, "111222"));
    const changed = await hook(t, "/hooks/supabase/send-sms", { ...tampered, text: tampered.text.replace("111222", "999888") });
    expect(changed.status).toBe(401);

    const stale = await hook(t, "/hooks/supabase/send-sms", signed([current], payload(number, "111222"), { at: new Date(Date.now() - 6 * 60_000) }));
    expect(stale.status).toBe(401);
    expect(stale.body.error.message).toMatch(/5 minutes/);
    const early = await hook(t, "/hooks/supabase/send-sms", signed([current], payload(number, "111222"), { at: new Date(Date.now() + 6 * 60_000) }));
    expect(early.status).toBe(401);

    const unsigned = await fetch(`${t.service.url}/hooks/supabase/send-sms`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(payload(number, "111222")) });
    expect(unsigned.status).toBe(401);
    expect(t.simulator.calls().filter((c) => c.to === number)).toEqual([]);
  });

  it("places no second call for a replayed request", async () => {
    const number = nextNumber();
    const request = signed([current], payload(number, "424242"));
    expect((await hook(t, "/hooks/supabase/send-sms", request)).body).toEqual({});
    await t.simulator.waitForCall({ to: number });
    expect((await hook(t, "/hooks/supabase/send-sms", request)).body).toEqual({});
    expect(t.simulator.calls().filter((c) => c.to === number)).toHaveLength(1);
  });

  it("answers a limit's refusal in Supabase's error shape, with 200 so that Supabase reads it", async () => {
    const number = nextNumber();
    expect((await hook(t, "/hooks/supabase/send-sms", signed([current], payload(number, "135790")))).body).toEqual({});
    const again = await hook(t, "/hooks/supabase/send-sms", signed([current], payload(number, "246801")));
    expect(again.status).toBe(200);
    expect(again.body).toEqual({
      error: { code: "rate_limited", http_code: 429, message: expect.stringMatching(/^Too many verification calls to this phone number\. Try again in \d+ seconds\.$/) },
    });
  });

  it("answers a number that cannot be called (the documented example's own) in Supabase's error shape", async () => {
    const res = await hook(t, "/hooks/supabase/send-sms", signed([current], DOCUMENTED));
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ error: { code: "invalid_number", http_code: 400, message: "This phone number cannot be called. Check it and try again." } });
  });

  it("calls sms.phone when Supabase names it (an MFA factor, a phone change), and numbers written without +", async () => {
    const factor = nextNumber();
    const res = await hook(t, "/hooks/supabase/send-sms", signed([current], payload(nextNumber(), "777111", { phone: factor.slice(1), sms_type: "mfa" })));
    expect(res.body).toEqual({});
    expect(await heardFor(factor)).toBe("777111");
  });

  it("refuses a payload it cannot use with 400, naming the field and never the code", async () => {
    const bad = await hook(t, "/hooks/supabase/send-sms", signed([current], { ...DOCUMENTED, sms: { otp: "12ab56" } }));
    expect(bad.status).toBe(400);
    expect(bad.body.error).toMatchObject({ code: "invalid_request", http_code: 400, message: expect.stringMatching(/^sms\.otp: /) });
    expect(bad.text).not.toContain("12ab56");
    const noPhone = await hook(t, "/hooks/supabase/send-sms", signed([current], payload("", "123456")));
    expect(noPhone.body.error).toMatchObject({ code: "invalid_request", message: expect.stringMatching(/^user\.phone/) });
  });

  it("serves another service at its own URL once its secret is set through the admin API, and answers 404 without one", async () => {
    const service = await createService(t.service.deps.database, { name: "shop", settings: { org_name: "Acme Shop" } }, t.clock.now(), (s) =>
      serviceSettings(t.service.deps.services.default, s, "twilio"),
    );
    const path = `/hooks/supabase/send-sms/${service.id}`;
    const secret = newSecret();
    const number = nextNumber();
    const before = await hook(t, path, signed([secret], payload(number, "600700")));
    expect(before.status).toBe(404);
    expect(before.body.error).toMatchObject({ code: "hook_not_configured", http_code: 404 });
    expect((await hook(t, "/hooks/supabase/send-sms/svc_nope", signed([secret], payload(number, "600700")))).status).toBe(404);

    const admin = { key: ADMIN_KEY };
    const set = await t.api("PUT", `/services/${service.id}/supabase-hook`, { secret }, admin);
    expect(set.status, set.text).toBe(200);
    expect(set.body).toEqual({ url: `${t.service.deps.publicBaseUrl()}${path}`, secrets: 1, updated_at: expect.any(String) });
    expect(set.text).not.toContain(secret.slice(9));
    const [stored] = await t.service.deps.database.rows<{ secrets_sealed: string }>(sql`select secrets_sealed from supabase_hooks where service_id = ${service.id}`);
    expect(stored!.secrets_sealed).not.toContain(secret.slice(9));

    expect((await hook(t, path, signed([secret], payload(number, "600700")))).body).toEqual({});
    const call = await t.simulator.waitForCall({ to: number });
    expect(call.heard.join(" ")).toContain("Acme Shop");
    expect(codeHeard(call.heard)).toBe("600700");
    // Each service's secret opens its own URL only.
    expect((await hook(t, path, signed([current], payload(nextNumber(), "600700")))).status).toBe(401);
    expect((await hook(t, "/hooks/supabase/send-sms", signed([secret], payload(nextNumber(), "600700")))).status).toBe(401);

    expect((await t.api("GET", `/services/${service.id}/supabase-hook`, undefined, admin)).body).toMatchObject({ secrets: 1 });
    const refused = await t.api("PUT", `/services/${service.id}/supabase-hook`, { secret: "v1,whsec_c2hvcnQ=" }, admin);
    expect(refused.status).toBe(400);
    expect(refused.body.error).toMatchObject({ code: "invalid_request", field: "secret" });
    expect((await t.api("PUT", "/services/default/supabase-hook", { secret }, admin)).status).toBe(400);
    expect((await t.api("DELETE", `/services/${service.id}/supabase-hook`, undefined, admin)).status).toBe(200);
    expect((await hook(t, path, signed([secret], payload(nextNumber(), "600700")))).status).toBe(404);
  });
});

describe.runIf(await postgresAvailable())("the Supabase Send SMS hook on postgres", () => {
  it("reads Supabase's code to the user's number, for a service whose secret the command line set", async () => {
    const secret = newSecret();
    const t = await startTestService({ db: "postgres", carrier: "twilio", env: { SUPABASE_HOOK_SECRET: secret } });
    try {
      const number = "+14155550188";
      const res = await hook(t, "/hooks/supabase/send-sms", signed([secret], payload(number, "918273")));
      expect(res.body).toEqual({});
      expect(codeHeard((await t.simulator.waitForCall({ to: number })).heard)).toBe("918273");

      // `voice-otp services supabase-hook` beside the running service, on its database and SECRET_KEY.
      const service = await createService(t.service.deps.database, { name: "clinic", settings: {} }, t.clock.now(), (s) =>
        serviceSettings(t.service.deps.services.default, s, "twilio"),
      );
      const own = newSecret();
      const cli = runScript("src/cli/main.ts", { DATABASE_URL: t.databaseUrl!, SECRET_KEY }, ["services", "supabase-hook", "clinic", "--secret", own]);
      expect(await cli.exited, cli.stderr()).toBe(0);
      expect(cli.stdout()).toMatch(new RegExp(`^Supabase hook of service "clinic" \\(${service.id}\\): 1 secret\\(s\\) set; give Supabase this URL: .*/hooks/supabase/send-sms/${service.id}\n$`));
      const other = "+14155550189";
      expect((await hook(t, `/hooks/supabase/send-sms/${service.id}`, signed([own], payload(other, "564738")))).body).toEqual({});
      expect(codeHeard((await t.simulator.waitForCall({ to: other })).heard)).toBe("564738");
    } finally {
      await t.close();
    }
  });
});
