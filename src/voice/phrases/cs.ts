import type { Phrases } from "./types.js";

export const cs: Phrases = {
  tag: "cs-CZ",
  greeting: (org) => `Dobrý den. Tady ${org} s vaším ověřovacím kódem.`,
  pressToHear: (d) => `Pro poslech kódu stiskněte ${d}.`,
  codeIs: "Váš kód je:",
  again: "Ještě jednou:",
  pressToRepeat: "Pro opakování stiskněte libovolnou klávesu.",
  goodbye: "Na shledanou.",
  noKey: "Požadovaná klávesa nebyla stisknuta. Na shledanou.",
  unavailable: "Omlouváme se, tento kód již není platný. Vyžádejte si nový. Na shledanou.",
  machine: (org) => `Toto byl ověřovací hovor. Volal: ${org}. V této zprávě nebyl zanechán žádný kód. Na shledanou.`,
};
