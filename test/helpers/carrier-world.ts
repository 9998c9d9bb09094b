import { randomBytes, randomUUID } from "node:crypto";
import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import twilio from "twilio";
import type { Carrier, WebhookRequest } from "../../src/carriers/carrier.js";
import { createSignalWireCarrier } from "../../src/carriers/signalwire.js";
import { RestClient } from "../../src/carriers/signalwire-sdk.js";
import { createTwilioCarrier } from "../../src/carriers/twilio.js";
import { startSimulator, type Flavor, type Simulator, type SimulatorOptions } from "../../src/simulator/index.js";
import type { SayStep, VoiceScript } from "../../src/voice/script.types.js";

export const FROM = "+15005550006";

/** The account a simulator plays: for SignalWire, a signing key distinct from the API token. */
export interface Account {
  flavor: Flavor;
  accountSid: string;
  authToken: string;
  signingKey: string;
}

export function newAccount(flavor: Flavor): Account {
  if (flavor === "twilio") {
    const authToken = randomBytes(16).toString("hex");
    return { flavor, accountSid: `AC${randomBytes(16).toString("hex")}`, authToken, signingKey: authToken };
  }
  return { flavor, accountSid: randomUUID(), authToken: `PT${randomBytes(24).toString("hex")}`, signingKey: `PSK_${randomBytes(16).toString("hex")}` };
}

export function simulatorFor(account: Account, opts: Partial<SimulatorOptions> = {}): Promise<Simulator> {
  return startSimulator({
    flavor: account.flavor,
    accountSid: account.accountSid,
    authToken: account.authToken,
    ...(account.flavor === "signalwire" ? { signingKey: account.signingKey } : {}),
    host: "127.0.0.1",
    port: 0,
    ringMs: 0,
    ...opts,
  });
}

/** The real carrier adapter (real SDK) for an account, pointed at apiBaseUrl. */
export function carrierFor(
  account: Account,
  apiBaseUrl: string,
  opts: { timeoutMs?: number; authToken?: string; signingKey?: string; sdkHttpClient?: boolean } = {},
): Carrier {
  const timeoutMs = opts.timeoutMs ?? 5_000;
  const authToken = opts.authToken ?? account.authToken;
  if (account.flavor === "twilio") {
    return createTwilioCarrier({ accountSid: account.accountSid, authToken, from: FROM, apiBaseUrl, sdkHttpClient: opts.sdkHttpClient }, { timeoutMs });
  }
  return createSignalWireCarrier(
    {
      project: account.accountSid,
      token: authToken,
      space: "example.signalwire.com",
      from: FROM,
      signingKey: opts.signingKey ?? account.signingKey,
      apiBaseUrl,
    },
    { timeoutMs },
  );
}

export interface ServiceRequest {
  path: string;
  method: string;
  /** Query string parameters (what a GET webhook carries). */
  query: Record<string, string>;
  /** Exactly what the adapter's verifySignature was given. */
  webhook: WebhookRequest;
  verified: boolean;
}

export type Reply = VoiceScript | { status: number; body: string; contentType?: string };

export interface FakeService {
  url: string;
  requests: ServiceRequest[];
  /** What to answer on a path; status callbacks (/status…) get 204 unless told otherwise. */
  on(path: string, reply: (req: ServiceRequest) => Reply): void;
  close(): Promise<void>;
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

/** Form parameters with every value of a repeated key kept, as signature checks need. */
function formParams(body: string): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [k, v] of new URLSearchParams(body)) {
    const prev = out[k];
    out[k] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v];
  }
  return out;
}

/**
 * A tiny stand-in for voice-otp itself: it checks every webhook's signature with the
 * carrier adapter and answers with voice XML built by the adapter from plain scripts.
 */
export async function startFakeService(carrier: Carrier): Promise<FakeService> {
  const replies = new Map<string, (req: ServiceRequest) => Reply>();
  const requests: ServiceRequest[] = [];
  let base = "";
  const server = createServer((req, res) => {
    void readBody(req).then((body) => {
      const rawTarget = req.url ?? "/";
      const url = new URL(rawTarget, base);
      const headers: Record<string, string | undefined> = {};
      for (const [k, v] of Object.entries(req.headers)) headers[k] = Array.isArray(v) ? v.join(", ") : v;
      const webhook: WebhookRequest = {
        // The public URL exactly as the carrier requested it, not re-serialised.
        url: `${base}${rawTarget}`,
        params: req.method === "POST" ? formParams(body) : {},
        headers,
      };
      const record: ServiceRequest = {
        path: url.pathname,
        method: req.method ?? "GET",
        query: Object.fromEntries(url.searchParams),
        webhook,
        verified: carrier.verifySignature(webhook),
      };
      requests.push(record);
      if (!record.verified) return void res.writeHead(403).end("bad signature");
      const handler = replies.get(record.path);
      const reply: Reply | undefined = handler
        ? handler(record)
        : record.path.startsWith("/status")
          ? { status: 204, body: "" }
          : undefined;
      if (!reply) return void res.writeHead(404).end("no such route");
      if (Array.isArray(reply)) {
        return void res.writeHead(200, { "Content-Type": "text/xml" }).end(carrier.voiceResponse(reply));
      }
      res.writeHead(reply.status, { "Content-Type": reply.contentType ?? "text/plain" }).end(reply.body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url: base,
    requests,
    on: (path, reply) => void replies.set(path, reply),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** A free port with nothing listening on it. */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Fresh, well-formed E.164 numbers. */
export function numberSource(prefix = "+1415555"): () => string {
  let i = 0;
  return () => `${prefix}${String(1000 + i++).padStart(4, "0")}`;
}

export function say(text: string): SayStep {
  return { kind: "say", parts: [{ text }], language: "en-US" };
}

/** The carrier's own SDK client, unwrapped, pointed at apiBaseUrl: to see what the SDK itself does. */
export interface SdkCalls {
  create(params: {
    to: string;
    from: string;
    url: string;
    method?: string;
    statusCallback?: string;
    statusCallbackMethod?: string;
    statusCallbackEvent?: string[];
    machineDetection?: string;
  }): Promise<{ sid: string; status: string; to: string; from: string }>;
}

export function sdkClient(account: Account, apiBaseUrl: string, authToken = account.authToken): SdkCalls {
  if (account.flavor === "twilio") {
    const client = twilio(account.accountSid, authToken, { autoRetry: false });
    client.api.baseUrl = apiBaseUrl;
    client.region = undefined;
    client.edge = undefined;
    return client.calls as unknown as SdkCalls;
  }
  const client = RestClient(account.accountSid, authToken, { signalwireSpaceUrl: "example.signalwire.com" });
  (client.api as unknown as { baseUrl: string }).baseUrl = apiBaseUrl;
  return client.calls as unknown as SdkCalls;
}
