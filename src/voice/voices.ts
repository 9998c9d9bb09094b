/**
 * Which text-to-speech voices speak each language tag a call can be made in: one row
 * per tag, whose language must have phrases (phrases/). Adding a regional tag is adding
 * its row; LANGUAGE and a request's `language` accept exactly these tags. A tag is
 * spelled as Amazon Polly spells it (arb, cmn-CN, yue-CN, en-GB-WLS), and that is what
 * the carriers' <Say language> is given: Twilio's voice list names Polly's voices with
 * Polly's codes, and Telnyx ignores the language of a Polly voice.
 *
 * Where the names come from, so that none is guessed:
 * - Polly voices and the language each speaks: Amazon Polly's voice list ("Voices in
 *   Amazon Polly", its standard, neural and generative pages); the engines named here
 *   are the ones Twilio's TwiML lists for the voice (`Polly.Mia`, `Polly.Mia-Neural`,
 *   `Polly.Mía-Generative`, Twilio's spelling). Polly voices whose language was not
 *   found written in those pages (Andrés, Pedro, Sergio, Rémi, Stephen, Thiago) are
 *   left out rather than assumed; add them with their source. test/languages.test.ts
 *   holds the list checked, and checks every voice here against it.
 * - Voices newer than Twilio's published TwiML list (twilio 6.2: Jitka, Sabrina,
 *   Jasmine, and with them the tags cs-CZ's Polly voice, de-CH, en-SG, yue-CN): in
 *   Amazon's list, not yet confirmed on any carrier (see test/config.test.ts).
 * - Google voices: Twilio's TwiML list (the `SayVoice` type of the twilio package, which
 *   test/config.test.ts reads to check this table both ways). A Google voice's name
 *   begins with its tag; SignalWire takes the same names with its own prefix.
 * Which engines and prefixes each carrier takes, and its basic voices (man, woman,
 * alice), are the carrier's own: CarrierVoices in each carrier's folder.
 */

export type PollyEngine = "standard" | "neural" | "generative";
export type GoogleFamily = "Standard" | "Wavenet" | "Neural2" | "Chirp3-HD";

export interface TagVoices {
  /** The key of its phrases, where it is not the tag's first subtag (arb → ar, cmn-CN → zh). */
  language?: string;
  /** What a call in this tag says unless VOICE names another: a Polly voice every carrier has. */
  defaultVoice: string;
  /** Polly voice ids by engine. */
  polly: { [E in PollyEngine]?: readonly string[] };
  /** Google voices by family: each is named `<tag>-<family>-<variant>`. */
  google?: { [F in GoogleFamily]?: readonly string[] };
}

const letters = (s: string) => [...s];
const CHIRP3_HD = ["Aoede", "Charon", "Fenrir", "Kore", "Leda", "Orus", "Puck", "Zephyr"];

