import { describe, expect, it } from "vitest";
import type { Carrier } from "../src/carriers/carrier.js";
import { CARRIERS } from "../src/carriers/registry.js";
import { parseXml, textOf, type XmlElement, type XmlNode } from "../src/simulator/xml.js";
import { NUMBER_LANGUAGES } from "../src/voice/number-language.js";
import { baseLanguage, LANGUAGES, PHRASES, resolveLanguage, speakingTag } from "../src/voice/phrases.js";
import { codeScript, gateScript, machineScript, noKeyScript, openingScript, unavailableScript } from "../src/voice/script.js";
import type { VoiceScript } from "../src/voice/script.types.js";
import { carrierName, parseVoice, voicesOfTag } from "../src/voice/voice-names.js";
import { LANGUAGE_TAGS, VOICES } from "../src/voice/voices.js";
import { carrierFor, newAccount } from "./helpers/carrier-world.js";

/**
 * Amazon Polly's voices by language code and engine, as Amazon lists them: "Voices in
 * Amazon Polly" (docs.aws.amazon.com/polly/latest/dg/available-voices.html), with its
 * "Standard voices" and "Neural voices" pages, and the language codes of "Languages in
 * Amazon Polly" (supported-languages.html). Read in 2026; Amazon adds voices, so a voice
 * missing here is not proof that Amazon lacks it, but every voice the service names
 * must be here. Names in Polly's ASCII voice ids (Lea, not Léa).
 */
// prettier-ignore
const AMAZON_POLLY: Readonly<Record<string, { standard?: readonly string[]; neural?: readonly string[] }>> = {
  "arb": { standard: ["Zeina"] },
  "ar-AE": { neural: ["Hala", "Zayd"] },
  "ca-ES": { neural: ["Arlet"] },
  "yue-CN": { neural: ["Hiujin"] },
  "cmn-CN": { standard: ["Zhiyu"], neural: ["Zhiyu"] },
  "cs-CZ": { neural: ["Jitka"] },
  "da-DK": { standard: ["Mads", "Naja"], neural: ["Sofie"] },
  "nl-BE": { neural: ["Lisa"] },
  "nl-NL": { standard: ["Lotte", "Ruben"], neural: ["Laura"] },
  "en-AU": { standard: ["Nicole", "Russell"], neural: ["Olivia"] },
  "en-GB": { standard: ["Amy", "Brian", "Emma"], neural: ["Amy", "Arthur", "Brian", "Emma"] },
  "en-IN": { standard: ["Aditi", "Raveena"], neural: ["Kajal"] },
  "en-IE": { neural: ["Niamh"] },
  "en-NZ": { neural: ["Aria"] },
  "en-SG": { neural: ["Jasmine"] },
  "en-ZA": { neural: ["Ayanda"] },
  "en-US": {
    standard: ["Ivy", "Joanna", "Joey", "Justin", "Kendra", "Kimberly", "Matthew", "Salli"],
    neural: ["Danielle", "Gregory", "Ivy", "Joanna", "Joey", "Justin", "Kendra", "Kevin", "Kimberly", "Matthew", "Ruth", "Salli", "Stephen"],
  },
  "en-GB-WLS": { standard: ["Geraint"] },
  "fi-FI": { neural: ["Suvi"] },
  "fr-FR": { standard: ["Celine", "Lea", "Mathieu"], neural: ["Lea", "Remi"] },
  "fr-BE": { neural: ["Isabelle"] },
  "fr-CA": { standard: ["Chantal"], neural: ["Gabrielle", "Liam"] },
  "hi-IN": { standard: ["Aditi"], neural: ["Kajal"] },
  "de-DE": { standard: ["Hans", "Marlene", "Vicki"], neural: ["Daniel", "Vicki"] },
  "de-AT": { neural: ["Hannah"] },
  "de-CH": { neural: ["Sabrina"] },
  "is-IS": { standard: ["Dora", "Karl"] },
  "it-IT": { standard: ["Bianca", "Carla", "Giorgio"], neural: ["Adriano", "Bianca"] },
  "ja-JP": { standard: ["Mizuki", "Takumi"], neural: ["Kazuha", "Takumi", "Tomoko"] },
  "ko-KR": { standard: ["Seoyeon"], neural: ["Seoyeon"] },
  "nb-NO": { standard: ["Liv"], neural: ["Ida"] },
  "pl-PL": { standard: ["Ewa", "Jacek", "Jan", "Maja"], neural: ["Ola"] },
  "pt-BR": { standard: ["Camila", "Ricardo", "Vitoria"], neural: ["Camila", "Thiago", "Vitoria"] },
  "pt-PT": { standard: ["Cristiano", "Ines"], neural: ["Ines"] },
  "ro-RO": { standard: ["Carmen"] },
  "ru-RU": { standard: ["Maxim", "Tatyana"] },
  "es-ES": { standard: ["Conchita", "Enrique", "Lucia"], neural: ["Lucia", "Sergio"] },
  "es-MX": { standard: ["Mia"], neural: ["Andres", "Mia"] },
  "es-US": { standard: ["Lupe", "Miguel", "Penelope"], neural: ["Lupe", "Pedro"] },
  "sv-SE": { standard: ["Astrid"], neural: ["Elin"] },
  "tr-TR": { standard: ["Filiz"], neural: ["Burcu"] },
  "cy-GB": { standard: ["Gwyneth"] },
};

