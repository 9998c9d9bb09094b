import { getRequestListener, type ServerType } from "@hono/node-server";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { randomBytes } from "node:crypto";
import type { PGlite } from "@electric-sql/pglite";
import { createApp, KEYED_ROUTES } from "./http/app.js";
import { openAndSimulated } from "./http/auth.js";
import { answerClientError, requestErrorResponse, withHostRequired } from "./http/client-errors.js";
import type { AppDeps } from "./http/env.js";
import { newLifecycle, whenCallsEnd, whenQuiet } from "./http/drain.js";
import { callsStillOn } from "./otp/call-events.js";
import { createCarrier } from "./carriers/index.js";
import { startHousekeeping } from "./housekeeping.js";
import { startDispatcher, type Dispatcher } from "./events/dispatcher.js";
import { createMetrics } from "./metrics.js";
import { writeDefaultEndpoint } from "./events/default-endpoint.js";
import { openNgrokTunnel, type Tunnel, type TunnelOpener } from "./tunnel.js";
import type { Config } from "./config/index.js";
import { openDatabase, type Database } from "./db/open.js";
import { createLogger, type Logger } from "./logger.js";
import { systemClock, type Clock } from "./otp/clock.js";
import { deriveCodeKeys } from "./otp/codes.js";
import { loadOrCreateSecretKey } from "./secret-key.js";
import { openServiceDirectory } from "./services/directory.js";
import { defaultService } from "./services/settings.js";
import type { Simulator } from "./simulator/index.js";
import { openKeyRing } from "./tokens/key-ring.js";
import { deriveKeySealKey } from "./tokens/key-seal.js";

export interface StartOptions {
  config: Readonly<Config>;
  clock?: Clock;
  logger?: Logger;
  /** Tests hand in a migrated in-memory PGlite instead of DATA_DIR. */
  pglite?: PGlite;
  /** Opens the ngrok tunnel when NGROK_AUTHTOKEN is set; tests stand in a local forwarder. */
  openTunnel?: TunnelOpener;
  /**
   * The housekeeping sweep's period (default 30 s) and retention (default RETENTION_HOURS).
   * The soak run (bench/soak.ts) shortens both to see the sweep keep the tables bounded
   * within minutes. No variable sets them: under 24 hours the daily limits would undercount.
   */
  housekeeping?: { intervalMs?: number; retentionHours?: number };
}

export interface RunningService {
  url: string;
  port: number;
  deps: AppDeps;
  /** The in-process carrier simulator when CARRIER=simulator. */
  simulator?: Simulator;
  /** Delivers the event outbox; kick() sends what was just written without waiting for the next look. */
  dispatcher: Dispatcher;
  /**
   * Drains and stops: readiness off and new work refused at once; carrier webhooks served
   * until the calls this instance placed have ended, and in-flight requests until none has
   * come for quietMs (default 1000); then the port closes and the database after it.
   * Whatever still runs at graceMs (default SHUTDOWN_GRACE_SECONDS) is cut off.
   */
  close(graceMs?: number, quietMs?: number): Promise<void>;
}

