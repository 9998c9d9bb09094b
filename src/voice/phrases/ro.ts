import type { Phrases } from "./types.js";

export const ro: Phrases = {
  tag: "ro-RO",
  greeting: (org) => `Bună ziua. Aici ${org}, cu codul dumneavoastră de verificare.`,
  pressToHear: (d) => `Apăsați ${d} pentru a asculta codul.`,
  codeIs: "Codul dumneavoastră este:",
  again: "Încă o dată:",
  pressToRepeat: "Apăsați orice tastă pentru a-l asculta din nou.",
  goodbye: "La revedere.",
  noKey: "Nu am primit tasta cerută. La revedere.",
  unavailable: "Ne pare rău, acest cod nu mai este valabil. Vă rugăm să cereți unul nou. La revedere.",
  machine: (org) => `Acesta a fost un apel de verificare de la ${org}. Niciun cod nu a fost lăsat în acest mesaj. La revedere.`,
};
