import net from "node:net";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { createKey, hashKey } from "../src/keys/api-keys.js";
import { sendBytes } from "./helpers/raw-http.js";
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
    expect(parse(res.text)).toMatchObject({ requestId: expect.any(String), body: { error: { code: "request_timeout" } } });
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

describe("bogus API keys", () => {
  let t: TestService;
  beforeAll(async () => {
    t = await startTestService({ db: "pglite", carrier: "twilio", env: { AUTH_FAILURES_PER_IP_PER_MINUTE: "5" } });
    // The event dispatcher looks for due events every half second: its queries are not the requests'.
    await t.service.dispatcher.stop();
  }, 60_000);
  afterAll(() => t?.close());

  /** Queries the database ran while `f` did. */
  async function queriesDuring(f: () => Promise<unknown>): Promise<number> {
    const spy = vi.spyOn(t.service.deps.database, "rows");
    try {
      await f();
      return spy.mock.calls.length;
    } finally {
      spy.mockRestore();
    }
  }

  it("are answered 401 without a query when repeated, and after N failures a minute the address gets 429 without one", async () => {
    // The start of a minute, so that the five failures share one window.
    t.clock.set(new Date(Math.ceil(t.clock.now().getTime() / 60_000) * 60_000 + 1_000));
    const bogus = "votp_bogus-0123456789abcdefghijklmnop";
    expect(await queriesDuring(async () => expect((await t.api("GET", "/challenges/ch_x", undefined, { key: bogus })).status).toBe(401))).toBe(1);
    for (let i = 0; i < 3; i++) {
      expect(await queriesDuring(async () => expect((await t.api("GET", "/challenges/ch_x", undefined, { key: bogus })).status).toBe(401))).toBe(0);
    }
    // A key created meanwhile works at once, from this address.
    const { key } = await createKey(t.service.deps.database, "made-after-bogus", { now: t.clock.now() });
    expect((await t.api("GET", "/challenges/ch_x", undefined, { key })).status).toBe(404);
    // The fifth failure, then the sixth is refused before any lookup, with when to retry.
    expect((await t.api("GET", "/challenges/ch_x", undefined, { key: "votp_another-bogus-0123456789abcdef" })).status).toBe(401);
    let refused!: Awaited<ReturnType<TestService["api"]>>;
    expect(await queriesDuring(async () => (refused = await t.api("GET", "/challenges/ch_x", undefined, { key: "votp_a-third-bogus-0123456789abcdef" })))).toBe(0);
    expect(refused.status).toBe(429);
    expect(refused.body.error).toMatchObject({ code: "rate_limited", limit: "auth_failures_per_ip_per_minute", retry_after_seconds: 59 });
    expect(refused.headers.get("retry-after")).toBe("59");
    // A key from API_KEYS still passes from that address; once the minute ends the others do too.
    expect((await t.api("GET", "/challenges/ch_x")).status).toBe(404);
    expect((await t.api("GET", "/challenges/ch_x", undefined, { key })).status).toBe(429);
    t.clock.advance(60_000);
    expect((await t.api("GET", "/challenges/ch_x", undefined, { key })).status).toBe(404);
  });

  it("remembers a miss by the key's SHA-256 for a minute: a row holding that key made elsewhere works after it", async () => {
    const token = "votp_restored-by-hand-0123456789abcdef";
    expect((await t.api("GET", "/challenges/ch_x", undefined, { key: token })).status).toBe(401);
    await t.service.deps.database.rows(
      sql`insert into api_keys (name, key_hash, created_at) values ('restored', ${hashKey(token)}, ${t.clock.now().toISOString()}::timestamptz)`,
    );
    expect((await t.api("GET", "/challenges/ch_x", undefined, { key: token })).status).toBe(401);
    t.clock.advance(61_000);
    expect((await t.api("GET", "/challenges/ch_x", undefined, { key: token })).status).toBe(404);
  });
});

