import type { Simulator } from "../../src/simulator/index.js";
import { closedPort } from "./carrier-world.js";
import { runScript, type Proc } from "./process.js";
import { API_KEY, SECRET_KEY, codeHeard, jsonOrNothing, startCarrier, type ApiResponse } from "./service.js";

/**
 * The service as production runs it: `src/server.ts` in its own process (so signals,
 * exit codes and kill -9 are real), placing calls through the real Twilio SDK to a
 * simulator in the test process, which outlives the service's restarts.
 */

export interface CarrierSide {
  simulator: Simulator;
  /** The variables that point a service at the simulator. */
  env: Record<string, string>;
}

export async function startTwilioSimulator(): Promise<CarrierSide> {
  const { simulator, carrierEnv } = await startCarrier("twilio");
  return { simulator, env: carrierEnv };
}

/** Limits out of the way of a load test: the limits have their own tests. */
export const LOAD_LIMITS = {
  RESEND_COOLDOWN_SECONDS: "0",
  CALLS_PER_NUMBER_PER_10_MIN: "1000",
  CALLS_PER_NUMBER_PER_DAY: "10000",
  CALLS_PER_PREFIX_PER_HOUR: "100000",
  CALLS_PER_DAY: "10000000",
  REQUESTS_PER_KEY_PER_MINUTE: "1000000",
  FAILED_VALIDATIONS_PER_NUMBER_PER_DAY: "1000",
};

export interface ServiceProcess {
  proc: Proc;
  url: string;
  port: number;
  /** One request over a fresh connection; rejects on a network error or after timeoutMs. */
  api(method: string, path: string, body?: unknown, opts?: RequestOptions): Promise<TimedResponse>;
  /** kill -9 when still running; resolves once it has exited. */
  kill(): Promise<void>;
}

export interface RequestOptions {
  timeoutMs?: number;
  /** null: no Authorization header. */
  key?: string | null;
  headers?: Record<string, string>;
}

export interface TimedResponse extends ApiResponse {
  ms: number;
}

export interface ServiceProcessOptions {
  /** The port to listen on; the same port across restarts keeps placed calls' webhook URLs valid. */
  port?: number;
  env: Record<string, string>;
}

export async function startServiceProcess(opts: ServiceProcessOptions): Promise<ServiceProcess> {
  const port = opts.port ?? (await closedPort());
  const url = `http://127.0.0.1:${port}`;
  const proc = runScript("src/server.ts", {
    NODE_ENV: "test",
    PORT: String(port),
    HOST: "127.0.0.1",
    PUBLIC_BASE_URL: url,
    API_KEYS: API_KEY,
    SECRET_KEY,
    LOG_LEVEL: "info",
    ...opts.env,
  });
  const kill = async () => {
    if (proc.child.exitCode === null && proc.child.signalCode === null) proc.child.kill("SIGKILL");
    await proc.exited;
  };
  try {
    await proc.waitFor(/voice-otp listening/, 60_000);
  } catch (err) {
    await kill();
    throw err;
  }
  return { proc, url, port, kill, api: (method, path, body, o) => request(url, method, path, body, o) };
}

export async function request(
  base: string,
  method: string,
  path: string,
  body?: unknown,
  opts: RequestOptions = {},
): Promise<TimedResponse> {
  const started = performance.now();
  const key = opts.key === undefined ? API_KEY : opts.key;
  const res = await fetch(`${base}${path}`, {
    method,
    headers: {
      ...(key ? { authorization: `Bearer ${key}` } : {}),
      ...(body === undefined ? {} : { "content-type": "application/json" }),
      // A fresh connection per request: a request never waits behind a socket the server is closing.
      connection: "close",
      ...opts.headers,
    },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(opts.timeoutMs ?? 15_000),
  });
  const text = await res.text();
  return { status: res.status, body: jsonOrNothing(text), text, headers: res.headers, ms: performance.now() - started };
}

/** The code the phone heard on the call placed for a challenge, or null when it heard none. */
export async function codeHeardFor(simulator: Simulator, challengeId: string, timeoutMs = 15_000): Promise<string | null> {
  const call = await simulator.waitForCall((c) => c.url.endsWith(`c=${challengeId}`), { timeoutMs });
  try {
    return codeHeard(call.heard);
  } catch {
    return null;
  }
}
