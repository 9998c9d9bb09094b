import { getCountries } from "libphonenumber-js/max";
import { describe, it, expect } from "vitest";
import { parsePhone, type PhoneNumber } from "../src/phone.js";
import { languageForNumber, NUMBER_LANGUAGES } from "../src/voice/number-language.js";
import { resolveLanguage } from "../src/voice/phrases.js";

function phone(e164: string, country: string): PhoneNumber {
  const parsed = parsePhone(e164, "US");
  // A number parsePhone refuses would never reach languageForNumber: the test would prove nothing.
  if (!parsed.ok) throw new Error(`${e164}: ${parsed.reason}`);
  if (parsed.phone.country !== country) throw new Error(`${e164} is ${parsed.phone.country}, not ${country}`);
  return parsed.phone;
}

describe("languageForNumber", () => {
  const montreal = phone("+15145550123", "CA");
  const quebecCity = phone("+14182661234", "CA");
  const toronto = phone("+14163611234", "CA");
  const mexicoCity = phone("+525512345678", "MX");
  const berlin = phone("+493012345678", "DE");
  const washington = phone("+12025550123", "US");
  const tokyo = phone("+81312345678", "JP");
  const bangkok = phone("+6621234567", "TH");

  it("speaks French to Quebec, in the form the service allows", () => {
    expect(languageForNumber(montreal, ["en", "fr"], "en")).toBe("fr");
    expect(languageForNumber(montreal, ["en", "fr-CA"], "en")).toBe("fr-CA");
    expect(languageForNumber(quebecCity, ["en", "fr-FR"], "en")).toBe("fr-FR");
  });

  it("prefers an exact match to another region of the same language", () => {
    expect(languageForNumber(montreal, ["fr-FR", "fr"], "en")).toBe("fr");
  });

  it("speaks English to the rest of Canada", () => {
    expect(languageForNumber(toronto, ["en", "fr"], "fr")).toBe("en");
  });

  it("speaks Spanish to Mexico", () => {
    expect(languageForNumber(mexicoCity, ["en", "es"], "en")).toBe("es");
    expect(languageForNumber(mexicoCity, ["es-MX"], "en")).toBe("es-MX");
  });

  it("keeps the fallback when the number's language is not allowed", () => {
    expect(languageForNumber(berlin, ["en"], "en")).toBe("en");
  });

  it("speaks Japanese to Japan, and Swiss German to Switzerland, when the service lists them", () => {
    expect(languageForNumber(tokyo, ["en", "ja"], "en")).toBe("ja");
    expect(languageForNumber(tokyo, ["en", "es"], "en")).toBe("en");
    expect(languageForNumber(phone("+41446681800", "CH"), ["en", "de-CH"], "en")).toBe("de-CH");
    expect(languageForNumber(phone("+41446681800", "CH"), ["en", "de"], "en")).toBe("de");
  });

  it("takes the regional tag first", () => {
    expect(languageForNumber(washington, ["en-US", "es"], "es")).toBe("en-US");
  });

  it("keeps the fallback for a country not in the table, or no country", () => {
    expect(languageForNumber(bangkok, ["en", "es", "fr", "de", "pt", "ja"], "es")).toBe("es");
    expect(languageForNumber({ e164: "+80012345678" }, ["en", "fr"], "fr")).toBe("fr");
    expect(languageForNumber({ e164: "+15145550123", country: "constructor" }, ["en"], "fr")).toBe("fr");
  });
});

describe("NUMBER_LANGUAGES", () => {
  it("names only languages and tags the service accepts", () => {
    for (const [key, candidates] of Object.entries(NUMBER_LANGUAGES)) {
      expect(candidates.length, key).toBeGreaterThan(0);
      for (const candidate of candidates) expect(resolveLanguage(candidate), `${key}: ${candidate}`).toBe(candidate);
    }
  });

  it("is keyed by regions libphonenumber names", () => {
    const regions = new Set<string>(getCountries());
    for (const key of Object.keys(NUMBER_LANGUAGES)) expect(regions.has(key.split(" ")[0]!), key).toBe(true);
  });
});
