import { execFileSync, spawn } from "node:child_process";
import { readdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { postgresAvailable } from "./helpers/databases.js";

// The benchmark needs PostgreSQL; in CI postgresAvailable() throws when it is down.
const hasPostgres = await postgresAvailable();
const root = fileURLToPath(new URL("..", import.meta.url));

/** Runs the benchmark in a child process; resolves with its exit code and output. */
function runBench(args: string[], timeoutMs: number): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", "bench/run.ts", ...args], {
      cwd: root,
      env: { ...process.env, NODE_OPTIONS: "" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    // SIGINT lets the benchmark stop its children and drop its database.
    const timer = setTimeout(() => child.kill("SIGINT"), timeoutMs);
    child.on("error", reject);
    child.on("exit", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

// Not a performance test: no figure is checked, only that the benchmark runs end to end.
describe.skipIf(!hasPostgres)("npm run bench", () => {
  it("runs a one-second version of every scenario and prints its table", async () => {
    // About 20 s alone; slower beside the other suites' servers, hence the margin.
    const { code, stdout, stderr } = await runBench(["--quick", "--duration", "1", "--no-write"], 150_000);
    expect(stderr).not.toMatch(/benchmark failed/);
    expect(code).toBe(0);
    expect(stdout).toMatch(/^\| scenario \| connections \| req\/s \| p50 ms \| p99 ms \|/m);
    for (const row of [
      "validate-auth, mix of right/wrong/unknown",
      "validation reference: bare Hono + postgres, one UPDATE",
      "reference: bare Hono + postgres, one INSERT, the same create-call request",
      "request-auth, instant carrier, phone rings",
      "request-auth, carrier accepts in 300 ms, phone rings",
      "request-auth, whole calls",
      "peak RSS of the service process",
    ]) {
      expect(stdout).toContain(`| ${row}`);
    }
    expect(stdout).toMatch(/machine: .+ cores/);
    expect(stdout).toMatch(/^Targets, relative to the references measured in this run: \d of 5 met\.$/m);
  }, 160_000);

  it("with --against, runs that revision's service too and compares the two", async () => {
    // HEAD: a revision every checkout has; two builds and every scenario twice.
    const { code, stdout, stderr } = await runBench(["--quick", "--duration", "1", "--no-write", "--against", "HEAD"], 280_000);
    expect(stderr).not.toMatch(/benchmark failed/);
    expect(code).toBe(0);
    const sha = execFileSync("git", ["rev-parse", "HEAD"], { cwd: root, encoding: "utf8" }).slice(0, 7);
    expect(stdout).toMatch(new RegExp(`^\\| scenario \\|.* \\| met\\? \\| current / against ${sha} \\|$`, "m"));
    expect(stdout).toMatch(/^\| validate-auth, mix of right\/wrong\/unknown \|.* \| req\/s \d+\.\d\d×, p99 \d+\.\d\d× \(against: /m);
    // Its worktree is gone, and so is git's record of it.
    expect(readdirSync(`${root}bench/tmp`).filter((f) => f.startsWith("against-"))).toEqual([]);
    expect(execFileSync("git", ["worktree", "list"], { cwd: root, encoding: "utf8" })).not.toContain("bench/tmp/against-");
  }, 300_000);
});
