import type { Phrases } from "./types.js";

// The name is never inflected: Finnish would decline it ("Acmelta"), so it stands alone.
export const fi: Phrases = {
  tag: "fi-FI",
  greeting: (org) => `Hei. Tämä on ${org}. Soitamme vahvistuskoodisi vuoksi.`,
  pressToHear: (d) => `Kuullaksesi koodin paina ${d}.`,
  codeIs: "Koodisi on:",
  again: "Uudelleen:",
  pressToRepeat: "Kuullaksesi sen uudelleen paina mitä tahansa näppäintä.",
  goodbye: "Näkemiin.",
  noKey: "Emme saaneet pyytämäämme näppäilyä. Näkemiin.",
  unavailable: "Valitettavasti tämä koodi ei ole enää voimassa. Pyydä uusi koodi. Näkemiin.",
  machine: (org) => `Tämä oli vahvistuspuhelu. Soittaja: ${org}. Tähän viestiin ei jätetty koodia. Näkemiin.`,
};
