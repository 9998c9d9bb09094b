import type { Phrases } from "./types.js";

/** Norwegian Bokmål, as Polly speaks it (nb-NO); a request's "no" means it too. */
export const nb: Phrases = {
  tag: "nb-NO",
  greeting: (org) => `Hei. Dette er ${org} med bekreftelseskoden din.`,
  pressToHear: (d) => `Trykk ${d} for å høre koden din.`,
  codeIs: "Koden din er:",
  again: "En gang til:",
  pressToRepeat: "Trykk på en hvilken som helst tast for å høre den igjen.",
  goodbye: "Ha det bra.",
  noKey: "Vi mottok ikke tastetrykket vi ba om. Ha det bra.",
  unavailable: "Beklager, denne koden er ikke lenger gyldig. Be om en ny. Ha det bra.",
  machine: (org) => `Dette var en bekreftelsesoppringning fra ${org}. Ingen kode ble lagt igjen i denne meldingen. Ha det bra.`,
};
