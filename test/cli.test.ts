import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runScript } from "./helpers/process.js";
import { API_KEY, codeHeard, startTestService, type TestService } from "./helpers/service.js";

const CLI = "src/cli/main.ts";

async function run(args: string[], env: Record<string, string> = {}) {
  const p = runScript(CLI, env, args);
  const code = await p.exited;
  return { code, stdout: p.stdout(), stderr: p.stderr() };
}

describe("the voice-otp command line", () => {
  it("explains every command with --help, and refuses unknown ones", async () => {
    const top = await run(["--help"]);
    expect(top.code).toBe(0);
    // Each run starts a process: they run side by side.
    const commands = ["serve", "migrate", "keys", "services", "simulate", "call", "challenges", "stats"];
    const [helps, unknown, noName, badConfig] = await Promise.all([
      Promise.all(commands.map((command) => run([command, "--help"]))),
      run(["dance"]),
      run(["keys", "create"]),
      run(["migrate"], { OTP_LENGTH: "3" }),
    ]);
    commands.forEach((command, i) => {
      expect(top.stdout).toContain(command);
      expect(helps[i]!.code, command).toBe(0);
      expect(helps[i]!.stdout).toMatch(new RegExp(`^usage: voice-otp ${command}`));
    });
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/^voice-otp: unknown command "dance"/);
    expect(noName.code).toBe(1);
    expect(noName.stderr).toBe("voice-otp: keys create needs a NAME\n");
    expect(badConfig.code).toBe(1);
    expect(badConfig.stderr).toMatch(/^voice-otp: configuration error: OTP_LENGTH:/);
  }, 180_000);

  it("migrates a fresh data directory", async () => {
    const dir = await mkdtemp(join(tmpdir(), "voice-otp-cli-"));
    try {
      const res = await run(["migrate"], { DATA_DIR: dir });
      expect(res.code).toBe(0);
      expect(res.stdout).toBe(`voice-otp: migrations applied (PGlite in ${dir})\n`);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 60_000);

  it("keys list and revoke say there is no database where DATA_DIR points, and create none", async () => {
    const parent = await mkdtemp(join(tmpdir(), "voice-otp-cli-"));
    const dir = join(parent, "data");
    try {
      for (const args of [["keys", "list"], ["keys", "revoke", "ops"]]) {
        const res = await run(args, { DATA_DIR: dir });
        expect(res.code, args.join(" ")).toBe(1);
        expect(res.stderr).toBe(
          `voice-otp: no database in ${dir} (DATA_DIR): set DATA_DIR to the service's data directory, or DATABASE_URL to its PostgreSQL\n`,
        );
        expect(existsSync(dir), "the data directory was created").toBe(false);
      }
    } finally {
      await rm(parent, { recursive: true, force: true });
    }
  }, 60_000);

  describe("call", () => {
    let t: TestService;
    beforeAll(async () => {
      t = await startTestService({ db: "pglite", carrier: "twilio" });
    });
    afterAll(() => t?.close());

    it("requests a call, takes the code heard on stdin, and reports the verdict", async () => {
      const p = runScript(CLI, { VOICE_OTP_URL: t.service.url, VOICE_OTP_API_KEY: API_KEY }, ["call", "(212) 555-0190"]);
      await p.waitFor(/^calling \+12125550190 \(challenge ch_/);
      const call = await t.simulator.waitForCall({ to: "+12125550190" });
      const code = codeHeard(call.heard);
      await p.waitFor(/code heard: $/);
      p.child.stdin!.write(`${code === "000000" ? "111111" : "000000"}\n`);
      await p.waitFor(/denied: incorrect \(4 attempts left\)/);
      p.child.stdin!.write(`${code}\n`);
      await p.waitFor(/approved: the number is verified/);
      expect(await p.exited).toBe(0);
    }, 60_000);

    it("fails with the service's error and a non-zero exit", async () => {
      const res = await run(["call", "+19005550123", "--url", t.service.url, "--key", API_KEY]);
      expect(res.code).toBe(1);
      expect(res.stderr).toMatch(/^voice-otp: destination_not_allowed: number: numbers starting \+1900 are blocked/);
      const noKey = await run(["call", "+12125550191", "--url", t.service.url]);
      expect(noKey.code).toBe(1);
      expect(noKey.stderr).toMatch(/unauthorized/);
    }, 60_000);
  });
});

describe("the built package", () => {
  it("exports voice-otp/client and voice-otp/better-auth with declarations, and the voice-otp bin runs", async () => {
    const { execFile } = await import("node:child_process");
    const { promisify } = await import("node:util");
    const { readFile } = await import("node:fs/promises");
    const exec = promisify(execFile);
    const { ROOT } = await import("./helpers/process.js");
    await exec(process.execPath, [join(ROOT, "node_modules/typescript/bin/tsc"), "-p", "tsconfig.build.json"], { cwd: ROOT });

    const { stdout } = await exec(
      process.execPath,
      ["--input-type=module", "-e", "const m = await import('voice-otp/client'); console.log(Object.keys(m).sort().join(','))"],
      { cwd: ROOT },
    );
    expect(stdout.trim().split(",")).toEqual(
      expect.arrayContaining(["VoiceOtpClient", "RateLimitedError", "InvalidNumberError", "UnauthorizedError", "CarrierError", "ServiceUnavailableError"]),
    );
    expect(await readFile(join(ROOT, "dist/client/index.d.ts"), "utf8")).toContain("export declare class VoiceOtpClient");
    // No runtime dependencies: the built client imports only itself.
    for (const file of ["index.js", "errors.js"]) {
      const js = await readFile(join(ROOT, "dist/client", file), "utf8");
      for (const m of js.matchAll(/from\s+["']([^"']+)["']/g)) expect(m[1]).toMatch(/^\.\/[\w-]+\.js$/);
    }
    // voice-otp/better-auth loads where better-auth is not installed (a resolver that refuses it stands in).
    const withoutBetterAuth = await exec(
      process.execPath,
      [
        "--input-type=module",
        "-e",
        `import { register } from "node:module";
         register("data:text/javascript,export async function resolve(s, c, next) { if (s.startsWith('better-auth')) throw new Error('not installed: ' + s); return next(s, c); }");
         const m = await import("voice-otp/better-auth");
         console.log(typeof m.voiceOtpSendOTP, typeof m.voiceOtpSendOTP({ baseUrl: "http://localhost:3000" }));`,
      ],
      { cwd: ROOT },
    );
    expect(withoutBetterAuth.stdout.trim()).toBe("function function");
    expect(await readFile(join(ROOT, "dist/integrations/better-auth.d.ts"), "utf8")).toContain("export declare function voiceOtpSendOTP");
    const help = await exec(process.execPath, [join(ROOT, "dist/cli/main.js"), "--help"], { cwd: ROOT });
    expect(help.stdout).toMatch(/^usage: voice-otp <command>/);
  }, 120_000);
});