const FLAVORS = ["twilio", "signalwire", "telnyx"] as const;
const CODE = "40719";
const ORG = "Kaffee & Co";
const NEXT = { afterGate: "http://s.example/call-2fa?c=ch_x&step=gate&n=0", afterCode: "http://s.example/call-2fa?c=ch_x&step=code&n=1" };

describe("the languages calls are spoken in", () => {
  it("are at least 30 tags, every language Amazon Polly speaks, each with phrases", () => {
    expect(LANGUAGE_TAGS.length).toBeGreaterThanOrEqual(30);
    expect([...LANGUAGE_TAGS].sort()).toEqual(Object.keys(AMAZON_POLLY).sort());
    for (const tag of LANGUAGE_TAGS) expect(Object.keys(PHRASES), tag).toContain(baseLanguage(tag));
  });

  it("agree with the voice table: each language's usual tag is a row of it, and each row's language has phrases", () => {
    for (const [language, phrases] of Object.entries(PHRASES)) {
      expect(LANGUAGE_TAGS, language).toContain(phrases.tag);
      expect(baseLanguage(phrases.tag), language).toBe(language);
    }
    // Every language is spoken somewhere, and no row points at phrases that are not there.
    expect(new Set(LANGUAGE_TAGS.map(baseLanguage))).toEqual(new Set(LANGUAGES));
  });

  it("have a default voice in Amazon's list for the tag, with the engine it names, that every carrier names alike", () => {
    for (const tag of LANGUAGE_TAGS) {
      const voice = parseVoice(VOICES[tag]!.defaultVoice);
      expect(voice?.engine, tag).toBe("polly");
      if (voice?.engine !== "polly") continue;
      expect(["standard", "neural"], `${tag}: every carrier takes the standard and neural engines`).toContain(voice.model);
      expect(AMAZON_POLLY[tag]![voice.model as "standard" | "neural"], `${tag}: ${VOICES[tag]!.defaultVoice}`).toContain(voice.id);
      for (const plugin of Object.values(CARRIERS)) expect(carrierName(voice, plugin.voices), `${plugin.title}, ${tag}`).toBe(VOICES[tag]!.defaultVoice);
    }
  });

  it("name only Polly voices Amazon lists for the tag (standard and neural; generative is checked against Twilio's list)", () => {
    for (const tag of LANGUAGE_TAGS) {
      for (const v of voicesOfTag(tag)) {
        if (v.engine !== "polly" || v.model === "generative") continue;
        expect(AMAZON_POLLY[tag]![v.model] ?? [], `${tag}: Polly.${v.id} (${v.model})`).toContain(v.id);
      }
    }
  });

  it("take a bare language in its usual region, and the spellings requests use for Polly's own codes", () => {
    for (const language of LANGUAGES) {
      expect(resolveLanguage(language)).toBe(language);
      expect(resolveLanguage(language.toUpperCase())).toBe(language);
      expect(speakingTag(language)).toBe(PHRASES[language]!.tag);
    }
    for (const tag of LANGUAGE_TAGS) expect(resolveLanguage(tag.toLowerCase().replace(/-/g, "_"))).toBe(tag);
    expect(speakingTag("ar")).toBe("arb");
    expect(speakingTag("ar", "ar-AE")).toBe("ar-AE");
    expect(speakingTag("zh")).toBe("cmn-CN");
    expect(resolveLanguage("zh-CN")).toBe("cmn-CN");
    expect(resolveLanguage("zh_cn")).toBe("cmn-CN");
    expect(resolveLanguage("no")).toBe("nb");
    expect(resolveLanguage("no-NO")).toBe("nb-NO");
    expect(speakingTag("yue")).toBe("yue-CN");
    expect(speakingTag("de", "de-CH")).toBe("de-CH");
    // Another region is not one we speak: refused, not read in a neighbour's voice.
    for (const other of ["zh-TW", "zh-HK", "yue-HK", "ar-SA", "es-AR", "de-LU", "xx"]) expect(resolveLanguage(other), other).toBeUndefined();
  });

  it("speak a number's country's language only in a tag of the table", () => {
    for (const candidates of Object.values(NUMBER_LANGUAGES)) for (const c of candidates) expect(resolveLanguage(c), c).toBe(c);
    expect(NUMBER_LANGUAGES.JP).toEqual(["ja-JP", "ja"]);
    expect(NUMBER_LANGUAGES.CH).toEqual(["de-CH", "de"]);
  });

  it("keep every phrase short, and the gate's key the only digit a prompt holds", () => {
    for (const [language, p] of Object.entries(PHRASES)) {
      const texts = [p.greeting(ORG), p.codeIs, p.again, p.pressToRepeat, p.goodbye, p.noKey, p.unavailable, p.machine(ORG)];
      for (const t of texts) {
        expect(t.length, `${language}: ${t}`).toBeLessThanOrEqual(140);
        expect(t, `${language}: a digit in a phrase would be heard as part of the code`).not.toMatch(/\d/);
      }
      expect(p.greeting(ORG), language).toContain(ORG);
      expect(p.machine(ORG), language).toContain(ORG);
      expect(p.pressToHear(7).match(/\d/g), language).toEqual(["7"]);
    }
  });
});

