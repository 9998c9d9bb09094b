import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { describe, expect, it } from "vitest";
import { CARRIERS } from "../src/carriers/registry.js";
import { CARRIER_ENV } from "./helpers/carrier-env.js";
import { ConfigError, loadConfig } from "../src/config/index.js";
import { baseLanguage, PHRASES } from "../src/voice/phrases.js";
import { carrierName, parseVoice, tableName, voicesOfTag } from "../src/voice/voice-names.js";
import { LANGUAGE_TAGS, VOICES } from "../src/voice/voices.js";

const production = {
  NODE_ENV: "production",
  API_KEYS: "k".repeat(32),
  SECRET_KEY: "s".repeat(40),
  PUBLIC_BASE_URL: "https://otp.example.com",
  METRICS_TOKEN: "m".repeat(32),
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

  it("in production refuses to start without API keys, a secret key, a metrics token, real carrier credentials or a public URL", () => {
    expect(loadConfig(production).production).toBe(true);
    expect(() => loadConfig({ ...production, API_KEYS: "" })).toThrow(/^API_KEYS: required/);
    expect(() => loadConfig({ ...production, SECRET_KEY: "" })).toThrow(/^SECRET_KEY: required/);
    expect(() => loadConfig({ ...production, PUBLIC_BASE_URL: "" })).toThrow(/^PUBLIC_BASE_URL: required/);
    // Open metrics would tell anyone the traffic and the carrier's failures; disabled ones would fail scrapes silently.
    expect(() => loadConfig({ ...production, METRICS_TOKEN: "" })).toThrow(/^METRICS_TOKEN: required when NODE_ENV=production \(.*openssl rand -hex 32\)$/);
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

/** A string union of twilio's TwiML types (VoiceResponse.d.ts): Twilio's own list of what <Say> takes. */
async function twimlUnion(name: "SayVoice" | "SayLanguage"): Promise<Set<string>> {
  const dts = createRequire(import.meta.url).resolve("twilio/lib/twiml/VoiceResponse.d.ts");
  const text = await readFile(dts, "utf8");
  const union = new RegExp(`type ${name} = ([^;]+);`).exec(text)?.[1] ?? "";
  return new Set([...union.matchAll(/"([^"]+)"/g)].map((m) => m[1]!));
}

describe("configuration that would break calls is refused at startup", () => {
  it("refuses a VOICE that does not speak LANGUAGE, and says what to set instead", () => {
    expect(() => loadConfig({ LANGUAGE: "es-MX", VOICE: "Polly.Joanna" })).toThrow(
      /^VOICE: Polly\.Joanna speaks en-US, not es-MX \(LANGUAGE\); set VOICE to one of Polly\.Mia, Polly\.Mia-Neural, Polly\.Mía-Generative or leave it unset for Polly\.Mia, or set LANGUAGE=en-US$/,
    );
    expect(() => loadConfig({ LANGUAGE: "de", VOICE: "Google.fr-FR-Neural2-A" })).toThrow(/^VOICE: Google\.fr-FR-Neural2-A speaks fr-FR, not de-DE .*Polly\.Vicki/);
    expect(() => loadConfig({ VOICE: "Polly.Nobody" })).toThrow(/^VOICE: Polly\.Nobody is not a voice src\/voice\/voices\.ts lists .*leave it unset for Polly\.Joanna$/);
    expect(() => loadConfig({ VOICE: "Joanna" })).toThrow(/^VOICE: "Joanna" is not a voice name/);
    // Basic voices speak what their carrier lists: Twilio's man has no Portuguese, Telnyx's woman only en-US.
    expect(() => loadConfig({ LANGUAGE: "pt", VOICE: "man" })).toThrow(/^VOICE: man speaks only en-US, .* on Twilio, not pt-BR \(LANGUAGE\); for pt-BR set VOICE to one of Polly\.Camila/);
    expect(() => loadConfig({ ...CARRIER_ENV.telnyx, LANGUAGE: "fr", VOICE: "woman" })).toThrow(/^VOICE: woman speaks only en-US on Telnyx, not fr-FR/);
    expect(loadConfig({ LANGUAGE: "fr", VOICE: "woman" }).voice.voice).toBe("woman");
    expect(() => loadConfig({ LANGUAGE: "es-MX", VOICE: "Polly.Joanna" })).toThrow(ConfigError);
    // A voice of the language, in any case, is kept in the table's spelling.
    expect(loadConfig({ LANGUAGE: "es_mx", VOICE: "polly.mia-neural" }).voice).toMatchObject({ language: "es-MX", voice: "Polly.Mia-Neural" });
  });

  it("keeps a regional LANGUAGE as its own tag, and refuses one no voice speaks rather than speaking another region", () => {
    expect(loadConfig({ LANGUAGE: "es_MX" }).voice.language).toBe("es-MX");
    expect(loadConfig({ LANGUAGE: "EN" }).voice.language).toBe("en");
    expect(() => loadConfig({ LANGUAGE: "es-AR" })).toThrow(/^LANGUAGE: no voice here speaks it; set LANGUAGE to es or one of es-ES, es-MX, es-US \(got "es-AR"\)$/);
    expect(() => loadConfig({ LANGUAGE: "xx" })).toThrow(/^LANGUAGE: must be one of en, es, fr, de, pt, .*, or a regional tag such as es-MX/);
  });

  it("writes a Google voice as the carrier names it (Google. on Twilio, gcloud. on SignalWire), and refuses what the carrier lacks", () => {
    expect(loadConfig({ ...CARRIER_ENV.twilio, VOICE: "Google.en-US-Neural2-A" }).voice.voice).toBe("Google.en-US-Neural2-A");
    expect(loadConfig({ ...CARRIER_ENV.twilio, VOICE: "gcloud.en-US-Neural2-A" }).voice.voice).toBe("Google.en-US-Neural2-A");
    expect(loadConfig({ ...CARRIER_ENV.signalwire, VOICE: "Google.en-US-Neural2-A" }).voice.voice).toBe("gcloud.en-US-Neural2-A");
    expect(loadConfig({ ...CARRIER_ENV.signalwire, LANGUAGE: "es", VOICE: "gcloud.es-US-Neural2-B" }).voice.voice).toBe("gcloud.es-US-Neural2-B");
    expect(() => loadConfig({ ...CARRIER_ENV.telnyx, VOICE: "Google.en-US-Neural2-A" })).toThrow(
      /^VOICE: Telnyx has no Google voices; for en-US set VOICE to one of Polly\.Ivy, .* or leave it unset for Polly\.Joanna$/,
    );
    expect(() => loadConfig({ ...CARRIER_ENV.signalwire, VOICE: "Polly.Joanna-Generative" })).toThrow(/^VOICE: SignalWire has no generative Polly voices; .*gcloud\.en-US-Standard-A/);
    expect(loadConfig({ ...CARRIER_ENV.twilio, VOICE: "Polly.Joanna-Generative" }).voice.voice).toBe("Polly.Joanna-Generative");
  });

  it("cuts SIGNALWIRE_SPACE to the bare host when given as a URL, and refuses what is not one", () => {
    const space = (SIGNALWIRE_SPACE: string) => loadConfig({ ...CARRIER_ENV.signalwire, SIGNALWIRE_SPACE }).carrier.signalwire?.space;
    expect(space("https://example.signalwire.com/")).toBe("example.signalwire.com");
    expect(space("https://Example.SignalWire.com")).toBe("example.signalwire.com");
    expect(space("example.signalwire.com/")).toBe("example.signalwire.com");
    expect(space(" example.signalwire.com ")).toBe("example.signalwire.com");
    expect(() => space("ftp://example.signalwire.com")).toThrow(/^SIGNALWIRE_SPACE: must be your space's host name, such as example\.signalwire\.com/);
    expect(() => space("example.signalwire.com/api/laml")).toThrow(/^SIGNALWIRE_SPACE: must be/);
  });

  it("takes only ISO 3166-1 alpha-2 codes in ALLOWED_COUNTRIES and DEFAULT_COUNTRY, naming the bad entry", () => {
    expect(() => loadConfig({ ALLOWED_COUNTRIES: "US,UK" })).toThrow(
      /^ALLOWED_COUNTRIES: "UK" is not an ISO 3166-1 alpha-2 country code \(the United Kingdom is GB\); name countries as two letters such as US,CA,GB/,
    );
    expect(() => loadConfig({ ALLOWED_COUNTRIES: "US,XX" })).toThrow(/^ALLOWED_COUNTRIES: "XX" is not an ISO 3166-1 alpha-2 country code;/);
    expect(() => loadConfig({ ALLOWED_COUNTRIES: "usa" })).toThrow(/^ALLOWED_COUNTRIES: "usa" is not/);
    expect(() => loadConfig({ DEFAULT_COUNTRY: "UK" })).toThrow(/^DEFAULT_COUNTRY: "UK" is not an ISO 3166-1 alpha-2 country code/);
    expect(loadConfig({ ALLOWED_COUNTRIES: "us, gb,XK" }).destinations.allowedCountries).toEqual(["US", "GB", "XK"]);
    expect(loadConfig({ DEFAULT_COUNTRY: "gb" }).defaultCountry).toBe("GB");
  });
});

/**
 * Polly tags and voices newer than the TwiML list of the twilio package we use (6.2), which
 * Amazon's own list has (test/languages.test.ts holds that list): they cannot be checked
 * against Twilio here, and the README says so. Each entry must still be missing from
 * TwiML's list, so that one Twilio adds is checked again.
 */
const NEWER_THAN_TWIML = { tags: ["de-CH", "en-SG", "yue-CN"], voices: ["Polly.Jitka-Neural", "Polly.Sabrina-Neural", "Polly.Jasmine-Neural"] };

describe("the table of voices (src/voice/voices.ts)", () => {
  it("lists, for Twilio, only voices and tags Twilio's TwiML names, and every Google voice it names for those tags", async () => {
    const [sayVoice, sayLanguage] = await Promise.all([twimlUnion("SayVoice"), twimlUnion("SayLanguage")]);
    expect(sayVoice.size).toBeGreaterThan(500);
    for (const tag of NEWER_THAN_TWIML.tags) expect(sayLanguage).not.toContain(tag);
    for (const voice of NEWER_THAN_TWIML.voices) expect(sayVoice).not.toContain(voice);
    for (const tag of LANGUAGE_TAGS) {
      if (!NEWER_THAN_TWIML.tags.includes(tag)) expect(sayLanguage, `TwiML has no language ${tag}`).toContain(tag);
      const listed = voicesOfTag(tag).map((v) => carrierName(v, CARRIERS.twilio.voices)!);
      for (const voice of listed.filter((v) => !NEWER_THAN_TWIML.voices.includes(v))) expect(sayVoice, `TwiML has no voice ${voice}`).toContain(voice);
      const googleOfTag = [...sayVoice].filter((v) => v.startsWith(`Google.${tag}-`));
      expect(listed.filter((v) => v.startsWith("Google.")).sort()).toEqual(googleOfTag.sort());
    }
  });

  it("has phrases for every tag's language, and a default voice of the tag that every carrier speaks", () => {
    for (const tag of LANGUAGE_TAGS) {
      expect(Object.keys(PHRASES)).toContain(baseLanguage(tag));
      const voice = parseVoice(VOICES[tag]!.defaultVoice)!;
      expect(voicesOfTag(tag).map(tableName)).toContain(tableName(voice));
      for (const carrier of Object.values(CARRIERS)) expect(carrierName(voice, carrier.voices), `${carrier.title}, ${tag}`).toBe(VOICES[tag]!.defaultVoice);
    }
    for (const p of Object.values(PHRASES)) expect(LANGUAGE_TAGS).toContain(p.tag);
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
