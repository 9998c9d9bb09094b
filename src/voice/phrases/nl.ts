import type { Phrases } from "./types.js";

export const nl: Phrases = {
  tag: "nl-NL",
  greeting: (org) => `Goedendag. U wordt gebeld door ${org} met uw verificatiecode.`,
  pressToHear: (d) => `Druk op ${d} om uw code te horen.`,
  codeIs: "Uw code is:",
  again: "Nogmaals:",
  pressToRepeat: "Druk op een willekeurige toets om de code opnieuw te horen.",
  goodbye: "Tot ziens.",
  noKey: "We hebben de gevraagde toets niet ontvangen. Tot ziens.",
  unavailable: "Helaas is deze code niet meer geldig. Vraag een nieuwe code aan. Tot ziens.",
  machine: (org) => `Dit was een verificatieoproep van ${org}. In dit bericht is geen code achtergelaten. Tot ziens.`,
};