// prettier-ignore
export const VOICES: Readonly<Record<string, TagVoices>> = {
  "arb": { language: "ar", defaultVoice: "Polly.Zeina", polly: { standard: ["Zeina"] } },
  "ar-AE": { defaultVoice: "Polly.Hala-Neural", polly: { neural: ["Hala", "Zayd"] } },
  "ca-ES": { defaultVoice: "Polly.Arlet-Neural", polly: { neural: ["Arlet"] }, google: { Standard: letters("AB") } },
  "cmn-CN": {
    language: "zh",
    defaultVoice: "Polly.Zhiyu",
    polly: { standard: ["Zhiyu"], neural: ["Zhiyu"] },
    google: { Standard: letters("ABCD"), Wavenet: letters("ABCD"), "Chirp3-HD": CHIRP3_HD },
  },
  "yue-CN": { defaultVoice: "Polly.Hiujin-Neural", polly: { neural: ["Hiujin"] } },
  "cs-CZ": { defaultVoice: "Polly.Jitka-Neural", polly: { neural: ["Jitka"] }, google: { Standard: letters("AB"), Wavenet: letters("AB") } },
  "cy-GB": { defaultVoice: "Polly.Gwyneth", polly: { standard: ["Gwyneth"] } },
  "da-DK": {
    defaultVoice: "Polly.Naja",
    polly: { standard: ["Mads", "Naja"], neural: ["Sofie"] },
    google: { Standard: letters("ACDEFG"), Wavenet: letters("ACDEFG"), Neural2: letters("DF") },
  },
  "de-DE": {
    defaultVoice: "Polly.Vicki",
    polly: { standard: ["Hans", "Marlene", "Vicki"], neural: ["Daniel", "Vicki"], generative: ["Daniel", "Vicki"] },
    google: { Standard: letters("ABCDEFGH"), Wavenet: letters("ABCDEFGH"), Neural2: letters("ABCDFGH"), "Chirp3-HD": CHIRP3_HD },
  },
  "de-AT": { defaultVoice: "Polly.Hannah-Neural", polly: { neural: ["Hannah"] } },
  "de-CH": { defaultVoice: "Polly.Sabrina-Neural", polly: { neural: ["Sabrina"] } },
  "en-US": {
    defaultVoice: "Polly.Joanna",
    polly: {
      // Kevin is left out of standard: Amazon makes him neural only.
      standard: ["Ivy", "Joanna", "Joey", "Justin", "Kendra", "Kimberly", "Matthew", "Salli"],
      neural: ["Danielle", "Ivy", "Joanna", "Joey", "Justin", "Kendra", "Kevin", "Kimberly", "Matthew", "Ruth", "Salli"],
      generative: ["Danielle", "Joanna", "Matthew", "Ruth"],
    },
    google: { Standard: letters("ABCDEFGHIJ"), Wavenet: letters("ABCDEFGHIJ"), Neural2: letters("ACDEFGHIJ"), "Chirp3-HD": CHIRP3_HD },
  },
  "en-GB": {
    defaultVoice: "Polly.Amy",
    polly: { standard: ["Amy", "Brian", "Emma"], neural: ["Amy", "Arthur", "Brian", "Emma"], generative: ["Amy"] },
    google: { Standard: letters("ABCDFNO"), Wavenet: letters("ABCDFNO"), Neural2: letters("ABCDFNO"), "Chirp3-HD": CHIRP3_HD },
  },
  "en-AU": {
    defaultVoice: "Polly.Nicole",
    polly: { standard: ["Nicole", "Russell"], neural: ["Olivia"], generative: ["Olivia"] },
    google: { Standard: letters("ABCD"), Wavenet: letters("ABCD"), Neural2: letters("ABCD"), "Chirp3-HD": CHIRP3_HD },
  },
  "en-IN": {
    defaultVoice: "Polly.Aditi",
    polly: { standard: ["Aditi", "Raveena"], neural: ["Kajal"], generative: ["Kajal"] },
    google: { Standard: letters("ABCDEF"), Wavenet: letters("ABCDEF"), Neural2: letters("ABCD"), "Chirp3-HD": CHIRP3_HD },
  },
  "en-IE": { defaultVoice: "Polly.Niamh-Neural", polly: { neural: ["Niamh"] } },
  "en-NZ": { defaultVoice: "Polly.Aria-Neural", polly: { neural: ["Aria"] } },
  "en-SG": { defaultVoice: "Polly.Jasmine-Neural", polly: { neural: ["Jasmine"] } },
  "en-ZA": { defaultVoice: "Polly.Ayanda-Neural", polly: { neural: ["Ayanda"], generative: ["Ayanda"] } },
  "en-GB-WLS": { defaultVoice: "Polly.Geraint", polly: { standard: ["Geraint"] } },
  "es-ES": {
    defaultVoice: "Polly.Lucia",
    polly: { standard: ["Conchita", "Enrique", "Lucia"], neural: ["Lucia"], generative: ["Lucia"] },
    google: { Standard: letters("ABCDEFGH"), Wavenet: letters("BCDEFGH"), Neural2: letters("ABCDEFGH"), "Chirp3-HD": CHIRP3_HD },
  },
  "es-MX": { defaultVoice: "Polly.Mia", polly: { standard: ["Mia"], neural: ["Mia"], generative: ["Mía"] } },
  "es-US": {
    defaultVoice: "Polly.Lupe",
    polly: { standard: ["Lupe", "Miguel", "Penelope"], neural: ["Lupe"], generative: ["Lupe"] },
    google: { Standard: letters("ABC"), Wavenet: letters("ABC"), Neural2: letters("ABC"), "Chirp3-HD": CHIRP3_HD },
  },
  "fi-FI": { defaultVoice: "Polly.Suvi-Neural", polly: { neural: ["Suvi"] }, google: { Standard: letters("AB"), Wavenet: letters("AB") } },
  "fr-FR": {
    defaultVoice: "Polly.Lea",
    polly: { standard: ["Celine", "Lea", "Mathieu"], neural: ["Lea"], generative: ["Lea"] },
    google: { Standard: letters("ABCDEFG"), Wavenet: letters("ABCDEFG"), Neural2: letters("ABCDEFG"), "Chirp3-HD": CHIRP3_HD },
  },
  "fr-CA": {
    defaultVoice: "Polly.Chantal",
    polly: { standard: ["Chantal"], neural: ["Gabrielle", "Liam"] },
    google: { Standard: letters("ABCD"), Wavenet: letters("ABCD"), Neural2: letters("ABCD"), "Chirp3-HD": CHIRP3_HD },
  },
  "fr-BE": { defaultVoice: "Polly.Isabelle-Neural", polly: { neural: ["Isabelle"] } },
  "hi-IN": {
    defaultVoice: "Polly.Aditi",
    // Aditi and Kajal speak Indian English and Hindi alike (Amazon's bilingual voices).
    polly: { standard: ["Aditi"], neural: ["Kajal"] },
    google: { Standard: letters("ABCDEF"), Wavenet: letters("ABCDEF"), Neural2: letters("ABCD"), "Chirp3-HD": CHIRP3_HD },
  },
  "is-IS": { defaultVoice: "Polly.Dora", polly: { standard: ["Dora", "Karl"] }, google: { Standard: letters("AB") } },
  "it-IT": {
    defaultVoice: "Polly.Bianca",
    polly: { standard: ["Bianca", "Carla", "Giorgio"], neural: ["Adriano", "Bianca"], generative: ["Bianca"] },
    google: { Standard: letters("ABCDEF"), Wavenet: letters("ABCDEF"), Neural2: letters("ACF"), "Chirp3-HD": CHIRP3_HD },
  },
  "ja-JP": {
    defaultVoice: "Polly.Mizuki",
    polly: { standard: ["Mizuki", "Takumi"], neural: ["Kazuha", "Takumi", "Tomoko"] },
    google: { Standard: letters("ABCD"), Wavenet: letters("ABCD"), Neural2: letters("BCD"), "Chirp3-HD": CHIRP3_HD },
  },
  "ko-KR": {
    defaultVoice: "Polly.Seoyeon",
    polly: { standard: ["Seoyeon"], neural: ["Seoyeon"] },
    google: { Standard: letters("ABCD"), Wavenet: letters("ABCD"), Neural2: letters("ABC"), "Chirp3-HD": CHIRP3_HD },
  },
  "nb-NO": {
    defaultVoice: "Polly.Liv",
    polly: { standard: ["Liv"], neural: ["Ida"] },
    google: { Standard: letters("ABCDEFG"), Wavenet: letters("ABCDEFG") },
  },
  "nl-NL": {
    defaultVoice: "Polly.Lotte",
    polly: { standard: ["Lotte", "Ruben"], neural: ["Laura"] },
    google: { Standard: letters("ABCDEFG"), Wavenet: letters("ABCDEFG"), "Chirp3-HD": CHIRP3_HD },
  },
  "nl-BE": { defaultVoice: "Polly.Lisa-Neural", polly: { neural: ["Lisa"] }, google: { Standard: letters("ABCD"), Wavenet: letters("ABCD") } },
  "pl-PL": {
    defaultVoice: "Polly.Ewa",
    polly: { standard: ["Ewa", "Jacek", "Jan", "Maja"], neural: ["Ola"] },
    google: { Standard: letters("ABCDEFG"), Wavenet: letters("ABCDEFG"), "Chirp3-HD": CHIRP3_HD },
  },
  "pt-BR": {
    defaultVoice: "Polly.Camila",
    polly: { standard: ["Camila", "Ricardo", "Vitoria"], neural: ["Camila", "Vitoria"] },
    google: { Standard: letters("ABCDE"), Wavenet: letters("ABCDE"), Neural2: letters("ABC"), "Chirp3-HD": CHIRP3_HD },
  },
  "pt-PT": {
    defaultVoice: "Polly.Ines",
    polly: { standard: ["Cristiano", "Ines"], neural: ["Ines"] },
    google: { Standard: letters("ABCDEF"), Wavenet: letters("ABCDEF") },
  },
  "ro-RO": { defaultVoice: "Polly.Carmen", polly: { standard: ["Carmen"] }, google: { Standard: letters("AB"), Wavenet: letters("AB") } },
  "ru-RU": {
    defaultVoice: "Polly.Tatyana",
    polly: { standard: ["Maxim", "Tatyana"] },
    google: { Standard: letters("ABCDE"), Wavenet: letters("ABCDE"), "Chirp3-HD": CHIRP3_HD },
  },
  "sv-SE": {
    defaultVoice: "Polly.Astrid",
    polly: { standard: ["Astrid"], neural: ["Elin"] },
    google: { Standard: letters("ABCDEFG"), Wavenet: letters("ABCDEFG") },
  },
  "tr-TR": {
    defaultVoice: "Polly.Filiz",
    polly: { standard: ["Filiz"], neural: ["Burcu"] },
    google: { Standard: letters("ABCDE"), Wavenet: letters("ABCDE"), "Chirp3-HD": CHIRP3_HD },
  },
};

export const LANGUAGE_TAGS = Object.keys(VOICES);
