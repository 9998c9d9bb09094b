import type { Phrases } from "./types.js";

// The name stands in the nominative ("Tu …", "…: name"), so no declension is needed.
export const pl: Phrases = {
  tag: "pl-PL",
  greeting: (org) => `Dzień dobry. Tu ${org}. Dzwonimy z kodem weryfikacyjnym.`,
  pressToHear: (d) => `Naciśnij ${d}, aby usłyszeć kod.`,
  codeIs: "Twój kod to:",
  again: "Powtarzam:",
  pressToRepeat: "Naciśnij dowolny klawisz, aby usłyszeć go ponownie.",
  goodbye: "Do widzenia.",
  noKey: "Nie naciśnięto wskazanego klawisza. Do widzenia.",
  unavailable: "Przepraszamy, ten kod jest już nieważny. Poproś o nowy. Do widzenia.",
  machine: (org) => `To było połączenie weryfikacyjne. Dzwonił: ${org}. W tej wiadomości nie pozostawiono kodu. Do widzenia.`,
};