/** A rendered document as a listener and a checker see it. */
function read(xml: string) {
  const doc = parseXml(xml);
  expect(doc.name).toBe("Response");
  const says: XmlElement[] = [];
  const walk = (node: XmlNode) => {
    if ("text" in node) return;
    if (node.name === "Say") says.push(node);
    else node.children.forEach(walk);
  };
  walk(doc);
  const verbs = doc.children.filter((c): c is XmlElement => !("text" in c)).map((c) => c.name);
  return { doc, says, verbs, heard: says.map((s) => textOf(s)) };
}

/** The digits read with say-as (Twilio, SignalWire: each followed by a break) or as a <Say> of one digit (Telnyx). */
function digitsRead(flavor: (typeof FLAVORS)[number], says: XmlElement[]): string {
  if (flavor === "telnyx") return says.map((s) => textOf(s)).filter((t) => /^\d$/.test(t)).join("");
  let digits = "";
  for (const say of says) {
    const parts = say.children.filter((c): c is XmlElement => !("text" in c));
    parts.forEach((part, i) => {
      if (part.name !== "say-as") return;
      expect(part.attrs["interpret-as"]).toBe("digits");
      expect(parts[i + 1]).toMatchObject({ name: "break", attrs: { time: "700ms" } });
      digits += textOf(part);
    });
  }
  return digits;
}

describe.each(FLAVORS)("every language's whole script, rendered for %s", (flavor) => {
  const carrier: Carrier = carrierFor(newAccount(flavor), "http://127.0.0.1:9");
  const render = (script: VoiceScript) => read(carrier.render(script).body);

  it.each(LANGUAGE_TAGS)("%s", (tag) => {
    const p = PHRASES[baseLanguage(tag)]!;
    const settings = { orgName: ORG, language: tag };
    const voice = VOICES[tag]!.defaultVoice;
    const spokenAsTag = (says: XmlElement[]) => {
      expect(says.length).toBeGreaterThan(0);
      for (const say of says) expect(say.attrs, tag).toEqual({ language: tag, voice });
    };

    // The opening: the greeting, the code twice, and the offer to repeat inside a Gather.
    const opening = render(openingScript(settings, { language: tag, code: CODE, gateDigit: null }, NEXT));
    spokenAsTag(opening.says);
    expect(opening.verbs).toEqual(["Say", "Pause", "Gather", "Say", "Hangup"]);
    expect(opening.heard[0]).toBe(p.greeting(ORG));
    expect(opening.heard).toContain(p.codeIs);
    expect(opening.heard).toContain(p.again);
    expect(opening.heard.at(-2)).toBe(p.pressToRepeat);
    expect(opening.heard.at(-1)).toBe(p.goodbye);
    expect(digitsRead(flavor, opening.says)).toBe(CODE + CODE);
    const gather = opening.doc.children.find((c): c is XmlElement => !("text" in c) && c.name === "Gather")!;
    expect(gather.attrs).toMatchObject({ action: NEXT.afterCode, numDigits: "1", finishOnKey: "" });

    // Behind the gate: the greeting and one key to press, no code; then the code after the key.
    const gate = render(gateScript(settings, tag, 7, NEXT, true));
    spokenAsTag(gate.says);
    expect(gate.verbs).toEqual(["Gather", "Say", "Hangup"]);
    expect(gate.heard).toEqual([p.greeting(ORG), p.pressToHear(7), p.noKey]);
    expect(gate.heard.slice(0, 2).join(" ").match(/\d/g)).toEqual(["7"]);
    const afterGate = render(codeScript(settings, { language: tag, code: CODE }, NEXT, 0));
    spokenAsTag(afterGate.says);
    expect(digitsRead(flavor, afterGate.says)).toBe(CODE + CODE);
    expect(afterGate.heard[0]).toBe(p.codeIs);

    // The last repeat reads it twice more and says goodbye, without another offer.
    const last = render(codeScript(settings, { language: tag, code: CODE }, NEXT, 3));
    spokenAsTag(last.says);
    expect(last.verbs).not.toContain("Gather");
    expect(last.verbs.at(-1)).toBe("Hangup");
    expect(last.heard.at(-1)).toBe(p.goodbye);
    expect(digitsRead(flavor, last.says)).toBe(CODE + CODE);

    // A machine, an ended challenge, a key never pressed: a sentence, no digit, hang up.
    for (const [script, said] of [
      [machineScript(settings, tag), p.machine(ORG)],
      [unavailableScript(settings, tag), p.unavailable],
      [noKeyScript(settings, tag), p.noKey],
    ] as const) {
      const doc = render(script);
      spokenAsTag(doc.says);
      expect(doc.verbs).toEqual(["Say", "Hangup"]);
      expect(doc.heard).toEqual([said]);
    }
  });
});
