import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../src/config/index.js";
import { runScript } from "./helpers/process.js";
import { startTestService, type TestService } from "./helpers/service.js";
import { numbers } from "./helpers/webhooks.js";

const twilio = { TWILIO_ACCOUNT_SID: `AC${"0".repeat(32)}`, TWILIO_AUTH_TOKEN: "token", TWILIO_NUMBER: "+15005550006" };

/** An API without keys rings phones for anyone who reaches it: the service makes sure that is meant. */
describe("an API without keys", () => {
  it("does not start with a real carrier unless ALLOW_OPEN_API, and then listens on loopback only", () => {
    expect(() => loadConfig(twilio)).toThrow(/^API_KEYS: required with CARRIER=twilio: .*ALLOW_OPEN_API=true runs it open on 127\.0\.0\.1 only$/);
    expect(loadConfig({ ...twilio, ALLOW_OPEN_API: "true" }).host).toBe("127.0.0.1");
    expect(loadConfig({ ...twilio, ALLOW_OPEN_API: "true", HOST: "::1" }).host).toBe("::1");
    expect(() => loadConfig({ ...twilio, ALLOW_OPEN_API: "true", HOST: "0.0.0.0" })).toThrow(/^HOST: ALLOW_OPEN_API=true listens on 127\.0\.0\.1 only/);
    // With keys, or on the simulator (which rings nobody), the address is the operator's choice.
    expect(loadConfig({ ...twilio, API_KEYS: "k".repeat(32) }).host).toBe("0.0.0.0");
    expect(loadConfig({}).host).toBe("0.0.0.0");
  });

  it("does not start behind an ngrok tunnel, which publishes even a loopback port", () => {
    expect(() => loadConfig({ NGROK_AUTHTOKEN: "tok" })).toThrow(/^API_KEYS: required with NGROK_AUTHTOKEN/);
    expect(() => loadConfig({ ...twilio, NGROK_AUTHTOKEN: "tok", ALLOW_OPEN_API: "true" })).toThrow(/^API_KEYS: required with NGROK_AUTHTOKEN/);
    expect(loadConfig({ NGROK_AUTHTOKEN: "tok", API_KEYS: "k".repeat(32) }).ngrok?.authtoken).toBe("tok");
  });

  it("stops the process with a one-line reason", async () => {
    const p = runScript("src/server.ts", { ...twilio, PORT: "0", DATA_DIR: "memory://" });
    expect(await p.exited).toBe(1);
    expect(p.stderr().trim()).toMatch(/^voice-otp: configuration error: API_KEYS: required with CARRIER=twilio/);
    expect(p.stderr().trim().split("\n")).toHaveLength(1);
  });
});

describe("an open API, asked for with ALLOW_OPEN_API", () => {
  let t: TestService;
  const nextNumber = numbers();
  beforeAll(async () => {
    t = await startTestService({ db: "pglite", carrier: "twilio", env: { API_KEYS: "", ALLOW_OPEN_API: "true" } });
  });
  afterAll(() => t?.close());

  const request = (headers: Record<string, string>) =>
    t.api("POST", "/request-auth", { number: nextNumber() }, { key: null, form: true, headers });

  it("refuses a browser on a page of another origin with 403, before any call", async () => {
    const before = t.simulator.calls().length;
    const own = new URL(t.service.url).origin;
    const crossOrigin: Record<string, string>[] = [
      { origin: "https://attacker.example" },
      { origin: "null" },
      { origin: "http://127.0.0.1:1" },
      { "sec-fetch-site": "cross-site" },
      // Another port on the same host is the same site, yet another origin.
      { "sec-fetch-site": "same-site", origin: own },
    ];
    for (const headers of crossOrigin) {
      const res = await request(headers);
      expect(res.status, JSON.stringify(headers)).toBe(403);
      expect(res.body.error.code).toBe("cross_origin");
      expect(res.body.error.message).toMatch(/set API_KEYS/);
    }
    expect(t.simulator.calls().length).toBe(before);
    for (const [method, path] of [["POST", "/validate-auth"], ["GET", "/challenges/ch_x"]] as const) {
      const res = await t.api(method, path, method === "POST" ? { number: "+12125550100", auth_code: "123456" } : undefined, {
        key: null,
        headers: { "sec-fetch-site": "cross-site" },
      });
      expect(res.status).toBe(403);
      expect(res.body.error.code).toBe("cross_origin");
    }
  });

  it("serves its own pages and other programs", async () => {
    const own = new URL(t.service.url).origin;
    expect((await request({})).status).toBe(201);
    expect((await request({ origin: own, "sec-fetch-site": "same-origin" })).status).toBe(201);
    expect((await request({ origin: new URL(t.service.deps.publicBaseUrl()).origin })).status).toBe(201);
    // Typed into the address bar or a bookmark: no page asked.
    expect((await t.api("GET", "/challenges/ch_x", undefined, { key: null, headers: { "sec-fetch-site": "none" } })).status).toBe(404);
  });

  it("names every open route in its warning", () => {
    const warning = t.logLines.find((l) => l.includes("NO API KEYS"));
    for (const route of ["/request-auth", "/validate-auth", "/challenges/*", "/metrics"]) expect(warning).toContain(route);
    expect(warning).toContain("127.0.0.1");
  });
});
