import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../src/config/index.js";
import { createKey } from "../src/keys/api-keys.js";
import { parseXml, textOf, type XmlElement, type XmlNode } from "../src/simulator/xml.js";
import { PHRASES } from "../src/voice/phrases.js";
import { codeScript, openingScript } from "../src/voice/script.js";
import { VOICES } from "../src/voice/voices.js";
import { carrierFor, newAccount } from "./helpers/carrier-world.js";
import { databaseKinds, type DbKind } from "./helpers/databases.js";
import { startTestService, type ApiResponse, type TestService } from "./helpers/service.js";

/**
 * A service's own words: a template per language replaces the sentence that reads the
 * code ("Your {org} code is {code}."); the greeting, "again", the second reading and the
 * offer to repeat stay the language's. A template is checked when it is saved.
 */

const ADMIN_KEY = "admin-key-templates-0123456789";
const NEXT = { afterGate: "http://s.example/g", afterCode: "http://s.example/c" };

describe.each(await databaseKinds())("templates through the admin API on %s", (db: DbKind) => {
  let t: TestService;
  let n = 0;
  beforeAll(async () => {
    t = await startTestService({ db, carrier: "twilio", env: { ADMIN_API_KEYS: ADMIN_KEY, RESEND_COOLDOWN_SECONDS: "0", ALLOWED_COUNTRIES: "US,CA" } });
  });
  afterAll(() => t?.close());

  const admin = (method: string, path: string, body?: unknown) => t.api(method, path, body, { key: ADMIN_KEY });
  const refusal = (res: ApiResponse) => ({ status: res.status, ...res.body.error });
  async function created(settings: Record<string, unknown>) {
    const res = await admin("POST", "/services", { name: `templated-${++n}`, settings });
    expect(res.status, res.text).toBe(201);
    return res.body as { id: string; settings: Record<string, unknown>; own_settings: Record<string, unknown> };
  }
  async function heard(res: ApiResponse): Promise<string[]> {
    expect(res.status, res.text).toBe(201);
    return (await t.simulator.waitForCall((c) => c.url.includes(res.body.id))).heard;
  }

  it("saves a service's templates and shows them, the default service having none", async () => {
    const templates = { en: "Your {org} code is {code}.", "en-GB": "{org} here: your code is {code}, thank you.", fr: "Votre code {org} : {code}." };
    const shop = await created({ org_name: "Acme", templates });
    expect(shop.own_settings.templates).toEqual(templates);
    expect(shop.settings.templates).toEqual(templates);
    expect((await admin("GET", `/services/${shop.id}`)).body.settings.templates).toEqual(templates);
    expect((await admin("GET", "/services/default")).body.settings.templates).toEqual({});
  });

  it("reads the code inside the service's sentence, twice, in the call's language, and keeps the rest of the call", async () => {
    const shop = await created({ org_name: "Acme", languages: ["en", "fr"], templates: { en: "Your {org} code is {code}.", "en-GB": "{org} here: your code is {code}, thank you.", fr: "Votre code {org} : {code}." } });
    const { key } = await createKey(t.service.deps.database, `templated-key-${n}`, { serviceId: shop.id, now: t.clock.now() });
    const p = PHRASES.en!;

    const english = await heard(await t.api("POST", "/request-auth", { number: "+14155550161" }, { key }));
    expect(english[0]).toBe(p.greeting("Acme"));
    expect(english).not.toContain(p.codeIs);
    const at = english.indexOf("Your Acme code is");
    const digits = english[at + 1]!;
    const code = digits.replace(/\D/g, "");
    expect(code).toMatch(/^\d{6}$/);
    // The template's last part, a full stop, has nothing to say: no sentence of its own.
    expect(english.slice(at, at + 5)).toEqual(["Your Acme code is", digits, p.again, digits, p.pressToRepeat]);
    expect((await t.api("POST", "/validate-auth", { number: "+14155550161", auth_code: code }, { key })).body.status).toBe("approved");

    // A tag's template wins over its language's; a regional call without one takes the language's.
    const british = (await heard(await t.api("POST", "/request-auth", { number: "+14155550162", language: "en-GB" }, { key }))).join(" ");
    expect(british).toMatch(/Acme here: your code is( \d){6} , thank you\. Again:( \d){6}/);
    const quebec = (await heard(await t.api("POST", "/request-auth", { number: "+15145550163", language: "fr-CA" }, { key }))).join(" ");
    expect(quebec).toMatch(/Votre code Acme :( \d){6} Je répète :( \d){6}/);
    // A language without a template speaks its own phrases.
    const spanish = (await heard(await t.api("POST", "/request-auth", { number: "+14155550164", language: "es" }, { key }))).join(" ");
    expect(spanish).toContain(PHRASES.es!.codeIs);
  });

  it.each([
    ["fr", "Votre code est prêt.", /settings\.templates\.fr: holds no \{code\}: it must hold it exactly once/],
    ["fr", "Votre code : {code}. Je répète : {code}.", /settings\.templates\.fr: holds \{code\} 2 times: it must hold it exactly once/],
    ["en", "Your code is {CODE}.", /settings\.templates\.en: \{CODE\} is not a placeholder; use \{code\} for the digits and \{org\} for the name/],
    ["en", "{org} {org}: {code}", /settings\.templates\.en: may hold \{org\} once at most/],
    ["en", "Your code is {code} {{x}}", /settings\.templates\.en: \{x\} is not a placeholder/],
    ["en", "Your code is {code} }", /settings\.templates\.en: braces are for \{code\} and \{org\} only/],
    ["en", 'Your code is <break time="10s"/>{code}', /settings\.templates\.en: must hold no markup/],
    ["en", "Your code\nis {code}", /settings\.templates\.en: must hold no control characters/],
    ["en", `${"a".repeat(295)} {code}`, /settings\.templates\.en: must be at most 300 characters \(it has 302\)/],
    ["EN", "Your code is {code}.", /settings\.templates\.EN: write this language en/],
    ["es-AR", "Su código es {code}.", /settings\.templates\.es-AR: not a language calls are spoken in; use one of en, es, fr, de, pt, /],
  ])("refuses a template for %s like %j with 400 naming the language", async (language, text, message) => {
    const shop = await created({ templates: { en: "Your {org} code is {code}." } });
    for (const [method, path, body] of [
      ["PATCH", `/services/${shop.id}`, { settings: { templates: { [language]: text } } }],
      ["POST", "/services", { name: `refused-${++n}`, settings: { templates: { [language]: text } } }],
    ] as const) {
      const res = refusal(await admin(method, path, body));
      expect(res).toMatchObject({ status: 400, code: "invalid_request", field: `settings.templates.${language}` });
      expect(res.message).toMatch(message);
    }
    expect((await admin("GET", `/services/${shop.id}`)).body.own_settings.templates).toEqual({ en: "Your {org} code is {code}." });
  });

  it("refuses templates that are not an object of texts, and resets them with null", async () => {
    const shop = await created({ templates: { en: "Your {org} code is {code}." } });
    for (const templates of [["Your code is {code}."], "Your code is {code}.", { en: 7 }]) {
      const res = refusal(await admin("PATCH", `/services/${shop.id}`, { settings: { templates } }));
      expect(res, JSON.stringify(templates)).toMatchObject({ status: 400, code: "invalid_request" });
      expect(res.field).toMatch(/^settings\.templates/);
    }
    const reset = await admin("PATCH", `/services/${shop.id}`, { settings: { templates: null } });
    expect(reset.status, reset.text).toBe(200);
    expect(reset.body.own_settings).not.toHaveProperty("templates");
    expect(reset.body.settings.templates).toEqual({});
  });
});

