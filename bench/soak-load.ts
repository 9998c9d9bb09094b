import type { LatencySummary } from "./soak-verdict.js";

/**
 * The soak's load: requests sent on a schedule fixed in advance (an open model, as
 * independent users send them: a slow answer does not hold the next request back),
 * and the latencies and statuses of the answers, gathered minute by minute.
 */

/** The value at or below which a share p of the sorted values lies (nearest rank); 0 for none. */
export function percentile(sorted: readonly number[], p: number): number {
  if (!sorted.length) return 0;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))]!;
}

export function summarize(values: readonly number[]): LatencySummary {
  const sorted = [...values].sort((a, b) => a - b);
  return { count: sorted.length, p50: percentile(sorted, 0.5), p99: percentile(sorted, 0.99) };
}

/** Latencies and statuses of the answers received since the last take(). */
export class MinuteRecorder {
  private latencies = new Map<string, number[]>();
  private statuses: Record<string, number> = {};

  /** status "failed": no answer (connection refused or reset, or the time limit ran out). */
  record(op: string, ms: number, status: number | "failed") {
    let list = this.latencies.get(op);
    if (!list) this.latencies.set(op, (list = []));
    list.push(ms);
    const key = String(status);
    this.statuses[key] = (this.statuses[key] ?? 0) + 1;
  }

  take(): { all: LatencySummary; ops: Record<string, LatencySummary>; statuses: Record<string, number> } {
    const ops: Record<string, LatencySummary> = {};
    for (const [op, list] of this.latencies) ops[op] = summarize(list);
    const out = { all: summarize([...this.latencies.values()].flat()), ops, statuses: this.statuses };
    this.latencies = new Map();
    this.statuses = {};
    return out;
  }
}

/**
 * Calls fire(scheduledAt) perSecond times a second from startAt until endAt (both on
 * performance.now()'s clock); resolves once the schedule is through. A timer that fires
 * late sends every request that fell due meanwhile, each with its own scheduled time,
 * so that the time lost waiting counts in its latency.
 */
export function fixedRate(perSecond: number, startAt: number, endAt: number, fire: (scheduledAt: number) => void): Promise<void> {
  const period = 1000 / perSecond;
  let n = 0;
  return new Promise((resolve) => {
    const step = () => {
      const now = performance.now();
      for (let at = startAt + n * period; at <= now && at < endAt; at = startAt + ++n * period) fire(at);
      const next = startAt + n * period;
      if (next >= endAt) return resolve();
      setTimeout(step, Math.max(0, next - performance.now()));
    };
    step();
  });
}
