import { execFileSync } from "node:child_process";
import { lookup } from "node:dns/promises";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer, request as httpRequest, type IncomingHttpHeaders, type Server } from "node:http";
import { createServer as createTlsServer, request as httpsRequest } from "node:https";
import type { AddressInfo } from "node:net";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import type { TLSSocket } from "node:tls";
import { afterEach, describe, expect, it } from "vitest";
import { pinnedLookup, postEvent } from "../src/events/post.js";
import { signatureHeaders, newMessageId, newSecret } from "../src/events/signature.js";
import { checkTargetUrl, refusedAddressKind } from "../src/events/target.js";

interface Received {
  method?: string;
  url?: string;
  headers: IncomingHttpHeaders;
  body: string;
}

/** A receiver on 127.0.0.1 that answers with `answer`, counting connections. */
async function receiver(answer: (res: import("node:http").ServerResponse) => void) {
  const received: Received[] = [];
  let connections = 0;
  const server = createServer((req, res) => {
    let body = "";
    req.setEncoding("utf8");
    req.on("data", (chunk: string) => (body += chunk));
    req.on("end", () => {
      received.push({ method: req.method, url: req.url, headers: req.headers, body });
      answer(res);
    });
  });
  server.on("connection", () => connections++);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  servers.push(server);
  const port = (server.address() as AddressInfo).port;
  return { url: `http://127.0.0.1:${port}/hooks/voice?token=t`, port, received, connections: () => connections };
}

const servers: Server[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise((resolve) => s.close(resolve));
  }
});

// Needs a name that DNS (here /etc/hosts) resolves to this machine: this host's own
// name usually does, to 127.0.x.x or, in a container, a private address.
const own = hostname();
const ownAddresses = await lookup(own, { all: true }).catch(() => []);
const ownIsLocal = ownAddresses.length > 0 && ownAddresses.every((a) => refusedAddressKind(a.address) !== undefined);

const open = { timeoutMs: 2000, allowPrivate: true, requireHttps: false };
const body = JSON.stringify({ type: "challenge.verified", data: { id: "ch_1" } });

describe("posting an event webhook", () => {
  it("POSTs the body as JSON with the signature headers, and a 2xx is delivered", async () => {
    const r = await receiver((res) => res.writeHead(204).end());
    const headers = signatureHeaders(newMessageId(), new Date(), body, [newSecret()]);
    const result = await postEvent(r.url, body, headers, open);
    expect(result).toEqual({ ok: true, status: 204, retryable: false, gone: false });
    expect(r.received).toHaveLength(1);
    const got = r.received[0]!;
    expect(got.method).toBe("POST");
    expect(got.url).toBe("/hooks/voice?token=t");
    expect(got.body).toBe(body);
    expect(got.headers["content-type"]).toBe("application/json");
    for (const [name, value] of Object.entries(headers)) expect(got.headers[name]).toBe(value);
  });

  it("takes 410 Gone as the receiver asking us to stop", async () => {
    const r = await receiver((res) => res.writeHead(410).end("gone"));
    const result = await postEvent(r.url, body, {}, open);
    expect(result).toMatchObject({ ok: false, status: 410, gone: true, retryable: false });
    expect(result.error).toMatch(/410 Gone.*disable this endpoint/);
  });

  it("retries later after a 500, and after a redirect, which it does not follow", async () => {
    const failing = await receiver((res) => res.writeHead(500).end("oops"));
    expect(await postEvent(failing.url, body, {}, open)).toMatchObject({ ok: false, status: 500, retryable: true, gone: false });
    const moved = await receiver((res) => res.writeHead(301, { location: "http://127.0.0.1:1/elsewhere" }).end());
    const result = await postEvent(moved.url, body, {}, open);
    expect(result).toMatchObject({ ok: false, status: 301, retryable: true, gone: false });
    expect(result.error).toMatch(/do not follow redirects/);
    expect(moved.received).toHaveLength(1);
  });

  it("gives up on a receiver that never answers once timeoutMs pass, to try again later", async () => {
    const r = await receiver(() => {});
    const started = Date.now();
    const result = await postEvent(r.url, body, {}, { ...open, timeoutMs: 300 });
    expect(Date.now() - started).toBeLessThan(1500);
    expect(result).toMatchObject({ ok: false, retryable: true, gone: false });
    expect(result.status).toBeUndefined();
    expect(result.error).toMatch(/did not answer within 300 ms/);
  });

  it("reads only the start of a large answer", async () => {
    const r = await receiver((res) => {
      res.writeHead(200);
      res.write(Buffer.alloc(64 * 1024, 97));
      // and never ends it
    });
    const started = Date.now();
    expect(await postEvent(r.url, body, {}, { ...open, timeoutMs: 1000 })).toMatchObject({ ok: true, status: 200 });
    expect(Date.now() - started).toBeLessThan(900);
  });

  it("retries later when nothing listens, naming the host and not the path", async () => {
    const r = await receiver((res) => res.end());
    const url = r.url;
    await new Promise((resolve) => servers.pop()!.close(resolve));
    const result = await postEvent(url, body, {}, open);
    expect(result).toMatchObject({ ok: false, retryable: true, gone: false });
    expect(result.error).toMatch(/could not reach 127\.0\.0\.1:\d+: ECONNREFUSED/);
    expect(result.error).not.toContain("token");
  });

  it("refuses headers Node would not send, without retrying", async () => {
    const r = await receiver((res) => res.end());
    const result = await postEvent(r.url, body, { "x-bad": "a\r\nb" }, open);
    expect(result).toMatchObject({ ok: false, retryable: false });
    expect(r.connections()).toBe(0);
  });
});