describe("VOICE_TEMPLATES, the default service's templates", () => {
  it("is JSON checked at start-up, each refusal naming the language", () => {
    expect(loadConfig({ VOICE_TEMPLATES: '{"en": "Your {org} code is {code}.", "de-CH": "Ihr Code: {code}."}' }).voice.templates).toEqual({
      en: "Your {org} code is {code}.",
      "de-CH": "Ihr Code: {code}.",
    });
    expect(loadConfig({}).voice.templates).toEqual({});
    expect(() => loadConfig({ VOICE_TEMPLATES: '{"fr": "Votre code."}' })).toThrow(/^VOICE_TEMPLATES\.fr: holds no \{code\}/);
    expect(() => loadConfig({ VOICE_TEMPLATES: '{"xx": "{code}"}' })).toThrow(/^VOICE_TEMPLATES\.xx: not a language calls are spoken in/);
    expect(() => loadConfig({ VOICE_TEMPLATES: "Your code is {code}" })).toThrow(/^VOICE_TEMPLATES: must be a JSON object of texts by language/);
  });
});

/** Every element of a voice document, by name. */
function elementNames(node: XmlNode, into = new Set<string>()): Set<string> {
  if ("text" in node) return into;
  into.add(node.name);
  node.children.forEach((c) => elementNames(c, into));
  return into;
}
function says(node: XmlNode, into: XmlElement[] = []): XmlElement[] {
  if ("text" in node) return into;
  if (node.name === "Say") into.push(node);
  else node.children.forEach((c) => says(c, into));
  return into;
}

