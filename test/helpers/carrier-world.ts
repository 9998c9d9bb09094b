import { createPrivateKey, createPublicKey, generateKeyPairSync, randomBytes, randomUUID } from "node:crypto";
import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import Telnyx from "telnyx";
import { TelnyxWebhook } from "telnyx/lib/webhooks";
import twilio from "twilio";
import type { Carrier, WebhookRequest } from "../../src/carriers/carrier.js";
import { connectSignalWire } from "../../src/carriers/signalwire/client.js";
import { RestClient } from "../../src/carriers/signalwire/sdk.js";
import { connectTelnyx } from "../../src/carriers/telnyx/client.js";
import { connectTwilio } from "../../src/carriers/twilio/client.js";
import { startSimulator, type Flavor, type Simulator, type SimulatorOptions } from "../../src/simulator/index.js";
import type { SayStep, VoiceScript } from "../../src/voice/script.types.js";

export const FROM = "+15005550006";

/**
 * The account a simulator plays. SignalWire's signing key is distinct from its API
 * token; Telnyx's is an Ed25519 private key (PEM), whose public half the service gets.
 */
export interface Account {
  flavor: Flavor;
  accountSid: string;
  authToken: string;
  signingKey: string;
  /** Telnyx: the TeXML application calls are placed on. */
  applicationId?: string;
}

export function newAccount(flavor: Flavor): Account {
  if (flavor === "twilio") {
    const authToken = randomBytes(16).toString("hex");
    return { flavor, accountSid: `AC${randomBytes(16).toString("hex")}`, authToken, signingKey: authToken };
  }
  if (flavor === "telnyx") {
    const { privateKey } = generateKeyPairSync("ed25519");
    return {
      flavor,
      accountSid: randomUUID(),
      authToken: `KEY${randomBytes(24).toString("hex").toUpperCase()}`,
      signingKey: privateKey.export({ format: "pem", type: "pkcs8" }).toString(),
      applicationId: String(BigInt(`0x${randomBytes(8).toString("hex")}`) >> 1n),
    };
  }
  return { flavor, accountSid: randomUUID(), authToken: `PT${randomBytes(24).toString("hex")}`, signingKey: `PSK_${randomBytes(16).toString("hex")}` };
}

/** The base64 of the 32 raw bytes of the public half of an Ed25519 private key (PEM): TELNYX_PUBLIC_KEY. */
export function ed25519PublicKeyOf(privatePem: string): string {
  return createPublicKey(createPrivateKey(privatePem)).export({ format: "der", type: "spki" }).subarray(-32).toString("base64");
}

export function simulatorFor(account: Account, opts: Partial<SimulatorOptions> = {}): Promise<Simulator> {
  return startSimulator({
    flavor: account.flavor,
    accountSid: account.accountSid,
    authToken: account.authToken,
    ...(account.flavor !== "twilio" ? { signingKey: account.signingKey } : {}),
    ...(account.applicationId ? { applicationId: account.applicationId } : {}),
    host: "127.0.0.1",
    port: 0,
    ringMs: 0,
    ...opts,
  });
}

/** The real carrier adapter (real SDK) for an account, pointed at the simulator (or anything) at apiBaseUrl. */
export function carrierFor(
  account: Account,
  apiBaseUrl: string,
  opts: { timeoutMs?: number; authToken?: string; signingKey?: string; publicKey?: string; sdkHttpClient?: boolean; nowSeconds?: () => number; from?: string } = {},
): Carrier {
  const timeoutMs = opts.timeoutMs ?? 5_000;
  const authToken = opts.authToken ?? account.authToken;
  const from = opts.from ?? FROM;
  if (account.flavor === "twilio") {
    return connectTwilio({ accountSid: account.accountSid, authToken, from, apiBaseUrl, sdkHttpClient: opts.sdkHttpClient }, { timeoutMs });
  }
  if (account.flavor === "telnyx") {
    return connectTelnyx(
      {
        apiKey: authToken,
        publicKey: opts.publicKey ?? ed25519PublicKeyOf(opts.signingKey ?? account.signingKey),
        applicationId: account.applicationId!,
        from,
        apiBaseUrl: `${apiBaseUrl}/v2`,
      },
      { timeoutMs, nowSeconds: opts.nowSeconds },
    );
  }
  return connectSignalWire(
    {
      project: account.accountSid,
      token: authToken,
      space: "example.signalwire.com",
      from,
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
  /** Exactly what the adapter's verifyWebhook was given. */
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
        method: req.method ?? "GET",
        rawBody: body,
        params: req.method === "POST" ? formParams(body) : {},
        headers,
      };
      const record: ServiceRequest = {
        path: url.pathname,
        method: req.method ?? "GET",
        query: Object.fromEntries(url.searchParams),
        webhook,
        verified: carrier.verifyWebhook(webhook),
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
        const document = carrier.render(reply);
        return void res.writeHead(200, { "Content-Type": document.contentType }).end(document.body);
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

/**
 * The carrier SDK's own verdict on a webhook's signature, independent of the adapter's
 * code path: twilio's validateRequest, SignalWire's, and for Telnyx its SDK's Ed25519
 * verifier (WebCrypto, where the service uses node:crypto; it also refuses a stale timestamp).
 */
export async function sdkJudge(account: Account, webhook: WebhookRequest): Promise<boolean> {
  const h = webhook.headers;
  if (account.flavor === "twilio") return twilio.validateRequest(account.authToken, h["x-twilio-signature"] ?? "", webhook.url, webhook.params);
  if (account.flavor === "signalwire") return RestClient.validateRequest(account.signingKey, h["x-signalwire-signature"] ?? "", webhook.url, webhook.params);
  const headers = Object.fromEntries(Object.entries(h).filter((e): e is [string, string] => typeof e[1] === "string"));
  return new TelnyxWebhook(ed25519PublicKeyOf(account.signingKey)).verify(webhook.rawBody, headers).then(
    () => true,
    () => false,
  );
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

/** The carrier's own SDK client, unwrapped, pointed at apiBaseUrl: to see what the SDK itself does (Twilio's form of create-call). */
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
  if (account.flavor === "telnyx") {
    // The telnyx SDK's create-call for a TeXML application, with the same request in TeXML's words.
    const client = new Telnyx({ apiKey: authToken, baseURL: `${apiBaseUrl}/v2`, maxRetries: 0, logLevel: "off" });
    return {
      async create(p) {
        const body = {
          To: p.to,
          From: p.from,
          Url: p.url,
          ...(p.method ? { Method: p.method as "GET" | "POST" } : {}),
          ...(p.statusCallback ? { StatusCallback: p.statusCallback } : {}),
          ...(p.statusCallbackMethod ? { StatusCallbackMethod: p.statusCallbackMethod } : {}),
          ...(p.statusCallbackEvent ? { StatusCallbackEvent: p.statusCallbackEvent.join(" ") } : {}),
          ...(p.machineDetection ? { MachineDetection: p.machineDetection } : {}),
        };
        const created = await client.texml.calls.create(account.applicationId!, body);
        return { sid: created.call_sid, status: created.status, to: created.to, from: created.from };
      },
    };
  }
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
