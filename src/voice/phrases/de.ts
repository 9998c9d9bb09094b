import type { Phrases } from "./types.js";

export const de: Phrases = {
  tag: "de-DE",
  greeting: (org) => `Guten Tag. Hier ist ${org} mit Ihrem Bestätigungscode.`,
  pressToHear: (d) => `Drücken Sie die ${d}, um Ihren Code zu hören.`,
  codeIs: "Ihr Code lautet:",
  again: "Noch einmal:",
  pressToRepeat: "Drücken Sie eine beliebige Taste, um ihn noch einmal zu hören.",
  goodbye: "Auf Wiederhören.",
  noKey: "Wir haben die gewünschte Taste nicht erhalten. Auf Wiederhören.",
  unavailable: "Dieser Code ist leider nicht mehr gültig. Bitte fordern Sie einen neuen an. Auf Wiederhören.",
  machine: (org) => `Dies war ein Bestätigungsanruf von ${org}. In dieser Nachricht wurde kein Code hinterlassen. Auf Wiederhören.`,
};
