import net from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { API_KEY, startTestService, type TestService } from "./helpers/service.js";

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

/**
 * Writes `head`, then one piece every `everyMs` until the service closes the connection
 * (or `giveUpMs` passes); returns what came back and when the connection closed.
 */
function trickle(base: string, head: string, piece: string, everyMs: number, giveUpMs: number): Promise<{ text: string; ms: number; closed: boolean }> {
  const { hostname, port } = new URL(base);
  const started = performance.now();
  return new Promise((resolve) => {
    const socket = net.connect({ host: hostname, port: Number(port) });
    const chunks: Buffer[] = [];
    let timer: NodeJS.Timeout | undefined;
    const done = (closed: boolean) => {
      clearInterval(timer);
      clearTimeout(giveUp);
      socket.destroy();
      resolve({ text: Buffer.concat(chunks).toString("latin1"), ms: performance.now() - started, closed });
    };
    const giveUp = setTimeout(() => done(false), giveUpMs);
    socket.on("data", (c: Buffer) => chunks.push(c));
    socket.on("close", () => done(true));
    socket.on("error", () => {});
    socket.on("connect", () => {
      socket.write(head);
      timer = setInterval(() => socket.writable && socket.write(piece), everyMs);
    });
  });
}

const open = (base: string) =>
  new Promise<net.Socket>((resolve, reject) => {
    const { hostname, port } = new URL(base);
    const s = net.connect({ host: hostname, port: Number(port) }, () => resolve(s));
    s.on("error", reject);
  });

describe("a slow or greedy client", () => {
  let t: TestService;
  beforeAll(async () => {
    t = await startTestService({
      db: "pglite",
      carrier: "twilio",
      env: { HTTP_HEADERS_TIMEOUT_SECONDS: "1", HTTP_REQUEST_TIMEOUT_SECONDS: "2", MAX_CONNECTIONS: "8" },
    });
  }, 60_000);
  afterAll(() => t?.close());

  it("sending its headers a line at a time is cut off after HTTP_HEADERS_TIMEOUT_SECONDS", async () => {
    const res = await trickle(t.service.url, "GET /healthz HTTP/1.1\r\nHost: localhost\r\n", "X-Slow: 1\r\n", 200, 8_000);
    expect(res.closed).toBe(true);
    expect(res.ms).toBeLessThan(3_500);
    expect(res.text).toMatch(/^HTTP\/1\.1 408 /);
  });

  it("sending its body a byte at a time is cut off after HTTP_REQUEST_TIMEOUT_SECONDS", async () => {
    const head = `POST /validate-auth HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer ${API_KEY}\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n`;
    const res = await trickle(t.service.url, head, " ", 200, 8_000);
    expect(res.closed).toBe(true);
    expect(res.ms).toBeLessThan(4_500);
  });

  it("keeps an idle kept-alive connection past the headers timeout, and serves its next request", async () => {
    const socket = await open(t.service.url);
    const answers: string[] = [];
    socket.on("data", (c: Buffer) => answers.push(c.toString("latin1")));
    socket.write("GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n");
    await new Promise((r) => setTimeout(r, 2_500));
    socket.write("GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n");
    await new Promise((r) => setTimeout(r, 500));
    socket.destroy();
    expect(answers.join("").match(/HTTP\/1\.1 200 /g)).toHaveLength(2);
  });

  it("cannot open more than MAX_CONNECTIONS connections; the next is closed unanswered, and room frees up", async () => {
    const held = await Promise.all(Array.from({ length: 8 }, () => open(t.service.url)));
    await new Promise((r) => setTimeout(r, 100));
    const extra = await trickle(t.service.url, "GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n", "", 10_000, 3_000);
    expect(extra).toMatchObject({ closed: true, text: "" });
    for (const s of held) s.destroy();
    await new Promise((r) => setTimeout(r, 200));
    const res = await trickle(t.service.url, "GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n", "", 10_000, 3_000);
    expect(res.text).toMatch(/^HTTP\/1\.1 200 /);
  });

  it("refuses a headers timeout longer than the request timeout", async () => {
    const { loadConfig } = await import("../src/config/index.js");
    expect(() => loadConfig({ HTTP_HEADERS_TIMEOUT_SECONDS: "40" })).toThrow(/^HTTP_HEADERS_TIMEOUT_SECONDS: must not exceed HTTP_REQUEST_TIMEOUT_SECONDS \(30\)/);
  });
});
