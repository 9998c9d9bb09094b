import { loadConfig } from "../../src/config/index.js";
import { createLogger } from "../../src/logger.js";
import { manualClock } from "./clock.js";
import { startService, type RunningService } from "../../src/service.js";
import type { TunnelOpener } from "../../src/tunnel.js";
import type { Flavor, Simulator } from "../../src/simulator/index.js";
import { newAccount, simulatorFor } from "./carrier-world.js";
import { createPostgresDatabase, freshPglite, type DbKind } from "./databases.js";

export const API_KEY = "test-key-0123456789abcdef";
export const SECRET_KEY = "test-secret-0123456789abcdef0123456789";

export interface TestService {
  service: RunningService;
  /** The service's log lines, as JSON text. */
  logLines: string[];
  simulator: Simulator;
  carrierEnv: Record<string, string>;
  databaseUrl?: string;
  clock: ReturnType<typeof manualClock>;
  /** Calls the service over real HTTP. */
  api(method: string, path: string, body?: unknown, opts?: ApiOptions): Promise<ApiResponse>;
  close(): Promise<void>;
}

export interface ApiOptions {
  key?: string | null;
  form?: boolean;
  headers?: Record<string, string>;
}

export interface ApiResponse {
  status: number;
  body: any;
  text: string;
  headers: Headers;
}

/** Every carrier the simulator plays: the service talks to it through that carrier's real SDK. */
export type CarrierKind = Flavor;
export const CARRIER_KINDS: CarrierKind[] = ["twilio", "signalwire", "telnyx"];

/**
 * The real service on a free port, on a real database, placing calls through a
 * real carrier SDK to the simulator playing that carrier.
 */
export async function startTestService(opts: {
  db: DbKind;
  carrier: CarrierKind;
  env?: Record<string, string>;
  /** Stands in for the ngrok library when NGROK_AUTHTOKEN is set. */
  openTunnel?: TunnelOpener;
  /** A second instance on the first one's database and simulator (PostgreSQL only). */
  shareWith?: TestService;
}): Promise<TestService> {
  const logLines: string[] = [];
  const clock = manualClock(opts.shareWith ? opts.shareWith.clock.now() : new Date());
  let simulator: Simulator;
  let carrierEnv: Record<string, string>;
  let databaseUrl: string | undefined;
  let dropDatabase: (() => Promise<void>) | undefined;
  if (opts.shareWith) {
    ({ simulator, carrierEnv, databaseUrl } = opts.shareWith);
  } else {
    ({ simulator, carrierEnv } = await startCarrier(opts.carrier));
    if (opts.db === "postgres") {
      const created = await createPostgresDatabase();
      databaseUrl = created.url;
      dropDatabase = created.drop;
    }
  }

  let config;
  try {
    config = loadConfig({
      NODE_ENV: "test",
      PORT: "0",
      HOST: "127.0.0.1",
      API_KEYS: API_KEY,
      SECRET_KEY,
      DATA_DIR: "memory://",
      ...(databaseUrl ? { DATABASE_URL: databaseUrl } : {}),
      ...carrierEnv,
      ...opts.env,
    });
  } catch (err) {
    // A refused configuration must not leave the simulator or a database behind.
    if (!opts.shareWith) await simulator.close();
    await dropDatabase?.();
    throw err;
  }
  const service = await startService({
    config,
    clock,
    // Every log line is kept so tests can check what the service would have written.
    logger: createLogger({ level: "debug", pretty: false, destination: { write: (line: string) => void logLines.push(line) } }),
    pglite: opts.db === "pglite" ? await freshPglite() : undefined,
    openTunnel: opts.openTunnel,
  }).catch(async (err: unknown) => {
    if (!opts.shareWith) await simulator.close();
    await dropDatabase?.();
    throw err;
  });

  async function api(method: string, path: string, body?: unknown, o: ApiOptions = {}): Promise<ApiResponse> {
    const headers: Record<string, string> = { ...o.headers };
    const key = o.key === undefined ? API_KEY : o.key;
    if (key) headers.authorization = `Bearer ${key}`;
    let payload: string | undefined;
    if (body !== undefined) {
      if (o.form) {
        headers["content-type"] ??= "application/x-www-form-urlencoded";
        payload = new URLSearchParams(body as Record<string, string>).toString();
      } else {
        headers["content-type"] ??= "application/json";
        payload = typeof body === "string" ? body : JSON.stringify(body);
      }
    }
    const res = await fetch(`${service.url}${path}`, { method, headers, body: payload });
    const text = await res.text();
    return { status: res.status, body: jsonOrNothing(text), text, headers: res.headers };
  }

  return {
    service,
    simulator,
    carrierEnv,
    databaseUrl,
    clock,
    api,
    logLines,
    async close() {
      // No quiet period to wait out: the suite's own calls have ended by now.
      await service.close(2000, 0);
      if (!opts.shareWith) await simulator.close();
      await dropDatabase?.();
    },
  };
}

/** A response body as JSON when it is JSON, else undefined (the caller still has the text). */
export function jsonOrNothing(text: string): any {
  try {
    return text ? JSON.parse(text) : undefined;
  } catch {
    return undefined;
  }
}

/** A simulator playing the carrier, and the environment that points the service at it. */
export async function startCarrier(carrier: CarrierKind): Promise<{ simulator: Simulator; carrierEnv: Record<string, string> }> {
  // For SignalWire a signing key distinct from the token, as its dashboards issue them;
  // for Telnyx an Ed25519 key pair, the service given the public half.
  const simulator = await simulatorFor(newAccount(carrier));
  return { simulator, carrierEnv: simulator.serviceEnv("+15005550006") };
}

/** The digits the simulated phone heard after "Your code is". */
export function codeHeard(heard: string[]): string {
  const text = heard.join(" ");
  const m = /Your code is:?\s*([\d.\s]+?)\s*Again/i.exec(text);
  if (!m) throw new Error(`no code in what the phone heard: ${text}`);
  return m[1]!.replace(/\D/g, "");
}
