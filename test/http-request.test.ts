import { createServer, type Server } from "node:http";
import { afterEach, describe, expect, it } from "vitest";
import { keptAliveAgents, sendRequest } from "../src/net/http-request.js";

/**
 * The kept-alive connections to a carrier's API: a connection the server is about to
 * close must not carry the next create-call (it would fail with ECONNRESET, and a
 * create-call is never retried).
 */
describe("kept-alive connections", () => {
  let server: Server | undefined;
  afterEach(() => new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve())));

  async function serverClosingIdleAfter(ms: number) {
    const s = createServer((req, res) => {
      req.resume();
      req.on("end", () => res.end("ok"));
    });
    // Node's server announces it as Keep-Alive: timeout=N (seconds).
    s.keepAliveTimeout = ms;
    let connections = 0;
    s.on("connection", () => connections++);
    await new Promise<void>((resolve) => s.listen(0, "127.0.0.1", resolve));
    server = s;
    const url = new URL(`http://127.0.0.1:${(s.address() as { port: number }).port}/`);
    return { url, connections: () => connections };
  }

  const send = (url: URL, agents: ReturnType<typeof keptAliveAgents>) =>
    sendRequest(url, { method: "POST", headers: {}, body: "x", agents, timeoutMs: 5000, timeoutError: () => new Error("timeout") });

  it("reuses a connection while it is fresh", async () => {
    const s = await serverClosingIdleAfter(5000);
    const agents = keptAliveAgents({ maxSockets: 4 });
    await send(s.url, agents);
    await send(s.url, agents);
    expect(s.connections()).toBe(1);
  });

  it("closes an idle connection a second before the server said it would", async () => {
    const s = await serverClosingIdleAfter(2000);
    const agents = keptAliveAgents({ maxSockets: 4 });
    expect((await send(s.url, agents)).status).toBe(200);
    await new Promise((r) => setTimeout(r, 1500));
    // The server would still keep it for half a second; this side has let it go already.
    expect(Object.values(agents.http.freeSockets).flat()).toHaveLength(0);
    expect((await send(s.url, agents)).status).toBe(200);
    expect(s.connections()).toBe(2);
  });
});