/** A raw answer's X-Request-Id, headers and JSON body. */
function parse(text: string) {
  const [head, ...rest] = text.split("\r\n\r\n");
  const headers = Object.fromEntries(head!.split("\r\n").slice(1).map((l) => [l.slice(0, l.indexOf(":")).toLowerCase(), l.slice(l.indexOf(":") + 1).trim()]));
  let body: unknown;
  try {
    body = JSON.parse(rest.join("\r\n\r\n"));
  } catch {
    body = rest.join("\r\n\r\n");
  }
  return { status: Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1]), requestId: headers["x-request-id"], headers, body };
}

describe("requests refused before they reach the app", () => {
  let t: TestService;
  beforeAll(async () => {
    t = await startTestService({ db: "pglite", carrier: "twilio" });
  }, 60_000);
  afterAll(() => t?.close());

  const send = async (raw: string) => parse((await sendBytes(t.service.url, Buffer.from(raw, "latin1"), 5_000)).text);

  it.each([
    ["a Host with a space", "exa mple.com"],
    ["a Host with a path", "example.com/x"],
    ["a Host with credentials", "user:pw@example.com"],
    ["a Host with a port out of range", "example.com:99999"],
  ])("answers %s 400 in the error shape, with X-Request-Id", async (_, host) => {
    const res = await send(`GET /healthz HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`);
    expect(res).toMatchObject({ status: 400, requestId: expect.stringMatching(/./), body: { error: { code: "invalid_request" } } });
    expect(res.headers).toMatchObject({ "content-type": expect.stringMatching(/^application\/json/), "x-content-type-options": "nosniff", "cache-control": "no-store" });
  });

  it("answers HTTP/1.1 without a Host 400 in the error shape, and HTTP/1.0 without one 200", async () => {
    expect(await send("GET /healthz HTTP/1.1\r\nConnection: close\r\n\r\n")).toMatchObject({
      status: 400,
      requestId: expect.stringMatching(/./),
      body: { error: { code: "invalid_request", message: expect.stringMatching(/Host/) } },
    });
    expect((await send("GET /healthz HTTP/1.0\r\n\r\n")).status).toBe(200);
  });

  it("echoes a valid X-Request-Id on those answers, as on every other", async () => {
    expect((await send("GET /healthz HTTP/1.1\r\nHost: exa mple\r\nX-Request-Id: abc-123\r\n\r\n")).requestId).toBe("abc-123");
    expect((await send("GET \\healthz HTTP/1.1\r\nHost: localhost\r\nX-Request-Id: abc-124\r\n\r\n")).requestId).toBe("abc-124");
    expect((await send("GET /healthz HTTP/1.1\r\nX-Request-Id: abc-125\r\n\r\n")).requestId).toBe("abc-125");
    expect((await send("GET /healthz HTTP/1.1\r\nHost: localhost\r\nX-Request-Id: <script>\r\nBad Header\r\n\r\n")).requestId).toMatch(/^[0-9a-f-]{36}$/);
  });

  it("answers a head over 16 KB 431 in the error shape, with X-Request-Id", async () => {
    const res = await send(`GET /healthz HTTP/1.1\r\nHost: localhost\r\nX-Big: ${"a".repeat(20_000)}\r\n\r\n`);
    expect(res).toMatchObject({ status: 431, requestId: expect.stringMatching(/./), body: { error: { code: "headers_too_large" } } });
    expect(res.headers["x-content-type-options"]).toBe("nosniff");
  });

  it("answers bytes that are not HTTP 400 in the error shape, with X-Request-Id", async () => {
    for (const raw of ["GET /healthz HTTP/1.1\r\nHost: localhost\r\nBad Header\r\n\r\n", "\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03\r\n\r\n"]) {
      const res = await send(raw);
      expect(res).toMatchObject({ status: 400, requestId: expect.stringMatching(/./), body: { error: { code: "invalid_request" } } });
    }
  });
});
