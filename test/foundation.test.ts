import { Agent, get as httpGet } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { databaseKinds } from "./helpers/databases.js";
import { startTestService, type TestService } from "./helpers/service.js";

describe.each(await databaseKinds())("service foundation on %s", (db) => {
  let t: TestService;
  beforeAll(async () => {
    t = await startTestService({ db, carrier: "twilio" });
  });
  afterAll(() => t?.close());

  it("answers /healthz and /readyz with JSON", async () => {
    const health = await t.api("GET", "/healthz", undefined, { key: null });
    expect(health.status).toBe(200);
    expect(health.body).toEqual({ status: "ok" });
    const ready = await t.api("GET", "/readyz", undefined, { key: null });
    expect(ready.status).toBe(200);
    expect(ready.body).toEqual({ status: "ready", database: "ok" });
  });

  it("keeps idle connections longer than a load balancer's 60 s, so it never resets one the balancer reuses", async () => {
    const keepAlive = await new Promise<string | undefined>((resolve, reject) => {
      const req = httpGet(`${t.service.url}/healthz`, { agent: new Agent({ keepAlive: true }) }, (res) => {
        res.resume();
        resolve(String(res.headers["keep-alive"] ?? ""));
      });
      req.on("error", reject);
    });
    expect(Number(/timeout=(\d+)/.exec(keepAlive ?? "")?.[1])).toBeGreaterThan(60);
  });

  it("answers unknown routes 404 in the error shape", async () => {
    const res = await t.api("GET", "/nope", undefined, { key: null });
    expect(res.status).toBe(404);
    expect(res.body).toEqual({ error: { code: "not_found", message: "no route for GET /nope" } });
    expect(res.headers.get("content-type")).toMatch(/application\/json/);
  });

  it("refuses a missing or wrong API key with 401", async () => {
    const missing = await t.api("POST", "/request-auth", { number: "+14155550123" }, { key: null });
    expect(missing.status).toBe(401);
    expect(missing.body.error.code).toBe("unauthorized");
    expect(missing.headers.get("www-authenticate")).toMatch(/^Bearer/);
    const wrong = await t.api("POST", "/validate-auth", { number: "+14155550123", auth_code: "123456" }, { key: "x".repeat(25) });
    expect(wrong.status).toBe(401);
  });

  it("answers bad bodies with a clear 4xx in the error shape", async () => {
    const notJson = await t.api("POST", "/request-auth", "{nope", {});
    expect(notJson.status).toBe(400);
    expect(notJson.body.error).toEqual({ code: "invalid_request", message: "body is not valid JSON" });
    const wrongType = await t.api("POST", "/request-auth", "number=1", { headers: { "content-type": "text/plain" } });
    expect(wrongType.status).toBe(415);
    expect(wrongType.body.error.code).toBe("unsupported_media_type");
    const missing = await t.api("POST", "/request-auth", {});
    expect(missing.status).toBe(400);
    expect(missing.body.error.message).toMatch(/^number:/);
    const huge = await t.api("POST", "/request-auth", { number: "+14155550123", pad: "x".repeat(20_000) });
    expect(huge.status).toBe(413);
    expect(huge.body.error.code).toBe("payload_too_large");
  });

  it("carries a request id on every response", async () => {
    const given = await t.api("GET", "/healthz", undefined, { headers: { "x-request-id": "abc-123" } });
    expect(given.headers.get("x-request-id")).toBe("abc-123");
    const logged = t.logLines.map((l) => JSON.parse(l)).filter((l) => l.reqId === "abc-123");
    expect(logged).toEqual([expect.objectContaining({ method: "GET", path: "/healthz", status: 200, msg: "request" })]);
    // An id that could forge log lines is replaced, not echoed.
    const hostile = await t.api("GET", "/healthz", undefined, { headers: { "x-request-id": "x\"}{\"level\":60" } });
    expect(hostile.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
    const made = await t.api("GET", "/healthz");
    expect(made.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
  });
});

describe.each(await databaseKinds())("service lifecycle on %s", (db) => {
  it("finishes a request in flight when shutting down, and takes no new ones", async () => {
    const t = await startTestService({ db, carrier: "twilio" });
    try {
      // A slow carrier keeps /request-auth busy while the shutdown begins.
      t.simulator.setOutcome("+12125550100", { kind: "answer", apiDelayMs: 700 });
      const inFlight = t.api("POST", "/request-auth", { number: "+12125550100" });
      await t.simulator.waitForCreateCall("+12125550100");
      const closing = t.service.close(5000);
      // Draining: readiness off, new work refused in the error shape.
      const ready = await t.api("GET", "/readyz");
      expect(ready.status).toBe(503);
      expect(ready.body.error.code).toBe("shutting_down");
      const late = await t.api("POST", "/validate-auth", { number: "+12125550100", auth_code: "123456" });
      expect(late.status).toBe(503);
      expect(late.body.error.code).toBe("shutting_down");
      const res = await inFlight;
      expect(res.status).toBe(201);
      await closing;
      // Closed: no connection at all.
      expect(await t.api("GET", "/healthz").catch((err: Error) => err)).toBeInstanceOf(Error);
    } finally {
      await t.close().catch(() => {});
    }
  });

  it("answers 503 in the error shape when the database is gone, never 500", async () => {
    const t = await startTestService({ db, carrier: "twilio" });
    try {
      expect((await t.api("GET", "/readyz")).status).toBe(200);
      await t.service.deps.database.close();
      const ready = await t.api("GET", "/readyz");
      expect(ready.status).toBe(503);
      expect(ready.body.error.code).toBe("service_unavailable");
      for (const [path, body] of [
        ["/request-auth", { number: "+12125550101" }],
        ["/validate-auth", { number: "+12125550101", auth_code: "123456" }],
      ] as const) {
        const res = await t.api("POST", path, body);
        expect(res.status, res.text).toBe(503);
        expect(res.body.error).toEqual({ code: "service_unavailable", message: "the database is unavailable; retry shortly" });
        expect(res.headers.get("retry-after")).toBe("5");
      }
    } finally {
      await t.close().catch(() => {});
    }
  });
});

describe("methods", () => {
  it("answers a wrong method on a known path 405 with Allow", async () => {
    const t = await startTestService({ db: "pglite", carrier: "twilio" });
    try {
      const res = await t.api("GET", "/request-auth");
      expect(res.status).toBe(405);
      expect(res.headers.get("allow")).toBe("POST");
      expect(res.body.error.code).toBe("method_not_allowed");
      expect((await t.api("DELETE", "/healthz")).status).toBe(405);
    } finally {
      await t.close();
    }
  });
});
