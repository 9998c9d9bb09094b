import { serve, type ServerType } from "@hono/node-server";
import type { AddressInfo } from "node:net";
import { randomBytes } from "node:crypto";
import type { PGlite } from "@electric-sql/pglite";
import { createApp, type AppDeps } from "./app.js";
import { createCarrier } from "./carriers/index.js";
import { startHousekeeping } from "./housekeeping.js";
import { createMetrics } from "./metrics.js";
import { openNgrokTunnel, type Tunnel, type TunnelOpener } from "./tunnel.js";
import type { Config } from "./config.js";
import { openDatabase, type Database } from "./db/open.js";
import { createLogger, type Logger } from "./logger.js";
import { systemClock, type Clock } from "./otp/clock.js";
import { deriveCodeKeys } from "./otp/codes.js";
import { loadOrCreateSecretKey } from "./secret-key.js";
import { startSimulator, type Simulator } from "./simulator/index.js";

export interface StartOptions {
  config: Readonly<Config>;
  clock?: Clock;
  logger?: Logger;
  /** Tests hand in a migrated in-memory PGlite instead of DATA_DIR. */
  pglite?: PGlite;
  /** Opens the ngrok tunnel when NGROK_AUTHTOKEN is set; tests stand in a local forwarder. */
  openTunnel?: TunnelOpener;
}

export interface RunningService {
  url: string;
  port: number;
  deps: AppDeps;
  /** The in-process carrier simulator when CARRIER=simulator. */
  simulator?: Simulator;
  /** Drains and stops: readiness off, no new connections, in-flight requests finish, database closed. */
  close(deadlineMs?: number): Promise<void>;
}

/** config → database → carrier → app → listen. */
export async function startService(opts: StartOptions): Promise<RunningService> {
  const { config } = opts;
  const logger = opts.logger ?? createLogger({ level: config.logLevel, pretty: false });
  const clock = opts.clock ?? systemClock;

  let secret = config.secretKey;
  if (!secret) {
    const loaded = await loadOrCreateSecretKey(config.dataDir);
    secret = loaded.key;
    logger.warn(
      { file: `${config.dataDir}/secret.key` },
      loaded.created ? "SECRET_KEY not set: generated one for development" : "SECRET_KEY not set: using the development key",
    );
  }

  const database = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, pglite: opts.pglite });
  let simulator: Simulator | undefined;
  let server: ServerType | undefined;
  let tunnel: Tunnel | undefined;
  try {
    // Fresh credentials per start: only this process can place calls on its simulator.
    const accountSid = `AC${randomBytes(16).toString("hex")}`;
    const authToken = randomBytes(16).toString("hex");
    if (config.carrier.name === "simulator") {
      simulator = await startSimulator({
        flavor: "twilio",
        accountSid,
        authToken,
        host: "127.0.0.1",
        port: 0,
        // The simulated phone's ears, for trying the service without a real phone: development only.
        logger: config.production ? undefined : (line: string) => logger.info(line),
      });
      logger.warn({ simulator: simulator.url }, "CARRIER=simulator: no real phone will ring; the simulated phone prints what it heard");
    }
    const carrier = createCarrier(
      config.carrier,
      simulator && { apiBaseUrl: simulator.url, accountSid, authToken, from: "+15005550006" },
    );

    let port = config.port;
    const deps: AppDeps = {
      config,
      database,
      carrier,
      clock,
      keys: deriveCodeKeys(secret),
      logger,
      publicBaseUrl: () => tunnel?.url ?? config.publicBaseUrl ?? `http://localhost:${port}`,
      lifecycle: { draining: false },
      otp: { database, keys: deriveCodeKeys(secret), clock, otp: config.otp, limits: config.limits },
      metrics: createMetrics(),
    };
    const app = createApp(deps);
    server = await new Promise<ServerType>((resolve, reject) => {
      const s = serve({ fetch: app.fetch, port: config.port, hostname: config.host }, () => resolve(s));
      s.once("error", reject);
    });
    port = (server.address() as AddressInfo).port;
    if (config.ngrok) {
      tunnel = await (opts.openTunnel ?? openNgrokTunnel)({ port, ...config.ngrok }).catch((err: Error) => {
        throw new Error(`cannot open the ngrok tunnel (NGROK_AUTHTOKEN): ${err.message}`);
      });
      logger.info({ url: tunnel.url }, "ngrok tunnel open: carriers will call this URL (PUBLIC_BASE_URL is ignored)");
    }

    if (config.apiKeys.length === 0) {
      logger.warn(
        "NO API KEYS: /request-auth and /validate-auth are open to anyone who can reach this port. Set API_KEYS before exposing the service.",
      );
    }
    logger.info({ port, publicBaseUrl: deps.publicBaseUrl(), carrier: carrier.name, database: database.kind }, "voice-otp listening");

    const housekeeper = startHousekeeping({ database, clock, logger, retentionHours: config.retentionHours });
    const running = server;
    return {
      url: `http://127.0.0.1:${port}`,
      port,
      deps,
      simulator,
      close: async (deadlineMs = 8000) => {
        deps.lifecycle.draining = true;
        await closeServer(running, deadlineMs);
        // After the drain: webhooks of calls still in flight come in through the tunnel.
        await tunnel?.close().catch(() => {});
        await housekeeper.stop();
        await simulator?.close();
        await database.close();
      },
    };
  } catch (err) {
    await tunnel?.close().catch(() => {});
    server?.close();
    await simulator?.close();
    await database.close();
    throw err;
  }
}

/**
 * server.close() alone waits for keep-alive sockets to go idle on their own;
 * nudging idle ones shut keeps shutdown prompt, and the deadline ends the rest.
 */
function closeServer(server: ServerType, deadlineMs: number): Promise<void> {
  return new Promise((resolve) => {
    const http = server as import("node:http").Server;
    const nudge = setInterval(() => http.closeIdleConnections?.(), 100);
    const deadline = setTimeout(() => http.closeAllConnections?.(), deadlineMs);
    server.close(() => {
      clearInterval(nudge);
      clearTimeout(deadline);
      resolve();
    });
    http.closeIdleConnections?.();
  });
}

export type { Database };
