import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../src/config/index.js";

const production = {
  NODE_ENV: "production",
  API_KEYS: "k".repeat(32),
  SECRET_KEY: "s".repeat(40),
  PUBLIC_BASE_URL: "https://otp.example.com",
  TWILIO_ACCOUNT_SID: `AC${"0".repeat(32)}`,
  TWILIO_AUTH_TOKEN: "token",
  TWILIO_NUMBER: "+15005550006",
};

describe("configuration", () => {
  it("runs on its defaults with an empty environment: port 3000, ./data, the simulator", () => {
    const c = loadConfig({});
    expect(c.port).toBe(3000);
    expect(c.dataDir).toBe("./data");
    expect(c.carrier.name).toBe("simulator");
    expect(c.otp).toEqual({ length: 6, ttlSeconds: 600, maxAttempts: 5 });
    expect(c.databaseUrl).toBeUndefined();
    expect(Object.isFrozen(c) && Object.isFrozen(c.otp)).toBe(true);
  });

  it("names the variable and what it expects when a value is invalid", () => {
    expect(() => loadConfig({ PORT: "eighty" })).toThrow(ConfigError);
    expect(() => loadConfig({ PORT: "eighty" })).toThrow(/^PORT: .*eighty/);
    expect(() => loadConfig({ OTP_LENGTH: "12" })).toThrow(/^OTP_LENGTH:/);
    expect(() => loadConfig({ DATABASE_URL: "mysql://x" })).toThrow(/^DATABASE_URL: must be a postgres/);
    // A carrier the registry does not list (telnyx, the first test's example once, now is one).
    expect(() => loadConfig({ CARRIER: "plivo" })).toThrow(/^CARRIER:/);
    expect(() => loadConfig({ TELNYX_PUBLIC_KEY: "not-a-key" })).toThrow(/^TELNYX_PUBLIC_KEY: must be the base64 Ed25519 public key/);
  });

  it("never echoes a secret it refuses", () => {
    try {
      loadConfig({ SECRET_KEY: "short-secret-value" });
      expect.unreachable();
    } catch (err) {
      expect((err as Error).message).toMatch(/^SECRET_KEY:/);
      expect((err as Error).message).not.toContain("short-secret-value");
    }
  });

  it("picks the carrier whose credentials are present", () => {
    const { NODE_ENV: _, SECRET_KEY: __, ...twilio } = production;
    expect(loadConfig(twilio).carrier.name).toBe("twilio");
    expect(
      loadConfig({ API_KEYS: production.API_KEYS, SIGNALWIRE_PROJECT: "p", SIGNALWIRE_TOKEN: "t", SIGNALWIRE_SPACE: "x.signalwire.com", SIGNALWIRE_NUMBER: "+1" })
        .carrier.signalwire?.signingKey,
    ).toBe("t");
    expect(() => loadConfig({ CARRIER: "twilio" })).toThrow(/TWILIO_ACCOUNT_SID/);
    const telnyx = {
      API_KEYS: production.API_KEYS,
      TELNYX_API_KEY: "KEY0123",
      TELNYX_PUBLIC_KEY: Buffer.alloc(32, 7).toString("base64"),
      TELNYX_APPLICATION_ID: "1293384261075731499",
      TELNYX_NUMBER: "+13125550100",
    };
    expect(loadConfig(telnyx).carrier).toMatchObject({ name: "telnyx", telnyx: { applicationId: "1293384261075731499", from: "+13125550100" } });
    expect(() => loadConfig({ TELNYX_API_KEY: "KEY0123" })).toThrow(
      /^TELNYX_PUBLIC_KEY: required with CARRIER=telnyx \(missing: TELNYX_PUBLIC_KEY, TELNYX_APPLICATION_ID, TELNYX_NUMBER;/,
    );
    // Earlier in the registry wins when several carriers' variables are present.
    expect(loadConfig({ ...telnyx, TWILIO_NUMBER: "+15005550006", CARRIER: "telnyx" }).carrier.name).toBe("telnyx");
    expect(() => loadConfig({ ...telnyx, TWILIO_NUMBER: "+15005550006" })).toThrow(/^TWILIO_ACCOUNT_SID: required with CARRIER=twilio/);
  });

  it("in production refuses to start without API keys, a secret key, real carrier credentials or a public URL", () => {
    expect(loadConfig(production).production).toBe(true);
    expect(() => loadConfig({ ...production, API_KEYS: "" })).toThrow(/^API_KEYS: required/);
    expect(() => loadConfig({ ...production, SECRET_KEY: "" })).toThrow(/^SECRET_KEY: required/);
    expect(() => loadConfig({ ...production, PUBLIC_BASE_URL: "" })).toThrow(/^PUBLIC_BASE_URL: required/);
    expect(() => loadConfig({ ...production, CARRIER: "simulator" })).toThrow(/^CARRIER: the simulator/);
    expect(loadConfig({ ...production, CARRIER: "simulator", ALLOW_SIMULATOR_IN_PRODUCTION: "true" }).carrier.name).toBe(
      "simulator",
    );
    expect(() => loadConfig({ ...production, TWILIO_AUTH_TOKEN: "" })).toThrow(/TWILIO_AUTH_TOKEN/);
  });

  it("refuses API keys too short to resist guessing", () => {
    expect(() => loadConfig({ API_KEYS: "abc" })).toThrow(/^API_KEYS: every key/);
    expect(loadConfig({ API_KEYS: ` ${"a".repeat(16)} , ${"b".repeat(20)} ` }).apiKeys).toEqual(["a".repeat(16), "b".repeat(20)]);
  });
});

describe("documentation of the configuration", () => {
  it("lists every variable in .env.example and in the README's table", async () => {
    const { readFile } = await import("node:fs/promises");
    const { ENV_VARIABLES } = await import("../src/config/index.js");
    const example = await readFile(new URL("../.env.example", import.meta.url), "utf8");
    const readme = await readFile(new URL("../README.md", import.meta.url), "utf8");
    const documented = new Set([...example.matchAll(/^# ([A-Z][A-Z0-9_]+)=/gm)].map((m) => m[1]));
    const table = new Set([...readme.matchAll(/^\| `([A-Z][A-Z0-9_]+)` \|/gm)].map((m) => m[1]));
    for (const name of ENV_VARIABLES) {
      expect(documented, `.env.example lacks ${name}`).toContain(name);
      expect(table, `README table lacks ${name}`).toContain(name);
    }
    for (const name of documented) expect(ENV_VARIABLES, `.env.example documents unknown ${name}`).toContain(name);
  });
});
