import { createServer } from "node:net";
import { startChild, type Child } from "./processes.js";

/** The carrier simulator's account, as bench/simulator-process.ts was started with it. */
export interface SimulatorAccount {
  url: string;
  accountSid: string;
  authToken: string;
}

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/**
 * A compiled service (the build in `dist`) in a child process (bench/service-process.mjs),
 * on the database at databaseUrl, placing its calls through the Twilio SDK to the simulator.
 * Every limit is at its schema's maximum so that none refuses the load (each is still
 * counted on every request), codes live an hour and take 20 guesses; `env` overrides.
 */
export async function startServiceChild(opts: {
  dist: string;
  cwd: string;
  nodeFlags: string[];
  databaseUrl: string;
  apiKey: string;
  secretKey: string;
  simulator: SimulatorAccount;
  logLevel: string;
  env?: Record<string, string>;
}): Promise<{ child: Child; url: string; pid: number }> {
  const port = await freePort();
  const child = await startChild(
    "./service-process.mjs",
    {
      NODE_ENV: "test",
      LOG_LEVEL: opts.logLevel,
      HOST: "127.0.0.1",
      PORT: String(port),
      PUBLIC_BASE_URL: `http://127.0.0.1:${port}`,
      DATABASE_URL: opts.databaseUrl,
      API_KEYS: opts.apiKey,
      SECRET_KEY: opts.secretKey,
      CARRIER: "twilio",
      TWILIO_ACCOUNT_SID: opts.simulator.accountSid,
      TWILIO_AUTH_TOKEN: opts.simulator.authToken,
      TWILIO_NUMBER: "+15005550006",
      TWILIO_API_BASE_URL: opts.simulator.url,
      ALLOWED_COUNTRIES: "US",
      OTP_TTL_SECONDS: "3600",
      OTP_MAX_ATTEMPTS: "20",
      RESEND_COOLDOWN_SECONDS: "0",
      CALLS_PER_NUMBER_PER_10_MIN: "1000",
      CALLS_PER_NUMBER_PER_DAY: "10000",
      CALLS_PER_PREFIX_PER_HOUR: "100000",
      CALLS_PER_IP_PER_HOUR: "100000",
      CALLS_PER_DAY: "10000000",
      REQUESTS_PER_KEY_PER_MINUTE: "1000000",
      FAILED_VALIDATIONS_PER_NUMBER_PER_DAY: "1000",
      ...opts.env,
    },
    { plainNode: true, nodeArgs: opts.nodeFlags, args: [opts.dist], cwd: opts.cwd },
  );
  return { child, url: String(child.ready.url), pid: Number(child.ready.pid) };
}
