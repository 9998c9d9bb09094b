import type { Phrases } from "./types.js";

export const da: Phrases = {
  tag: "da-DK",
  greeting: (org) => `Goddag. Dette er ${org} med din bekræftelseskode.`,
  pressToHear: (d) => `Tryk ${d} for at høre din kode.`,
  codeIs: "Din kode er:",
  again: "Igen:",
  pressToRepeat: "Tryk på en vilkårlig tast for at høre den igen.",
  goodbye: "Farvel.",
  noKey: "Vi modtog ikke den tast, vi bad om. Farvel.",
  unavailable: "Beklager, denne kode er ikke længere gyldig. Bed om en ny. Farvel.",
  machine: (org) => `Dette var et bekræftelsesopkald fra ${org}. Der er ikke efterladt nogen kode i denne besked. Farvel.`,
};
