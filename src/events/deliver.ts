import type { Logger } from "pino";
import type { Database } from "../db/open.js";
import type { Metrics } from "../metrics.js";
import type { Clock } from "../otp/clock.js";
import { nextAttemptAt } from "./backoff.js";
import { settle, type ClaimedEvent, type Settlement } from "./claims.js";
import { disableEndpoint, type Endpoint } from "./endpoints.js";
import { postEvent, type PostResult } from "./post.js";
import { signatureHeaders } from "./signature.js";
import type { TargetPolicy } from "./target.js";

/**
 * One attempt at one claimed event: sign it, POST it, and write what came of it
 * (delivered, retry later, or failed with the reason and what to do about it).
 */

export interface DeliveryDeps {
  database: Database;
  clock: Clock;
  logger: Logger;
  metrics: Metrics;
  timeoutMs: number;
  retryBaseMs: number;
  targets: TargetPolicy;
}

/** The attempts counter's outcome label: a small fixed set. */
export type AttemptOutcome = "delivered" | "rejected" | "unreachable" | "gone" | "refused";

// What to do about an event that failed, in its last_error: say how to fix it, then resend.
const retryHint = (id: string) => `then \`voice-otp events retry ${id}\` sends it again`;
const ENABLE = "set the service's webhook endpoint again to enable it";
const noEndpoint = (id: string) =>
  `no endpoint: the service has no webhook endpoint (removed, or its secret sealed under another SECRET_KEY); set one, ${retryHint(id)}`;
const disabled = (id: string) => `endpoint disabled (its receiver answered 410 Gone): ${ENABLE}, ${retryHint(id)}`;

export async function deliver(deps: DeliveryDeps, event: ClaimedEvent, endpoint: Endpoint | undefined): Promise<void> {
  if (!endpoint || endpoint.disabledAt) {
    const error = endpoint ? disabled(event.id) : noEndpoint(event.id);
    await finish(deps, event, { state: "failed", at: deps.clock.now(), status: null, error, attempted: false });
    return;
  }
  // A new timestamp on every attempt (receivers refuse old ones against replay); the
  // webhook-id stays the event's id, the receiver's key for deduplication.
  let headers: Record<string, string>;
  try {
    headers = signatureHeaders(event.id, deps.clock.now(), event.body, endpoint.secrets);
  } catch (err) {
    const error = `not signed: ${(err as Error).message}`;
    await finish(deps, event, { state: "failed", at: deps.clock.now(), status: null, error, attempted: false });
    return;
  }
  const result = await postEvent(endpoint.url, event.body, headers, { timeoutMs: deps.timeoutMs, ...deps.targets });
  const at = deps.clock.now();
  const outcome = outcomeOf(result);
  deps.metrics.eventDeliveryAttempts.inc({ service: event.serviceId, outcome });
  const status = result.status ?? null;
  const error = result.error ?? "";

  let settlement: Settlement;
  if (result.ok) {
    settlement = { state: "delivered", at, status: result.status! };
  } else if (result.gone) {
    // The receiver asks us to stop: nothing more goes to it until the endpoint is set again.
    await disableEndpoint(deps.database, event.serviceId, at);
    settlement = { state: "failed", at, status, error: `${host(endpoint.url)} answered 410 Gone, so the endpoint is disabled: ${ENABLE}, ${retryHint(event.id)}`, attempted: true };
  } else if (!result.retryable) {
    settlement = { state: "failed", at, status, error: `${error}; ${retryHint(event.id)}`, attempted: true };
  } else {
    const next = nextAttemptAt(event.attempts, deps.retryBaseMs, event.createdAt, at);
    settlement = next
      ? { state: "retry", next, status, error }
      : { state: "failed", at, status, error: `gave up after ${event.attempts} attempts (the event is a day old); the last: ${error}; ${retryHint(event.id)}`, attempted: true };
  }
  await finish(deps, event, settlement);
}

async function finish(deps: DeliveryDeps, event: ClaimedEvent, s: Settlement): Promise<void> {
  const on = { event: event.id, service: event.serviceId, type: event.type, attempts: event.attempts };
  if (!(await settle(deps.database, event, s))) {
    // Another instance holds it now (this attempt outlived the lease) and writes its own outcome.
    deps.logger.warn(on, "event delivery outcome not written: the claim had expired; another attempt decides");
    return;
  }
  if (s.state === "delivered") {
    deps.metrics.eventsDelivered.inc({ service: event.serviceId });
    deps.metrics.eventDeliverySeconds.observe(Math.max(0, s.at.getTime() - event.createdAt.getTime()) / 1000);
    deps.logger.debug(on, "event delivered");
  } else if (s.state === "failed") {
    deps.metrics.eventsFailed.inc({ service: event.serviceId });
    deps.logger.warn({ ...on, error: s.error }, "event not delivered: failed");
  } else {
    deps.logger.info({ ...on, error: s.error, next: s.next.toISOString() }, "event delivery failed; will retry");
  }
}

function outcomeOf(r: PostResult): AttemptOutcome {
  if (r.ok) return "delivered";
  if (r.gone) return "gone";
  if (!r.retryable) return "refused";
  return r.status === undefined ? "unreachable" : "rejected";
}

/** The host only: a webhook URL's path or query may hold the receiver's own token. */
function host(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return "the receiver";
  }
}
