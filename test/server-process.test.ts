import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { runScript, type Proc } from "./helpers/process.js";

/** The service as `npm start` runs it: a real process, its real defaults, its real console. */
describe("the service process", () => {
  const dirs: string[] = [];
  const services: Proc[] = [];
  afterAll(async () => {
    // A failed expectation leaves the service running: it must not outlive the suite.
    for (const p of services) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill("SIGKILL");
    await Promise.all(services.map((p) => p.exited));
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  it("stops at once with a one-line message naming a bad variable", async () => {
    const p = runScript("src/server.ts", { PORT: "eighty" });
    expect(await p.exited).toBe(1);
    expect(p.stderr().trim()).toMatch(/^voice-otp: configuration error: PORT: .*eighty/);
    expect(p.stderr().trim().split("\n")).toHaveLength(1);
  });

  it("refuses to start in production without API keys", async () => {
    const p = runScript("src/server.ts", { NODE_ENV: "production" });
    expect(await p.exited).toBe(1);
    expect(p.stderr()).toMatch(/API_KEYS: required when NODE_ENV=production/);
  });

  it(
    "runs on embedded defaults within 400 MB, completes the README's three-command trip, and stops cleanly on SIGTERM",
    { timeout: 90_000 },
    async () => {
      const parent = await mkdtemp(join(tmpdir(), "voice-otp-"));
      dirs.push(parent);
      const dataDir = join(parent, "data");
      const p = runScript("src/server.ts", { PORT: "0", DATA_DIR: dataDir, LOG_LEVEL: "info" });
      services.push(p);
      const listening = JSON.parse(await p.waitFor(/voice-otp listening/, 60_000));
      const base = `http://127.0.0.1:${listening.port}`;
      expect(p.stdout()).toMatch(/NO API KEYS/);
      // src/db/pglite-memory.ts: a small page cache, and the memory of creating the database left to a child process.
      if (process.platform === "linux") expect(await residentMB(p.child.pid!), "MB resident once listening").toBeLessThan(400);

      expect((await fetch(`${base}/healthz`)).status).toBe(200);
      const created = await fetch(`${base}/request-auth`, {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: "number=%2B14155550123",
      });
      expect(created.status).toBe(201);
      const heard = await p.waitFor(/the phone heard/, 20_000);
      const code = /Your code is:?\s*([\d.\s]+?)\s*Again/.exec(JSON.parse(heard).msg)![1]!.replace(/\D/g, "");
      expect(code).toMatch(/^\d{6}$/);
      // The service's own lines never carry the code: only the simulated phone's transcript does.
      const serviceLines = p.stdout().split("\n").filter((l) => l && !l.includes("the phone heard"));
      expect(serviceLines.join("\n")).not.toContain(code);
      expect(serviceLines.join("\n")).not.toContain("+14155550123");

      const ok = await fetch(`${base}/validate-auth`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ number: "+14155550123", auth_code: code }),
      });
      expect(ok.status).toBe(200);

      p.child.kill("SIGTERM");
      expect(await p.exited).toBe(0);
      expect(p.stdout()).toMatch(/"msg":"stopped"/);
    },
  );
});

async function residentMB(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, "utf8");
  return Number(/^VmRSS:\s+(\d+) kB/m.exec(status)![1]) / 1024;
}
