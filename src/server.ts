import "dotenv/config";
import { ConfigError, loadConfig } from "./config/index.js";
import { createLogger } from "./logger.js";
import { startService } from "./service.js";

let config;
try {
  config = loadConfig(process.env);
} catch (err) {
  if (err instanceof ConfigError) {
    console.error(`voice-otp: configuration error: ${err.message}`);
    process.exit(1);
  }
  throw err;
}

const logger = createLogger({ level: config.logLevel, pretty: !config.production && process.stdout.isTTY });
const service = await startService({ config, logger }).catch((err: Error) => {
  // Startup failures are the operator's to fix: one clear line, no stack.
  logger.fatal(`cannot start: ${err.message}`);
  return exitAfterFlush(1);
});

let stopping = false;
for (const signal of ["SIGTERM", "SIGINT"] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, "shutting down");
    // Past the grace period close() cuts connections; this is for a close that hangs.
    const hardStop = setTimeout(() => process.exit(1), config.shutdownGraceSeconds * 1000 + 5000);
    hardStop.unref();
    service.close().then(
      () => {
        logger.info("stopped");
        void exitAfterFlush(0);
      },
      (err: Error) => {
        logger.error({ err }, "error during shutdown");
        void exitAfterFlush(1);
      },
    );
  });
}

/**
 * Log lines are written asynchronously; the last ones must reach stdout before the
 * exit. The promise never settles, so nothing runs after it.
 */
function exitAfterFlush(code: number): Promise<never> {
  logger.flush(() => process.exit(code));
  // Should the flush never call back, exit anyway.
  setTimeout(() => process.exit(code), 1000);
  return new Promise<never>(() => {});
}
