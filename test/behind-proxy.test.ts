import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { forwardedOrigin } from "../src/http/public-url.js";
import { startTestService, type CarrierKind, type TestService } from "./helpers/service.js";

/**
 * Behind a proxy (TRUST_PROXY): the carrier signs the URL it requested, which the proxy
 * reports in RFC 7239 `Forwarded` or in X-Forwarded-Proto/-Host/-Port. A signature over
 * that URL, or over PUBLIC_BASE_URL + the path, is accepted; headers that do not make a
 * URL are ignored, never a 500. Signatures are the simulator's, as the carrier makes them.
 */
const BASE = "https://otp.example.com";
const PATH = "/call-status?c=ch_AAAAAAAAAAAAAAAAAAAAAA";
const PARAMS = { CallSid: "CA0123456789abcdef0123456789abcdef", CallStatus: "completed" };

// Twilio and SignalWire sign the URL (Telnyx signs the body alone: nothing to see here).
describe.each(["twilio", "signalwire"] as CarrierKind[])("webhook signatures behind a proxy, through %s", (carrier) => {
  let t: TestService;
  let plain: TestService;
  beforeAll(async () => {
    [t, plain] = await Promise.all([
      startTestService({ db: "pglite", carrier, env: { TRUST_PROXY: "true", PUBLIC_BASE_URL: BASE } }),
      startTestService({ db: "pglite", carrier, env: { PUBLIC_BASE_URL: BASE } }),
    ]);
  }, 60_000);
  afterAll(async () => {
    await Promise.all([t?.close(), plain?.close()]);
  });

  /** A status webhook signed over `signedUrl`, sent with these proxy headers: 204 accepted, 403 refused. */
  async function post(s: TestService, signedUrl: string, proxyHeaders: Record<string, string>) {
    const res = await fetch(`${s.service.url}${PATH}`, {
      method: "POST",
      headers: { ...s.simulator.sign(signedUrl, PARAMS), ...proxyHeaders, "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams(PARAMS).toString(),
    });
    await res.text();
    return res.status;
  }

  it("checks against the proto= and host= of the nearest (last) Forwarded element", async () => {
    expect(await post(t, `https://edge.example${PATH}`, { Forwarded: "for=192.0.2.1;proto=https;host=edge.example" })).toBe(204);
    expect(await post(t, `https://edge.example:8443${PATH}`, { Forwarded: 'for="[2001:db8::1]:4711";host="edge.example:8443";proto=https' })).toBe(204);
    // A client's element first, the trusted proxy's appended after it: the proxy's is believed.
    const chain = { Forwarded: "proto=http;host=evil.example, for=192.0.2.1;proto=https;host=edge.example" };
    expect(await post(t, `https://edge.example${PATH}`, chain)).toBe(204);
    expect(await post(t, `http://evil.example${PATH}`, chain)).toBe(403);
    // Forwarded wins over X-Forwarded-*.
    const both = { Forwarded: "proto=https;host=edge.example", "X-Forwarded-Proto": "http", "X-Forwarded-Host": "other.example" };
    expect(await post(t, `https://edge.example${PATH}`, both)).toBe(204);
    expect(await post(t, `http://other.example${PATH}`, both)).toBe(403);
  });

  it("adds X-Forwarded-Port to a forwarded host that carries none, unless it is the scheme's default", async () => {
    const xf = { "X-Forwarded-Proto": "https", "X-Forwarded-Host": "edge.example" };
    expect(await post(t, `https://edge.example:8443${PATH}`, { ...xf, "X-Forwarded-Port": "8443" })).toBe(204);
    // (Not asserted: a signature over the URL without the port, which the SDKs' validators also try.)
    expect(await post(t, `https://edge.example${PATH}`, { ...xf, "X-Forwarded-Port": "443" })).toBe(204);
    // The host's own port stands.
    expect(await post(t, `https://edge.example:9000${PATH}`, { ...xf, "X-Forwarded-Host": "edge.example:9000", "X-Forwarded-Port": "8443" })).toBe(204);
  });

  it("accepts a signature over PUBLIC_BASE_URL as well as over the forwarded URL", async () => {
    const xf = { "X-Forwarded-Proto": "https", "X-Forwarded-Host": "internal.example" };
    expect(await post(t, `${BASE}${PATH}`, xf)).toBe(204);
    expect(await post(t, `https://internal.example${PATH}`, xf)).toBe(204);
    expect(await post(t, `${BASE}${PATH}`, { Forwarded: "proto=https;host=internal.example" })).toBe(204);
    // Neither: refused.
    expect(await post(t, `https://elsewhere.example${PATH}`, xf)).toBe(403);
  });

  it("ignores malformed forwarding headers and falls back, never a 500", async () => {
    const malformed: Array<Record<string, string>> = [
      { Forwarded: 'proto=https;host="unterminated' },
      { Forwarded: "proto=https;host=a b" },
      { Forwarded: "proto=ftp;host=edge.example" },
      { Forwarded: "proto=https;host=edge.example:99999" },
      { Forwarded: "proto=https;proto=http;host=edge.example" },
      { Forwarded: "proto=https;host=edge.example," },
      { Forwarded: "=;,;=" },
      { Forwarded: "host=h\u00e9st;proto=https" },
      { Forwarded: "host=[::1;proto=https" },
      { Forwarded: `proto=https;host=${"x".repeat(5000)}` },
      { Forwarded: "proto=constructor;host=edge.example" },
      { "X-Forwarded-Proto": "https", "X-Forwarded-Host": "edge.example", "X-Forwarded-Port": "99999" },
      { "X-Forwarded-Proto": "https", "X-Forwarded-Host": "edge.example", "X-Forwarded-Port": "-1" },
      { "X-Forwarded-Proto": "https", "X-Forwarded-Host": "edge.example", "X-Forwarded-Port": "80a" },
      { "X-Forwarded-Proto": "https", "X-Forwarded-Host": "edge.example", "X-Forwarded-Port": "0" },
      { "X-Forwarded-Proto": "__proto__", "X-Forwarded-Host": "edge.example" },
    ];
    for (const headers of malformed) {
      // The configured URL still works…
      expect(await post(t, `${BASE}${PATH}`, headers), JSON.stringify(headers)).toBe(204);
      // …and nothing else is believed from a header that did not parse.
      expect(await post(t, `https://edge.example:8443${PATH}`, headers), JSON.stringify(headers)).toBe(403);
    }
    // A bad X-Forwarded-Port is dropped, not the whole forwarded URL.
    const xf = { "X-Forwarded-Proto": "https", "X-Forwarded-Host": "edge.example", "X-Forwarded-Port": "99999" };
    expect(await post(t, `https://edge.example${PATH}`, xf)).toBe(204);
  });

  it("believes no forwarding header without TRUST_PROXY", async () => {
    expect(await post(plain, `https://edge.example${PATH}`, { Forwarded: "proto=https;host=edge.example" })).toBe(403);
    expect(await post(plain, `https://edge.example:8443${PATH}`, { "X-Forwarded-Proto": "https", "X-Forwarded-Host": "edge.example", "X-Forwarded-Port": "8443" })).toBe(403);
    expect(await post(plain, `${BASE}${PATH}`, { Forwarded: "proto=https;host=edge.example" })).toBe(204);
  });
});

describe("forwardedOrigin", () => {
  const from = (h: Record<string, string>) => forwardedOrigin((name) => h[name]);
  it("reads Forwarded's last element, then X-Forwarded-*, then Host", () => {
    expect(from({ forwarded: "proto=HTTPS;host=a.example", host: "internal:3000" })).toBe("https://a.example");
    expect(from({ forwarded: 'for=x, proto=https;host="[::1]:8443"' })).toBe("https://[::1]:8443");
    expect(from({ forwarded: "for=192.0.2.1;proto=https", host: "a.example", "x-forwarded-port": "8443" })).toBe("https://a.example:8443");
    expect(from({ "x-forwarded-proto": "http, https", "x-forwarded-host": "a.example, b.example", "x-forwarded-port": "80" })).toBe("http://a.example");
    expect(from({ forwarded: "proto=https;host=a.example", "x-forwarded-port": "8443" })).toBe("https://a.example");
    expect(from({ forwarded: 'proto=https;host="a\\.example"' })).toBe("https://a.example");
    expect(from({ host: "a.example" })).toBeUndefined();
    expect(from({ forwarded: "proto=https;;host=a.example", "x-forwarded-proto": "https", host: "b" })).toBe("https://b");
  });
});
