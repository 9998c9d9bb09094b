import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from "prom-client";

/**
 * Prometheus metrics. One registry per service instance (not prom-client's global
 * one), so several services in one process — the tests — keep their counts apart.
 * Labels are bounded sets (carrier, status, reason, limit, route template, and the
 * service: one value per service, its id; empty where no key was recognised): never a
 * number, a challenge id or a code.
 */
export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: "voice_otp_" });
  const counter = <L extends string>(name: string, help: string, labelNames: readonly L[]) =>
    new Counter<L>({ name: `voice_otp_${name}`, help, labelNames, registers: [registry] });

  return {
    registry,
    callsRequested: counter("calls_requested_total", "Calls the service asked a carrier to place", ["service", "carrier"]),
    callsPlaced: counter("calls_placed_total", "Calls the carrier accepted", ["service", "carrier"]),
    callsFailed: counter("calls_failed_total", "Calls the carrier refused or did not answer for", ["service", "carrier", "failure"]),
    callOutcomes: counter("call_status_events_total", "Call progress events recorded from status callbacks", ["service", "status"]),
    validations: counter("validations_total", "Code validations by result", ["service", "result"]),
    limitRefusals: counter("limit_refusals_total", "Requests refused by an abuse limit", ["service", "limit"]),
    webhookRefusals: counter("webhook_refusals_total", "Carrier webhooks refused for a bad or missing signature", ["webhook"]),
    eventsDelivered: counter("events_delivered_total", "Events delivered to their service's webhook endpoint", ["service"]),
    eventsFailed: counter("events_failed_total", "Events given up: a refused target, a 410, no endpoint, or a day of failed attempts", ["service"]),
    eventDeliveryAttempts: counter(
      "event_delivery_attempts_total",
      "Event webhook POSTs by outcome: delivered, rejected (a non-2xx answer), unreachable (no answer in time), gone (410), refused (a target not allowed)",
      ["service", "outcome"],
    ),
    eventDeliverySeconds: new Histogram({
      name: "voice_otp_event_delivery_seconds",
      help: "From an event's write to its delivery, retries included",
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800, 3600, 4 * 3600, 12 * 3600, 24 * 3600],
      registers: [registry],
    }),
    // Every instance counts the same shared outbox: aggregate it with max, not sum.
    eventsPending: new Gauge<"service">({
      name: "voice_otp_events_pending",
      help: "Events waiting for delivery, by service, as this instance last counted the outbox (every few seconds)",
      labelNames: ["service"],
      registers: [registry],
    }),
    httpDuration: new Histogram<"method" | "route" | "status">({
      name: "voice_otp_http_request_duration_seconds",
      help: "HTTP request duration by route template and status",
      labelNames: ["method", "route", "status"],
      buckets: [0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
