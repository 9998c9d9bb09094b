import type { MiddlewareHandler } from "hono";
import { AppError, sendError } from "./errors.js";

/**
 * Graceful shutdown, the HTTP side. Once draining, the instance keeps its port open
 * a little: /readyz answers 503 so load balancers turn away, requests already in
 * flight finish, and the carrier's webhooks are still served (the calls this instance
 * just placed are ringing and will ask for their code). Anything else new is refused
 * with 503 shutting_down, which clients retry elsewhere. The port closes once nothing
 * has been served for a quiet moment (see whenQuiet).
 */
export interface Lifecycle {
  draining: boolean;
  /** Requests being served now; probes and refused requests are not counted. */
  inFlight: number;
  /** performance.now() when the last counted request finished. */
  lastActivity: number;
}

export function newLifecycle(): Lifecycle {
  return { draining: false, inFlight: 0, lastActivity: 0 };
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
