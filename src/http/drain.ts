import type { MiddlewareHandler } from "hono";
import { AppError, sendError } from "./errors.js";

/**
 * Graceful shutdown, the HTTP side. Once draining, the instance keeps its port open:
 * /readyz answers 503 so load balancers turn away, requests already in flight finish,
 * and the carrier's webhooks are still served, since the calls this instance placed
 * may still be ringing and will ask for their code (see whenCallsEnd). Anything else
 * new is refused with 503 shutting_down, which clients retry elsewhere. The port
 * closes once those calls have ended and nothing has been served for a quiet moment
 * (see whenQuiet), or when the grace period runs out.
 */
export interface Lifecycle {
  draining: boolean;
  /** Requests being served now; probes and refused requests are not counted. */
  inFlight: number;
  /** performance.now() when the last counted request finished. */
  lastActivity: number;
  /**
   * The challenges whose calls this instance placed, by the performance.now() time their
   * code expires (after which a call hears no code, so nothing is lost by leaving it).
   * Entries go in expiry order: the code's lifetime is the same for every call.
   */
  calls: Map<string, number>;
}

export function newLifecycle(): Lifecycle {
  return { draining: false, inFlight: 0, lastActivity: 0, calls: new Map() };
}

/** Remembers a call this instance placed, until its code expires (calls that expired are forgotten now). */
export function callPlaced(lifecycle: Lifecycle, challengeId: string, codeLifetimeMs: number): void {
  const now = performance.now();
  forgetExpired(lifecycle, now);
  lifecycle.calls.set(challengeId, now + codeLifetimeMs);
}

function forgetExpired(lifecycle: Lifecycle, now: number): void {
  for (const [id, until] of lifecycle.calls) {
    if (until > now) break;
    lifecycle.calls.delete(id);
  }
}

/**
 * Resolves once every call this instance placed has ended (as `stillOn` reads the
 * database, where any instance may have recorded the end), or at the deadline
 * (performance.now() time). A database that does not answer ends the wait: no
 * webhook could be served without it.
 */
export async function whenCallsEnd(
  lifecycle: Lifecycle,
  stillOn: (challengeIds: string[]) => Promise<string[]>,
  deadline: number,
  pollMs = 250,
): Promise<void> {
  for (;;) {
    const now = performance.now();
    forgetExpired(lifecycle, now);
    if (lifecycle.calls.size === 0 || now >= deadline) return;
    let on: Set<string>;
    try {
      on = new Set(await stillOn([...lifecycle.calls.keys()]));
    } catch {
      return;
    }
    for (const id of lifecycle.calls.keys()) if (!on.has(id)) lifecycle.calls.delete(id);
    if (lifecycle.calls.size === 0) return;
    await new Promise((r) => setTimeout(r, Math.max(1, Math.min(pollMs, deadline - performance.now()))));
  }
}

const PROBES = new Set(["/healthz", "/readyz", "/metrics"]);
const CARRIER_WEBHOOKS = new Set(["/call-2fa", "/call-status"]);

export function drain(lifecycle: Lifecycle): MiddlewareHandler {
  return async (c, next) => {
    const path = c.req.path;
    if (PROBES.has(path)) {
      await next();
    } else if (lifecycle.draining && !CARRIER_WEBHOOKS.has(path)) {
      c.header("Connection", "close");
      return sendError(
        c,
        new AppError("shutting_down", "this instance is shutting down; retry shortly (another instance will answer)", undefined, {
          "Retry-After": "1",
        }),
      );
    } else {
      lifecycle.inFlight++;
      try {
        await next();
      } finally {
        lifecycle.inFlight--;
        lifecycle.lastActivity = performance.now();
      }
    }
    // A client must not send its next request on a socket that is about to close.
    if (lifecycle.draining) c.header("Connection", "close");
  };
}

/** Resolves once no counted request has been in flight for quietMs, or at the deadline (performance.now() time). */
export function whenQuiet(lifecycle: Lifecycle, quietMs: number, deadline: number): Promise<void> {
  return new Promise((resolve) => {
    const check = () => {
      const now = performance.now();
      const quietAt = lifecycle.lastActivity + quietMs;
      if (now >= deadline || (lifecycle.inFlight === 0 && now >= quietAt)) return resolve();
      const next = lifecycle.inFlight === 0 ? quietAt - now : 50;
      setTimeout(check, Math.max(1, Math.min(next, deadline - now)));
    };
    check();
  });
}