describe.each(["twilio", "signalwire", "telnyx"] as const)("a template rendered for %s", (flavor) => {
  const carrier = carrierFor(newAccount(flavor), "http://127.0.0.1:9");
  const render = (templates: Record<string, string>, orgName: string, code = "2468") => {
    const xml = carrier.render(openingScript({ orgName, language: "en", templates }, { language: "en", code, gateDigit: null }, NEXT)).body;
    const doc = parseXml(xml);
    return { xml, doc, heard: says(doc).map((s) => textOf(s)) };
  };
  // Only what the script asks for: a name or a template can add text, never an element.
  const allowed = flavor === "telnyx" ? ["Response", "Say", "Pause", "Gather", "Hangup"] : ["Response", "Say", "say-as", "break", "Pause", "Gather", "Hangup"];

  it("reads the words around the code as text, and the code twice with say-as and pauses", () => {
    const { doc, heard } = render({ en: "It's {org}: \"your\" code is {code} & that's all." }, "Tom & Jerry's");
    expect([...elementNames(doc)].sort()).toEqual([...allowed].sort());
    expect(heard).toContain("It's Tom & Jerry's: \"your\" code is");
    expect(heard).toContain("& that's all.");
    expect(heard).toContain(PHRASES.en!.again);
    expect(heard.join(" ").match(/\d/g)!.join("")).toBe("24682468");
    for (const say of says(doc)) expect(say.attrs).toEqual({ language: "en-US", voice: VOICES["en-US"]!.defaultVoice });
  });

  it("lets no SSML or markup from a name or a template reach the voice XML", () => {
    // The admin API refuses < and > in a template; here the renderers' escaping is proved on its own.
    const hostileTemplate = '<prosody rate="x-slow">{code}</prosody><audio src="http://evil.example/a.mp3"/>';
    const hostileOrg = 'Evil"/><Play>http://evil.example/x.mp3</Play><Say voice="Polly.Joanna">';
    const { xml, doc, heard } = render({ en: hostileTemplate }, hostileOrg);
    expect([...elementNames(doc)].sort()).toEqual([...allowed].sort());
    expect(xml).not.toMatch(/<prosody|<audio|<Play/);
    expect(heard).toContain('<prosody rate="x-slow">');
    expect(heard).toContain('</prosody><audio src="http://evil.example/a.mp3"/>');
    expect(heard[0]).toBe(PHRASES.en!.greeting(hostileOrg));
  });

  it("reads a name holding {code} as written, and the code only where the template says", () => {
    const { heard } = render({ en: "{org} says: {code}." }, "{code} Inc");
    expect(heard[0]).toBe(PHRASES.en!.greeting("{code} Inc"));
    expect(heard).toContain("{code} Inc says:");
    expect(heard.join(" ").match(/\d/g)!.join("")).toBe("24682468");
  });

  it("starts or ends with the code without an empty sentence", () => {
    const digitsBetween = (heard: string[], from: number, to: number) => heard.slice(from, to).join("").replace(/\s/g, "");
    const starts = render({ en: "{code} is your code" }, "Acme").heard;
    expect(starts[0]).toBe(PHRASES.en!.greeting("Acme"));
    expect(digitsBetween(starts, 1, starts.indexOf("is your code"))).toBe("2468");
    const ends = render({ en: "Code: {code}." }, "Acme").heard;
    expect(digitsBetween(ends, ends.indexOf("Code:") + 1, ends.indexOf(PHRASES.en!.again))).toBe("2468");
    for (const heard of [starts, ends]) for (const said of heard) expect(said.trim()).not.toBe("");
  });

  it("is used again when the listener asks to hear the code again", () => {
    const script = codeScript({ orgName: "Acme", language: "en", templates: { en: "Your {org} code is {code}." } }, { language: "en", code: "2468" }, NEXT, 1);
    const heard = says(parseXml(carrier.render(script).body)).map((s) => textOf(s));
    expect(heard[0]).toBe("Your Acme code is");
    expect(heard).not.toContain(PHRASES.en!.codeIs);
  });
});
