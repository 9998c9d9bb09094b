import { fork, type ChildProcess } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

/**
 * The benchmark's parts each run in their own process, so the service's memory is
 * its own and autocannon, the simulator and the reference do not share its event
 * loop. They talk to this process over Node's IPC channel: a child sends
 * { type: "ready", … } once listening, and answers { id, op, … } requests with
 * { id, result } or { id, error }. A child exits when the channel closes, so
 * nothing outlives the benchmark.
 */
export interface Child {
  pid: number;
  ready: Record<string, unknown>;
  call<T = unknown>(op: string, args?: Record<string, unknown>): Promise<T>;
  /** Asks the child to close and waits for it to exit (killed after the deadline). */
  stop(deadlineMs?: number): Promise<void>;
  /** The last lines the child wrote to stderr, for error reports. */
  stderr(): string;
}

const root = fileURLToPath(new URL("..", import.meta.url));

export async function startChild(
  script: string,
  env: Record<string, string>,
  opts: { nodeArgs?: string[]; args?: string[]; cwd?: string; stdout?: boolean; readyTimeoutMs?: number; plainNode?: boolean } = {},
): Promise<Child> {
  const child: ChildProcess = fork(fileURLToPath(new URL(script, import.meta.url)), opts.args ?? [], {
    cwd: opts.cwd ?? root,
    // tsx's loader for the TypeScript children; the service runs compiled, as in production.
    execArgv: [...(opts.plainNode ? [] : ["--import", "tsx"]), ...(opts.nodeArgs ?? [])],
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", TMPDIR: process.env.TMPDIR ?? "/tmp", ...env },
    stdio: ["ignore", opts.stdout ? "inherit" : "ignore", "pipe", "ipc"],
  });
  let errText = "";
  child.stderr?.on("data", (d: Buffer) => {
    errText = (errText + d.toString()).slice(-4000);
  });
  const pending = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();
  let nextId = 1;
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  void exited.then((code) => {
    for (const p of pending.values()) p.reject(new Error(`${script} exited (${code}) during a request: ${errText.trim()}`));
    pending.clear();
  });

  const ready = await new Promise<Record<string, unknown>>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${script} not ready within ${opts.readyTimeoutMs ?? 60_000} ms: ${errText.trim()}`)), opts.readyTimeoutMs ?? 60_000);
    child.on("message", (m: { type?: string; id?: number; result?: unknown; error?: string }) => {
      if (m.type === "ready") {
        clearTimeout(timer);
        resolve(m as Record<string, unknown>);
      } else if (m.id !== undefined) {
        const p = pending.get(m.id);
        pending.delete(m.id);
        if (m.error !== undefined) p?.reject(new Error(`${script}: ${m.error}`));
        else p?.resolve(m.result);
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`${script} exited (${code}) before it was ready: ${errText.trim()}`));
    });
  });

  return {
    pid: child.pid!,
    ready,
    stderr: () => errText,
    call<T>(op: string, args: Record<string, unknown> = {}) {
      const id = nextId++;
      return new Promise<T>((resolve, reject) => {
        // A child that has exited or is being stopped: a send would throw from an event, out of reach of the caller.
        if (!child.connected) return reject(new Error(`${script} is gone: cannot ${op}`));
        pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
        child.send({ id, op, ...args });
      });
    },
    async stop(deadlineMs = 10_000) {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const timer = setTimeout(() => child.kill("SIGKILL"), deadlineMs);
      if (child.connected) child.send({ op: "close" });
      else child.kill("SIGTERM");
      await exited;
      clearTimeout(timer);
    },
  };
}

export { serveParent } from "./serve-parent.mjs";

/** Memory of a process from /proc: the current and peak resident set, in MB. */
export function memoryOf(pid: number): { rssMb: number; peakMb: number } {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? NaN);
  return { rssMb: kb("VmRSS") / 1024, peakMb: kb("VmHWM") / 1024 };
}

/** CPU time (user + system) a process has used so far, in seconds; 0 once it is gone. */
export function cpuSecondsOf(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // Fields after the command name, which may hold spaces: utime and stime are the 12th and 13th.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
  } catch {
    return 0;
  }
}

/** The machine's CPU time so far, all cores together, from /proc/stat: idle (waiting on I/O included) and in all. */
export function machineCpuTimes(): { idle: number; total: number } {
  const f = readFileSync("/proc/stat", "utf8").split("\n")[0]!.trim().split(/\s+/).slice(1).map(Number);
  return { idle: f[3]! + (f[4] ?? 0), total: f.reduce((a, b) => a + b, 0) };
}

/** The share of the machine's CPU time not idle between two readings of machineCpuTimes(). */
export function busyShare(a: { idle: number; total: number }, b: { idle: number; total: number }): number {
  return 1 - (b.idle - a.idle) / Math.max(1, b.total - a.total);
}

/** USER_HZ, the unit of /proc's CPU times: 100 on every Linux this runs on. */
const CLOCK_TICKS = 100;

/** CPU time of every PostgreSQL process on the machine (backends, WAL writer, checkpointer), in seconds. */
export function postgresCpuSeconds(): number {
  let total = 0;
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/comm`, "utf8").trim() === "postgres") total += cpuSecondsOf(Number(entry));
    } catch {
      // The process ended between the listing and the read.
    }
  }
  return total;
}
