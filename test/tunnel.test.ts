import { createServer, request } from "node:http";
import type { AddressInfo } from "node:net";
import { describe, expect, it } from "vitest";
import type { Tunnel, TunnelRequest } from "../src/tunnel.js";
import { codeHeard, startTestService } from "./helpers/service.js";

/**
 * The ngrok library cannot reach its service from here. In its place at the boundary:
 * a local forwarder that does what the tunnel does (a public origin of its own,
 * the raw request passed through), so the whole flow runs through it.
 */
async function localTunnel(req: TunnelRequest): Promise<Tunnel> {
  const server = createServer((inbound, outbound) => {
    const forwarded = request(
      { host: "127.0.0.1", port: req.port, method: inbound.method, path: inbound.url, headers: inbound.headers },
      (res) => {
        outbound.writeHead(res.statusCode ?? 502, res.headers);
        res.pipe(outbound);
      },
    );
    forwarded.on("error", () => outbound.writeHead(502).end());
    inbound.pipe(forwarded);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  let closed = false;
  return {
    url: `http://127.0.0.1:${port}`,
    close: async () => {
      closed = true;
      await new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
    },
    get closed() {
      return closed;
    },
  } as Tunnel & { closed: boolean };
}

describe("ngrok tunnel", () => {
  it("opens a tunnel when NGROK_AUTHTOKEN is set and has carriers call its URL", async () => {
    const opened: Array<TunnelRequest & { tunnel: Tunnel & { closed?: boolean } }> = [];
    const t = await startTestService({
      db: "pglite",
      carrier: "twilio",
      env: { NGROK_AUTHTOKEN: "2abcDEFtoken", NGROK_DOMAIN: "otp-dev.ngrok.app", PUBLIC_BASE_URL: "https://ignored.example.com" },
      openTunnel: async (req) => {
        const tunnel = await localTunnel(req);
        opened.push({ ...req, tunnel });
        return tunnel;
      },
    });
    try {
      expect(opened).toHaveLength(1);
      expect(opened[0]).toMatchObject({ port: t.service.port, authtoken: "2abcDEFtoken", domain: "otp-dev.ngrok.app" });
      const url = opened[0]!.tunnel.url;
      expect(t.service.deps.publicBaseUrl()).toBe(url);
      expect(t.logLines.some((l) => l.includes("ngrok tunnel open") && l.includes(url))).toBe(true);
      expect(t.logLines.join("\n")).not.toContain("2abcDEFtoken");

      const res = await t.api("POST", "/request-auth", { number: "+12125550160" });
      const call = await t.simulator.waitForCall({ to: "+12125550160" });
      expect(call.url).toBe(`${url}/call-2fa?c=${res.body.id}`);
      expect(call.webhookErrors).toEqual([]);
      const ok = await t.api("POST", "/validate-auth", { id: res.body.id, auth_code: codeHeard(call.heard) });
      expect(ok.status).toBe(200);
    } finally {
      await t.close();
    }
    expect(opened[0]!.tunnel.closed).toBe(true);
  });

  it("fails startup with a clear message when the tunnel cannot open", async () => {
    await expect(
      startTestService({
        db: "pglite",
        carrier: "twilio",
        env: { NGROK_AUTHTOKEN: "bad" },
        openTunnel: async () => {
          throw new Error("authentication failed: The authtoken you specified is invalid");
        },
      }),
    ).rejects.toThrow(/^cannot open the ngrok tunnel \(NGROK_AUTHTOKEN\): authentication failed/);
  });
});
