import { fork, type ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
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
  opts: { nodeArgs?: string[]; stdout?: boolean; readyTimeoutMs?: number } = {},
): Promise<Child> {
  const child: ChildProcess = fork(fileURLToPath(new URL(script, import.meta.url)), [], {
    cwd: root,
    // tsx's loader, as `npm start` runs the service.
    execArgv: ["--import", "tsx", ...(opts.nodeArgs ?? [])],
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

/**
 * The child's side: answers requests with handlers, closes on { op: "close" } or when
 * the parent goes away.
 */
export function serveParent(handlers: Record<string, (msg: any) => unknown>, close: () => Promise<void>) {
  let closing = false;
  const shutdown = async (code: number) => {
    if (closing) return;
    closing = true;
    await close().catch(() => {});
    process.exit(code);
  };
  process.on("message", async (msg: { id?: number; op: string }) => {
    if (msg.op === "close") return shutdown(0);
    const handler = handlers[msg.op];
    try {
      if (!handler) throw new Error(`unknown op ${msg.op}`);
      const result = await handler(msg);
      process.send?.({ id: msg.id, result: result ?? null });
    } catch (err) {
      process.send?.({ id: msg.id, error: (err as Error).message });
    }
  });
  process.on("disconnect", () => void shutdown(1));
}

/** Memory of a process from /proc: the current and peak resident set, in MB. */
export function memoryOf(pid: number): { rssMb: number; peakMb: number } {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? NaN);
  return { rssMb: kb("VmRSS") / 1024, peakMb: kb("VmHWM") / 1024 };
}
