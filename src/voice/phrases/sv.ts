import type { Phrases } from "./types.js";

export const sv: Phrases = {
  tag: "sv-SE",
  greeting: (org) => `Hej. Det här är ${org} med din verifieringskod.`,
  pressToHear: (d) => `Tryck ${d} för att höra din kod.`,
  codeIs: "Din kod är:",
  again: "En gång till:",
  pressToRepeat: "Tryck på valfri knapp för att höra den igen.",
  goodbye: "Hej då.",
  noKey: "Vi fick inte den knapptryckning vi bad om. Hej då.",
  unavailable: "Tyvärr är den här koden inte längre giltig. Begär en ny. Hej då.",
  machine: (org) => `Det här var ett verifieringssamtal från ${org}. Ingen kod lämnades i det här meddelandet. Hej då.`,
};
