import type { Logger } from "pino";
import type { Config } from "../config/index.js";
import type { Database } from "../db/open.js";
import type { Metrics } from "../metrics.js";
import type { Clock } from "../otp/clock.js";
import type { CodeKeys } from "../otp/codes.js";
import { claimDue, countPending, type ClaimedEvent } from "./claims.js";
import { deliver, type DeliveryDeps } from "./deliver.js";
import { loadEndpoints, type Endpoint } from "./endpoints.js";

/**
 * Delivers the outbox. Every instance runs this loop: it claims due events (a lease in
 * the database, so two instances never send one event at the same moment), sends each
 * to its service's endpoint, and writes the outcome. It looks every intervalMs, at once
 * when kicked (an event was just written, or a delivery finished and freed a slot), and
 * again straight away while it keeps finding a full batch.
 */

export interface Dispatcher {
  /** Look for due events now rather than at the next interval. */
  kick(): void;
  /** Claims nothing more, and waits for the attempts in flight (each ends by its timeout). */
  stop(): Promise<void>;
}

export interface DispatcherOptions {
  database: Database;
  keys: CodeKeys;
  clock: Clock;
  logger: Logger;
  metrics: Metrics;
  config: Pick<Config, "eventDelivery" | "webhookTargets">;
  intervalMs?: number;
}

/**
 * Attempts at once to one endpoint, per instance: a slow receiver holds at most these
 * slots, while other endpoints' events are claimed and sent beside it. An endpoint is a
 * service's (one per service), so the count is kept by service.
 */
export const PER_ENDPOINT = 4;
/** Attempts at once per instance, whatever the endpoints: sockets and memory stay bounded. */
const MAX_IN_FLIGHT = 64;
/** How often the pending gauge is counted again: a cheap count, but not one per claim. */
const COUNT_EVERY_MS = 5000;

export function startDispatcher(opts: DispatcherOptions): Dispatcher {
  const { database, keys, clock, logger, metrics } = opts;
  const interval = opts.intervalMs ?? 500;
  const { timeoutMs, retryBaseMs } = opts.config.eventDelivery;
  // Longer than any attempt (the POST is cut off at timeoutMs) and the writes either side
  // of it, with room for the instances' clocks to disagree: a lease that ran out while its
  // holder was still sending would let a second instance send the same event alongside.
  const leaseMs = 2 * timeoutMs + 10_000;
  const deliveryDeps: DeliveryDeps = { database, clock, logger, metrics, timeoutMs, retryBaseMs, targets: opts.config.webhookTargets };

  const busy = new Map<string, number>();
  const inFlight = new Set<Promise<void>>();
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let again = false;
  let countedAt = -Infinity;

  /** One claim; true when it filled every free slot, so more may be due. */
  async function round(): Promise<boolean> {
    if (performance.now() - countedAt >= COUNT_EVERY_MS) {
      countedAt = performance.now();
      const pending = await countPending(database);
      metrics.eventsPending.reset();
      for (const [service, n] of pending) metrics.eventsPending.set({ service }, n);
    }
    const room = MAX_IN_FLIGHT - inFlight.size;
    if (room <= 0) return false;
    const now = clock.now();
    const claimed = await claimDue(database, { now, until: new Date(now.getTime() + leaseMs), limit: room, perEndpoint: PER_ENDPOINT, busy });
    if (claimed.length === 0) return false;
    // If this fails the claims simply run out, and the events are claimed again then.
    const endpoints = await loadEndpoints(database, keys, claimed.map((e) => e.serviceId), now);
    for (const event of claimed) send(event, endpoints.get(event.serviceId));
    return claimed.length === room;
  }

  function send(event: ClaimedEvent, endpoint: Endpoint | undefined) {
    const service = event.serviceId;
    busy.set(service, (busy.get(service) ?? 0) + 1);
    const attempt = deliver(deliveryDeps, event, endpoint)
      .catch((err: Error) =>
        // The database failed us mid-attempt: the claim runs out and the event is tried again.
        logger.warn({ event: event.id, service, err: err.message }, "event delivery interrupted; it will be tried again when its claim expires"),
      )
      .finally(() => {
        const left = (busy.get(service) ?? 1) - 1;
        if (left > 0) busy.set(service, left);
        else busy.delete(service);
        inFlight.delete(attempt);
        kick();
      });
    inFlight.add(attempt);
  }

  function kick() {
    if (stopped) return;
    if (running) {
      again = true;
      return;
    }
    clearTimeout(timer);
    running = round()
      .then(
        (more) => void (again ||= more),
        (err: Error) => {
          // Database down: look again at the next interval rather than spinning.
          again = false;
          logger.warn({ err: err.message }, "event dispatch failed; will try again");
        },
      )
      .finally(() => {
        running = undefined;
        if (stopped) return;
        if (again) {
          again = false;
          kick();
        } else {
          timer = setTimeout(kick, interval);
          timer.unref();
        }
      });
  }

  kick();
  return {
    kick,
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running;
      await Promise.allSettled([...inFlight]);
    },
  };
}