describe("webhook targets", () => {
  const strict = { timeoutMs: 2000, allowPrivate: false, requireHttps: false };

  it("refuses a loopback address before connecting", async () => {
    const r = await receiver((res) => res.end());
    const result = await postEvent(r.url, body, {}, strict);
    expect(result).toMatchObject({ ok: false, retryable: false, gone: false });
    expect(result.error).toMatch(/127\.0\.0\.1, a loopback address.*ALLOW_PRIVATE_WEBHOOKS=true/);
    expect(r.connections()).toBe(0);
  });

  it("refuses localhost before connecting", async () => {
    const r = await receiver((res) => res.end());
    const result = await postEvent(`http://localhost:${r.port}/`, body, {}, strict);
    expect(result).toMatchObject({ ok: false, retryable: false });
    expect(result.error).toMatch(/localhost, a loopback name/);
    expect(r.connections()).toBe(0);
  });

  it.skipIf(!ownIsLocal)(`refuses a name that resolves to a local address (${own}) before connecting`, async () => {
    const r = await receiver((res) => res.end());
    expect(checkTargetUrl(`http://${own}:${r.port}/`, strict)).toBeUndefined();
    const result = await postEvent(`http://${own}:${r.port}/`, body, {}, strict);
    expect(result).toMatchObject({ ok: false, retryable: false });
    expect(result.error).toContain(`${own} resolves to ${ownAddresses[0]!.address}`);
    expect(r.connections()).toBe(0);
  });

  it("refuses http:// where https is required", async () => {
    const r = await receiver((res) => res.end());
    const result = await postEvent(r.url, body, {}, { ...open, requireHttps: true });
    expect(result).toMatchObject({ ok: false, retryable: false });
    expect(result.error).toMatch(/must be https:\/\//);
    expect(r.connections()).toBe(0);
  });

  it("says why a URL is refused when it is configured", () => {
    const policy = { allowPrivate: false, requireHttps: true };
    const reasons: Array<[string, RegExp | undefined]> = [
      ["https://hooks.example.com/voice", undefined],
      ["hooks.example.com/voice", /not an absolute URL/],
      ["ftp://hooks.example.com/", /ftp scheme/],
      ["http://hooks.example.com/", /must be https/],
      ["https://user:pw@hooks.example.com/", /credentials/],
      ["https://10.1.2.3/", /a private address/],
      ["https://172.31.255.1/", /a private address/],
      ["https://192.168.1.1/", /a private address/],
      ["https://100.64.0.1/", /carrier-grade NAT/],
      ["https://169.254.169.254/latest/meta-data", /metadata/],
      ["https://[fd00:ec2::254]/", /metadata/],
      ["https://[fe80::1]/", /link-local/],
      ["https://[fc00::1]/", /a private address/],
      ["https://[::1]/", /loopback/],
      ["https://[::ffff:10.0.0.1]/", /a private address/],
      ["https://[64:ff9b::a9fe:a9fe]/", /metadata/],
      ["https://0.0.0.0/", /unspecified/],
      ["https://[::]/", /unspecified/],
      ["https://224.0.0.1/", /multicast/],
      ["https://255.255.255.255/", /broadcast/],
      // Numeric spellings that the URL parser turns into 127.0.0.1.
      ["https://2130706433/", /loopback/],
      ["https://0x7f.1/", /loopback/],
      ["https://127.1/", /loopback/],
      ["https://8.8.8.8/", undefined],
      ["https://[2606:4700::1111]/", undefined],
      ["https://[::ffff:8.8.8.8]/", undefined],
    ];
    for (const [url, reason] of reasons) {
      const got = checkTargetUrl(url, policy);
      if (reason) expect(got, url).toMatch(reason);
      else expect(got, url).toBeUndefined();
    }
    expect(checkTargetUrl("http://127.0.0.1:8080/", { allowPrivate: true, requireHttps: false })).toBeUndefined();
    expect(checkTargetUrl("http://u:p@127.0.0.1/", { allowPrivate: true, requireHttps: false })).toMatch(/credentials/);
  });

  it("connects to the checked address while the Host header keeps the URL's name", async () => {
    const r = await receiver((res) => res.end());
    const url = `http://webhook.invalid:${r.port}/x`;
    const status = await new Promise<number>((resolve, reject) => {
      const lookupFn = pinnedLookup([{ address: "127.0.0.1", family: 4 }]);
      httpRequest(url, { method: "POST", lookup: lookupFn, agent: false }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      })
        .on("error", reject)
        .end("{}");
    });
    expect(status).toBe(200);
    expect(r.received[0]!.headers.host).toBe(`webhook.invalid:${r.port}`);
  });

  const openssl = (() => {
    try {
      execFileSync("openssl", ["version"], { stdio: "ignore" });
      return true;
    } catch {
      return false;
    }
  })();
  it.skipIf(!openssl)("keeps the URL's name for TLS (SNI and the certificate check) when connecting to the checked address", async () => {
    const dir = mkdtempSync(join(tmpdir(), "event-post-"));
    try {
      const [key, cert] = [join(dir, "key.pem"), join(dir, "cert.pem")];
      execFileSync("openssl", ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", key, "-out", cert, "-days", "1", "-subj", "/CN=webhook.test", "-addext", "subjectAltName=DNS:webhook.test"], { stdio: "ignore" });
      const names: Array<string | false | null> = [];
      const server = createTlsServer({ key: readFileSync(key), cert: readFileSync(cert) }, (req, res) => {
        names.push((req.socket as TLSSocket).servername);
        res.end();
      });
      await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
      servers.push(server);
      const port = (server.address() as AddressInfo).port;
      const status = await new Promise<number>((resolve, reject) => {
        const lookupFn = pinnedLookup([{ address: "127.0.0.1", family: 4 }]);
        httpsRequest(`https://webhook.test:${port}/`, { method: "POST", lookup: lookupFn, agent: false, ca: readFileSync(cert) }, (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        })
          .on("error", reject)
          .end("{}");
      });
      expect(status).toBe(200);
      expect(names).toEqual(["webhook.test"]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
