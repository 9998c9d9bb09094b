import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestService, type TestService } from "./helpers/service.js";

/**
 * Issue 19, item 8: what every answer says about itself (headers), and what a client
 * cannot make the service hold (slow connections, bogus keys, malformed heads).
 */
describe("answers", () => {
  let t: TestService;
  beforeAll(async () => {
    t = await startTestService({ db: "pglite", carrier: "twilio" });
  }, 60_000);
  afterAll(() => t?.close());

  it("carry Cache-Control: no-store, nosniff and Referrer-Policy: no-referrer, errors included", async () => {
    for (const [method, path, key] of [
      ["GET", "/healthz", undefined],
      ["POST", "/validate-auth", undefined],
      ["GET", "/challenges/ch_nope", "wrong-key-0123456789abcdef"],
      ["GET", "/no-such-route", undefined],
      ["GET", "/openapi.json", undefined],
    ] as const) {
      const res = await t.api(method, path, method === "POST" ? {} : undefined, key ? { key } : {});
      expect([path, res.headers.get("cache-control")]).toEqual([path, "no-store"]);
      expect([path, res.headers.get("x-content-type-options")]).toEqual([path, "nosniff"]);
      expect([path, res.headers.get("referrer-policy")]).toEqual([path, "no-referrer"]);
    }
  });

  it("keep the /docs page's own Content-Security-Policy and its assets cacheable", async () => {
    const page = await t.api("GET", "/docs");
    expect(page.status).toBe(200);
    expect(page.headers.get("content-security-policy")).toContain("script-src 'self'");
    expect(page.headers.get("x-content-type-options")).toBe("nosniff");
    const asset = await t.api("GET", "/docs/init.js");
    expect(asset.status).toBe(200);
    expect(asset.headers.get("cache-control")).toBe("public, max-age=3600");
  });
});
