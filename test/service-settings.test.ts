import { readFile } from "node:fs/promises";
import { describe, expect, it } from "vitest";
import { loadConfig } from "../src/config/index.js";
import { checkSettings, defaultService, describeSettings, serviceSettings, SETTING_NAMES, SETTINGS, SettingError } from "../src/services/settings.js";

const config = loadConfig({ NODE_ENV: "test", ORG_NAME: "Default Co", LANGUAGE: "es-MX", VOICE: "Polly.Mia", CALLS_PER_NUMBER_PER_DAY: "7" });
const base = defaultService(config);
const stored = (settings: Record<string, unknown>) => ({ id: "svc_x", name: "x", settings });

function refusal(given: Record<string, unknown>, carrier: "twilio" | "telnyx" = "twilio"): { field: string; message: string } {
  try {
    serviceSettings(base, stored(checkSettings(given)), carrier);
  } catch (err) {
    if (err instanceof SettingError) return { field: err.field, message: err.message };
    throw err;
  }
  throw new Error(`accepted: ${JSON.stringify(given)}`);
}

describe("a service's settings", () => {
  it("are the default service's where the service sets none", () => {
    const s = serviceSettings(base, stored({ org_name: "Shop", code_length: 8 }), "twilio");
    expect(describeSettings(s)).toEqual({ ...describeSettings(base), org_name: "Shop", code_length: 8 });
    expect(s.limits.callsPerNumberPerDay).toBe(7);
    expect([s.id, s.name]).toEqual(["svc_x", "x"]);
  });

  it("refuse a value the environment variable would refuse, naming the setting", () => {
    expect(refusal({ code_length: 3 }).field).toBe("code_length");
    expect(refusal({ code_length: "6" })).toEqual({ field: "code_length", message: "code_length: must be an integer" });
    expect(refusal({ allowed_countries: ["UK"] }).message).toMatch(/allowed_countries: "UK" is not an ISO 3166-1 alpha-2 country code \(the United Kingdom is GB\)/);
    expect(refusal({ blocked_prefixes: ["1900"] }).field).toBe("blocked_prefixes");
    expect(refusal({ language: "es-AR" }).field).toBe("language");
    expect(refusal({ gate: "yes" }).field).toBe("gate");
    expect(refusal({ calls_per_day: 0 }).field).toBe("calls_per_day");
    expect(refusal({ org_name: "" }).field).toBe("org_name");
    expect(refusal({ colour: "blue" }).message).toMatch(/^colour: not a setting; use one of org_name, /);
  });

  it("check a voice against the service's language and the carrier", () => {
    expect(refusal({ language: "de", voice: "Polly.Mia" }).message).toMatch(/^voice: Polly.Mia speaks es-MX, not de-DE \(language\)/);
    expect(serviceSettings(base, stored({ language: "de", voice: "Polly.Vicki" }), "twilio").voice).toBe("Polly.Vicki");
    // Telnyx has no Google voices.
    expect(refusal({ language: "en", voice: "Google.en-US-Neural2-A" }, "telnyx").field).toBe("voice");
    // Another language without a voice of its own speaks that language's default, not the default service's voice.
    expect(serviceSettings(base, stored({ language: "fr" }), "twilio").voice).toBeUndefined();
    expect(serviceSettings(base, stored({ org_name: "Shop" }), "twilio").voice).toBe("Polly.Mia");
    expect(serviceSettings(base, stored({ voice: null }), "twilio").voice).toBeUndefined();
  });

  it("speak the service's language alone unless it lists others", () => {
    expect(serviceSettings(base, stored({ language: "fr" }), "twilio").languages).toEqual(["fr"]);
    expect(serviceSettings(base, stored({ language: "fr", languages: ["fr", "en-GB"] }), "twilio").languages).toEqual(["fr", "en-GB"]);
    expect(base.languages).toEqual(["es-MX"]);
  });

  it("drop a null, which resets the setting to the default service's", () => {
    expect(checkSettings({ org_name: null, code_length: 8 })).toEqual({ code_length: 8 });
  });

  it("are listed in the README with the variable that sets each for the default service", async () => {
    const readme = await readFile(new URL("../README.md", import.meta.url), "utf8");
    const table = SETTING_NAMES.map((n) => `| \`${n}\` | \`${SETTINGS[n].variable}\` |`).join("\n");
    expect(readme, `README.md should hold:\n${table}`).toContain(table);
  });
});
