import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { API_ERRORS } from "./helpers/api-errors.js";
import { startPhoneLine, type PhoneLine } from "./helpers/phone-line.js";
import { ROOT } from "./helpers/process.js";
import { API_KEY, startTestService, type TestService } from "./helpers/service.js";

/** Debian's interpreter, not whichever python3 comes first on PATH: the client promises the standard library only. */
const PYTHON = "/usr/bin/python3";
const CLIENT_DIR = join(ROOT, "clients/python");
const ADMIN_KEY = "admin-key-0123456789abcdef";

/** What a Python test can make a number's phone do (PUT /phones/{number} on the phone line). */
const OUTCOMES = {
  "carrier-refuses": API_ERRORS.invalidNumber,
  "carrier-fails": API_ERRORS.serverError,
  "carrier-silent": { kind: "api-timeout" },
} as const;

/** Runs a command without blocking the event loop: the service it talks to runs in this process. */
function run(cmd: string, args: string[], opts: { cwd: string; env: Record<string, string> }): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: opts.cwd, env: opts.env, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (d: Buffer) => (output += d.toString()));
    child.stderr.on("data", (d: Buffer) => (output += d.toString()));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, output }));
  });
}

describe("the Python client (clients/python) against the real service", () => {
  let t: TestService;
  let phones: PhoneLine;
  beforeAll(async () => {
    t = await startTestService({
      db: "pglite",
      carrier: "twilio",
      env: {
        CARRIER_TIMEOUT_MS: "500",
        ADMIN_API_KEYS: ADMIN_KEY,
        ALLOW_PRIVATE_WEBHOOKS: "true",
        // So that a test can have the call read a code of its own (request_auth(code=...)).
        ALLOW_CUSTOM_CODE: "true",
        // Every test number shares one prefix; the prefix limit has its own tests.
        CALLS_PER_PREFIX_PER_HOUR: "1000",
      },
    });
    phones = await startPhoneLine(t.simulator, OUTCOMES);
  });
  afterAll(async () => {
    await phones?.close();
    await t?.close();
  });

  it("passes its unittest suite under Debian's python3", async () => {
    expect(existsSync(PYTHON), `${PYTHON} is missing: install Debian's python3 (apt-get install python3)`).toBe(true);
    const { code, output } = await run(PYTHON, ["-m", "unittest", "discover", "-s", "tests", "-v"], {
      cwd: CLIENT_DIR,
      env: {
        PATH: process.env.PATH ?? "/usr/bin:/bin",
        HOME: process.env.HOME ?? "/tmp",
        // No __pycache__ left in the checkout.
        PYTHONDONTWRITEBYTECODE: "1",
        VOICE_OTP_URL: t.service.url,
        VOICE_OTP_API_KEY: API_KEY,
        VOICE_OTP_ADMIN_KEY: ADMIN_KEY,
        VOICE_OTP_TEST_PHONES: phones.url,
      },
    });
    expect(code, output).toBe(0);
    // Every test ran: none was skipped for want of the service.
    expect(output).toMatch(/^Ran \d+ tests/m);
    expect(output, output).not.toMatch(/skipped 'set VOICE_OTP_URL/);
  });
});
