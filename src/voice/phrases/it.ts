import type { Phrases } from "./types.js";

export const it: Phrases = {
  tag: "it-IT",
  greeting: (org) => `Buongiorno. La chiamiamo da ${org} con il suo codice di verifica.`,
  pressToHear: (d) => `Prema ${d} per ascoltare il suo codice.`,
  codeIs: "Il suo codice è:",
  again: "Ripeto:",
  pressToRepeat: "Prema un tasto qualsiasi per riascoltarlo.",
  goodbye: "Arrivederci.",
  noKey: "Non abbiamo ricevuto il tasto richiesto. Arrivederci.",
  unavailable: "Spiacenti, questo codice non è più disponibile. Ne richieda uno nuovo. Arrivederci.",
  machine: (org) => `Questa era una chiamata di verifica da ${org}. In questo messaggio non è stato lasciato alcun codice. Arrivederci.`,
};
