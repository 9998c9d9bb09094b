import { VOICES, type GoogleFamily, type PollyEngine } from "./voices.js";

/**
 * A voice as VOICE names it, apart from how a carrier spells it: Twilio writes a Google
 * voice `Google.en-US-Neural2-A`, SignalWire `gcloud.en-US-Neural2-A`, and the same
 * VOICE must work on either.
 */
export type BasicVoice = "man" | "woman" | "alice";
export type Voice =
  | { engine: "polly"; id: string; model: PollyEngine }
  | { engine: "google"; id: string }
  | { engine: "basic"; id: BasicVoice };

/** What a carrier's voice XML accepts, as its documentation says (src/carriers/<name>/index.ts). */
export interface CarrierVoices {
  /** The Polly engines it takes: `Polly.Joanna` (standard), `Polly.Joanna-Neural`, `Polly.Joanna-Generative`. */
  polly: readonly PollyEngine[];
  /** The prefix of its Google voices, when it has them. */
  googlePrefix?: string;
  /** The tags each of its basic voices speaks; a basic voice it lists for no tag here is refused. */
  basic: { readonly [V in BasicVoice]?: readonly string[] };
}

const POLLY_SUFFIX: Record<PollyEngine, string> = { standard: "", neural: "-Neural", generative: "-Generative" };

/** "Polly.Mia-Neural", "gcloud.es-US-Neural2-A", "woman" → a Voice; anything else undefined. */
export function parseVoice(name: string): Voice | undefined {
  const n = name.trim();
  const polly = /^polly\.(.+?)(?:-(neural|generative))?$/i.exec(n);
  if (polly) return { engine: "polly", id: polly[1]!, model: (polly[2]?.toLowerCase() ?? "standard") as PollyEngine };
  const google = /^(?:google|gcloud)\.(.+)$/i.exec(n);
  if (google) return { engine: "google", id: google[1]! };
  const basic = n.toLowerCase();
  if (basic === "man" || basic === "woman" || basic === "alice") return { engine: "basic", id: basic };
  return undefined;
}

/** The voices of a tag's row, as Twilio spells them (the table's own spelling). */
export function voicesOfTag(tag: string): Voice[] {
  const row = VOICES[tag];
  if (!row) return [];
  const polly = (Object.entries(row.polly) as Array<[PollyEngine, string[]]>).flatMap(([model, ids]) =>
    ids.map((id): Voice => ({ engine: "polly", id, model })),
  );
  const google = (Object.entries(row.google ?? {}) as Array<[GoogleFamily, string[]]>).flatMap(([family, variants]) =>
    variants.map((v): Voice => ({ engine: "google", id: `${tag}-${family}-${v}` })),
  );
  return [...polly, ...google];
}

/** The same voice? Carriers' voice names are matched without regard to case (SignalWire says so of its own). */
export function sameVoice(a: Voice, b: Voice): boolean {
  return a.engine === b.engine && a.id.toLowerCase() === b.id.toLowerCase() && (a.engine !== "polly" || a.model === (b as typeof a).model);
}

/** How VOICE would be written in this table: Twilio's spelling, carrier-neutral for Polly. */
export function tableName(v: Voice): string {
  if (v.engine === "polly") return `Polly.${v.id}${POLLY_SUFFIX[v.model]}`;
  if (v.engine === "google") return `Google.${v.id}`;
  return v.id;
}

/** The voice as this carrier's voice XML names it, or undefined when the carrier has no such kind of voice. */
export function carrierName(v: Voice, carrier: CarrierVoices): string | undefined {
  if (v.engine === "polly") return carrier.polly.includes(v.model) ? tableName(v) : undefined;
  if (v.engine === "google") return carrier.googlePrefix ? `${carrier.googlePrefix}${v.id}` : undefined;
  return v.id;
}
