import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium, type BrowserContext } from "playwright-core";
import { loadConfig } from "../../src/config/index.js";
import { createLogger } from "../../src/logger.js";
import type { Clock } from "../../src/otp/clock.js";
import { startService, type RunningService } from "../../src/service.js";
import { createPostgresDatabase, freshPglite, postgresAvailable } from "./databases.js";
import { SECRET_KEY } from "./service.js";

/**
 * The browser pages' world: the service as `npm start` runs it (development, the in-process
 * simulator; on a PostgreSQL database of its own when a server answers, which starts faster
 * than PGlite, else PGlite), and Debian's Chromium driven by playwright-core, watching every
 * request the pages make and every error they log. test/pages.test.ts and
 * scripts/screenshots.ts both use it.
 */

export const CHROMIUM = "/usr/bin/chromium";
export const ADMIN_KEY = "admin-key-0123456789abcdef";

/**
 * Without the background-networking flags Chromium dials Google's services at start, which
 * a closed network refuses; QUIC and GPU are of no use headless.
 */
const CHROMIUM_ARGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

export async function startPagesService(
  env: Record<string, string> = {},
  opts: { clock?: Clock; pglite?: boolean } = {},
): Promise<RunningService & { logLines: string[] }> {
  const logLines: string[] = [];
  const postgres = !opts.pglite && (await postgresAvailable()) ? await createPostgresDatabase() : undefined;
  const config = loadConfig({
    NODE_ENV: "development",
    CARRIER: "simulator",
    PORT: "0",
    HOST: "127.0.0.1",
    SECRET_KEY,
    DATA_DIR: "memory://",
    ADMIN_API_KEYS: ADMIN_KEY,
    ...(postgres ? { DATABASE_URL: postgres.url } : {}),
    ...env,
  });
  const service = await startService({
    config,
    clock: opts.clock,
    logger: createLogger({ level: "info", pretty: false, destination: { write: (line: string) => void logLines.push(line) } }),
    pglite: postgres ? undefined : await freshPglite(),
  }).catch(async (err: unknown) => {
    await postgres?.drop();
    throw err;
  });
  const close = service.close;
  return Object.assign(service, {
    logLines,
    async close(graceMs?: number, quietMs?: number) {
      await close(graceMs, quietMs);
      await postgres?.drop();
    },
  });
}

export interface Browser {
  context: BrowserContext;
  /** Every URL the pages requested, in order. */
  requests: string[];
  /** Console errors and uncaught exceptions, CSP refusals included. */
  errors: string[];
  close(): Promise<void>;
}

/** Headless Chromium with a fresh profile of its own. */
export async function openBrowser(): Promise<Browser> {
  const profile = await mkdtemp(join(tmpdir(), "voice-otp-chromium-"));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_ARGS,
    viewport: { width: 1280, height: 900 },
  });
  const requests: string[] = [];
  const errors: string[] = [];
  context.on("request", (r) => requests.push(r.url()));
  context.on("console", (m) => {
    if (m.type() === "error") errors.push(`${m.location().url}: ${m.text()}`);
  });
  context.on("weberror", (e) => errors.push(String(e.error())));
  return {
    context,
    requests,
    errors,
    async close() {
      await context.close();
      await rm(profile, { recursive: true, force: true });
    },
  };
}

export const chromiumPresent = () => existsSync(CHROMIUM);