/** Longer than the idle timeout of the load balancers and HTTP clients in front of the service. */
const KEEP_ALIVE_MS = 65_000;

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
  let heard: AppDeps["heard"];
  let server: ServerType | undefined;
  let tunnel: Tunnel | undefined;
  try {
    // Fresh credentials per start: only this process can place calls on its simulator.
    const accountSid = `AC${randomBytes(16).toString("hex")}`;
    const authToken = randomBytes(16).toString("hex");
    if (config.carrier.name === "simulator") {
      // Development only: loaded on demand, so a production process does not carry it.
      const { startSimulator, challengeOf } = await import("./simulator/index.js");
      simulator = await startSimulator({
        flavor: "twilio",
        accountSid,
        authToken,
        host: "127.0.0.1",
        port: 0,
        outcomes: config.simulatorOutcomes,
        // The simulated phone's ears, for trying the service without a real phone: development only,
        // since what it heard holds the code.
        logger: config.production ? undefined : (line, on) => logger.info(on, line),
      });
      const phones = simulator;
      // For the /demo page, outside production only, as the log line above: what the phone heard holds the code.
      if (!config.production) heard = (challengeId) => phones.calls().findLast((call) => challengeOf(call) === challengeId)?.heard;
      logger.warn({ simulator: simulator.url }, "CARRIER=simulator: no real phone will ring; the simulated phone prints what it heard");
    }
    const carrier = await createCarrier(
      config.carrier,
      simulator && { apiBaseUrl: simulator.url, accountSid, authToken, from: "+15005550006" },
    );

    let port = config.port;
    const services = await openServiceDirectory({ database, defaults: defaultService(config), carrier: config.carrier.name, logger });
    await writeDefaultEndpoint(database, deriveCodeKeys(secret), config.webhook, clock.now(), logger);
    const tokens = openKeyRing({ database, sealKey: deriveKeySealKey(secret), clock });
    // The first instance to start makes the signing key; one whose SECRET_KEY cannot open it stops here, not at its first approval.
    await tokens.signer();
    const deps: AppDeps = {
      config,
      database,
      carrier,
      clock,
      logger,
      publicBaseUrl: () => tunnel?.url ?? config.publicBaseUrl ?? `http://localhost:${port}`,
      lifecycle: newLifecycle(),
      otp: { database, keys: deriveCodeKeys(secret), clock, limits: config.limits },
      services,
      metrics: createMetrics(),
      tokens,
      heard,
    };
    const app = createApp(deps);
    server = await new Promise<ServerType>((resolve, reject) => {
      // @hono/node-server's serve(), with the adapter's errorHandler (which serve() does not pass
      // on) and Node's 'clientError': what they refuse is answered in the error shape too.
      const s = createServer(
        {
          // Node closes an idle keep-alive socket after 5 s; a load balancer (60 s idle on the
          // common ones) or a carrier reusing it at that moment gets a reset, i.e. a failed
          // request. Outliving the client's idle timeout leaves the closing to the client.
          keepAliveTimeout: KEEP_ALIVE_MS,
          // A head or a body trickling in is cut off (408) after these, counted from the
          // request's first byte: an idle kept-alive connection is not timed by them.
          headersTimeout: config.http.headersTimeoutMs,
          requestTimeout: config.http.requestTimeoutMs,
          // Node checks the timeouts on this period (30 s by default, which would let a
          // 10 s limit run to 40 s).
          connectionsCheckingInterval: Math.min(1000, config.http.headersTimeoutMs / 2),
          requireHostHeader: false,
        },
        withHostRequired(getRequestListener(app.fetch, { hostname: config.host, errorHandler: requestErrorResponse(logger) })),
      );
      // Past this many open connections a new one is closed as it arrives.
      s.maxConnections = config.http.maxConnections;
      s.on("clientError", answerClientError(logger));
      s.once("error", reject);
      s.listen(config.port, config.host, () => resolve(s));
    });
    port = (server.address() as AddressInfo).port;
    if (config.ngrok) {
      tunnel = await (opts.openTunnel ?? openNgrokTunnel)({ port, ...config.ngrok }).catch((err: Error) => {
        throw new Error(`cannot open the ngrok tunnel (NGROK_AUTHTOKEN): ${err.message}`);
      });
      logger.info({ url: tunnel.url }, "ngrok tunnel open: carriers will call this URL (PUBLIC_BASE_URL is ignored)");
    }

    if (config.apiKeys.length === 0) {
      const open = [...KEYED_ROUTES, ...(config.metricsToken ? [] : ["/metrics"])];
      logger.warn(
        `NO API KEYS: ${open.join(", ")} are open to anyone who can reach ${config.host}:${port}. Set API_KEYS before exposing the service.`,
      );
    }
    logger.info({ port, publicBaseUrl: deps.publicBaseUrl(), carrier: carrier.name, database: database.kind }, "voice-otp listening");
    // The demo places calls without a key only where /request-auth does and no phone rings (openAndSimulated).
    if (config.demo && (config.production || carrier.name !== "simulator")) {
      logger.info(
        `DEMO_ENABLED: ${deps.publicBaseUrl()}/demo places calls with a service's API key typed into the page, in that key's service and within its limits (it never shows the code). Unset DEMO_ENABLED to turn it off.`,
      );
    } else if (config.demo) {
      const key = openAndSimulated(config) ? "" : ", with a service's API key";
      logger.info(`try it in a browser: ${deps.publicBaseUrl()}/demo${key} (the admin page: /admin)`);
    }

    const housekeeper = startHousekeeping({
      database,
      clock,
      logger,
      retentionHours: opts.housekeeping?.retentionHours ?? config.retentionHours,
      intervalMs: opts.housekeeping?.intervalMs,
    });
    const dispatcher = startDispatcher({ database, keys: deps.otp.keys, clock, logger, metrics: deps.metrics, config });
    const running = server;
    return {
      url: `http://127.0.0.1:${port}`,
      port,
      deps,
      simulator,
      dispatcher,
      close: async (graceMs = config.shutdownGraceSeconds * 1000, quietMs = 1000) => {
        const deadline = performance.now() + graceMs;
        deps.lifecycle.draining = true;
        // The port stays open meanwhile: a load balancer still sending here gets 503s rather
        // than refused connections, and the calls still ringing can fetch their code.
        await whenCallsEnd(deps.lifecycle, (ids) => callsStillOn(deps.otp, ids), deadline);
        await whenQuiet(deps.lifecycle, quietMs, deadline);
        await closeServer(running, Math.max(0, deadline - performance.now()));
        // After the drain: webhooks of calls still in flight come in through the tunnel.
        await tunnel?.close().catch(() => {});
        await housekeeper.stop();
        // Before the database closes: the attempts in flight (each ends by its timeout) write
        // their outcomes. A process killed sooner leaves its claims to run out, and the events
        // are sent again by whichever instance claims them next.
        await dispatcher.stop();
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
