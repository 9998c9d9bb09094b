import autocannon from "autocannon";
import { memoryOf } from "./processes.js";

export interface LoadResult {
  connections: number;
  seconds: number;
  /** Responses received. */
  requests: number;
  /** Requests sent, answered or not when the run ended. */
  sent: number;
  rps: number;
  p50: number;
  p99: number;
  /** Responses by HTTP status, plus connection errors and timeouts. */
  statuses: Record<string, number>;
  errors: number;
  timeouts: number;
  /** Largest RSS of the watched process seen during the run (sampled every 100 ms), MB. */
  peakRssMb?: number;
  /** Cores each part of the benchmark kept busy on average during the run. */
  cpu?: CpuShare;
}

export interface CpuShare {
  /** The process under load: the service, or the reference. */
  server: number;
  postgres: number;
  simulator: number;
  /** autocannon, in the benchmark's own process. */
  loadGenerator: number;
}

export interface LoadOptions {
  url: string;
  path: string;
  connections: number;
  seconds: number;
  headers: Record<string, string>;
  /** The next request body; shared by all connections, so they do not send the same one at once. */
  nextBody: () => string;
  /** A process whose peak RSS to measure over the run. */
  watchPid?: number;
}

/** Loads one route with autocannon (in this process) and summarises the run. */
export async function load(opts: LoadOptions): Promise<LoadResult> {
  let sampledPeak = 0;
  const sample = () => {
    if (opts.watchPid === undefined) return;
    try {
      sampledPeak = Math.max(sampledPeak, memoryOf(opts.watchPid).rssMb);
    } catch {
      // The process has exited (the benchmark is being stopped): the run's error says why.
    }
  };
  const sampler = setInterval(sample, 100);
  try {
    const result = await autocannon({
      url: opts.url,
      connections: opts.connections,
      duration: opts.seconds,
      timeout: 10,
      requests: [
        {
          method: "POST",
          path: opts.path,
          headers: { "content-type": "application/json", ...opts.headers },
          setupRequest: (req) => ({ ...req, body: opts.nextBody() }),
        },
      ],
    });
    sample();
    const statuses: Record<string, number> = {};
    for (const [status, { count }] of Object.entries(result.statusCodeStats ?? {})) statuses[status] = count ?? 0;
    return {
      connections: opts.connections,
      seconds: result.duration,
      requests: result.requests.total,
      sent: result.requests.sent,
      rps: result.requests.total / result.duration,
      p50: result.latency.p50,
      p99: result.latency.p99,
      statuses,
      errors: result.errors,
      timeouts: result.timeouts,
      peakRssMb: opts.watchPid === undefined ? undefined : sampledPeak,
    };
  } finally {
    clearInterval(sampler);
  }
}

/** Several runs of one load as one: rates, latencies and CPU shares averaged, counts added up. */
export function meanOf(runs: LoadResult[]): LoadResult {
  const mean = (f: (r: LoadResult) => number) => runs.reduce((sum, r) => sum + f(r), 0) / runs.length;
  const sum = (f: (r: LoadResult) => number) => runs.reduce((total, r) => total + f(r), 0);
  const statuses: Record<string, number> = {};
  for (const r of runs) for (const [k, n] of Object.entries(r.statuses)) statuses[k] = (statuses[k] ?? 0) + n;
  const cpus = runs.map((r) => r.cpu).filter((c): c is CpuShare => c !== undefined);
  const cpuMean = (f: (c: CpuShare) => number) => cpus.reduce((total, c) => total + f(c), 0) / cpus.length;
  return {
    connections: runs[0]!.connections,
    seconds: sum((r) => r.seconds),
    requests: sum((r) => r.requests),
    sent: sum((r) => r.sent),
    rps: mean((r) => r.rps),
    p50: mean((r) => r.p50),
    p99: mean((r) => r.p99),
    statuses,
    errors: sum((r) => r.errors),
    timeouts: sum((r) => r.timeouts),
    peakRssMb: Math.max(...runs.map((r) => r.peakRssMb ?? 0)),
    cpu: cpus.length
      ? { server: cpuMean((c) => c.server), postgres: cpuMean((c) => c.postgres), simulator: cpuMean((c) => c.simulator), loadGenerator: cpuMean((c) => c.loadGenerator) }
      : undefined,
  };
}
