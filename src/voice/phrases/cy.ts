import type { Phrases } from "./types.js";

export const cy: Phrases = {
  tag: "cy-GB",
  greeting: (org) => `Helo. ${org} sydd yma gyda'ch cod dilysu.`,
  pressToHear: (d) => `Pwyswch ${d} i glywed eich cod.`,
  codeIs: "Eich cod yw:",
  again: "Eto:",
  pressToRepeat: "Pwyswch unrhyw fotwm i'w glywed eto.",
  goodbye: "Hwyl fawr.",
  noKey: "Ni chawsom y botwm y gofynnwyd amdano. Hwyl fawr.",
  unavailable: "Mae'n ddrwg gennym, nid yw'r cod hwn ar gael mwyach. Gofynnwch am un newydd. Hwyl fawr.",
  machine: (org) => `Galwad ddilysu gan ${org} oedd hon. Ni adawyd cod yn y neges hon. Hwyl fawr.`,
};
