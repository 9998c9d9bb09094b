/**
 * Which text-to-speech voices speak each language tag a call can be made in: one row
 * per tag, whose base language must have phrases (phrases.ts). Adding a regional tag is
 * adding its row; LANGUAGE and a request's `language` accept exactly these tags.
 *
 * Where the names come from, so that none is guessed:
 * - Polly voices and the language each speaks: Amazon Polly's voice list ("Voices in
 *   Amazon Polly", its neural and generative pages); the engines named here are the
 *   ones Twilio's TwiML lists for the voice (`Polly.Mia`, `Polly.Mia-Neural`,
 *   `Polly.Mía-Generative`, Twilio's spelling). Polly voices whose language was not
 *   found written in those pages (Andrés, Pedro, Sergio, Rémi, Stephen, Thiago) are
 *   left out rather than assumed; add them with their source.
 * - Google voices: Twilio's TwiML list (the `SayVoice` type of the twilio package, which
 *   test/config.test.ts reads to check this table both ways). A Google voice's name
 *   begins with its tag; SignalWire takes the same names with its own prefix.
 * Which engines and prefixes each carrier takes, and its basic voices (man, woman,
 * alice), are the carrier's own: CarrierVoices in each carrier's folder.
 */

export type PollyEngine = "standard" | "neural" | "generative";
export type GoogleFamily = "Standard" | "Wavenet" | "Neural2" | "Chirp3-HD";

export interface TagVoices {
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
  "de-DE": {
    defaultVoice: "Polly.Vicki",
    polly: { standard: ["Hans", "Marlene", "Vicki"], neural: ["Daniel", "Vicki"], generative: ["Daniel", "Vicki"] },
    google: { Standard: letters("ABCDEFGH"), Wavenet: letters("ABCDEFGH"), Neural2: letters("ABCDFGH"), "Chirp3-HD": CHIRP3_HD },
  },
  "de-AT": { defaultVoice: "Polly.Hannah-Neural", polly: { neural: ["Hannah"] } },
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
};

export const LANGUAGE_TAGS = Object.keys(VOICES);
