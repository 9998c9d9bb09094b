import type { Phrases } from "./types.js";

export const is: Phrases = {
  tag: "is-IS",
  greeting: (org) => `Halló. Þetta er ${org} með staðfestingarkóðann þinn.`,
  pressToHear: (d) => `Ýttu á ${d} til að heyra kóðann þinn.`,
  codeIs: "Kóðinn þinn er:",
  again: "Aftur:",
  pressToRepeat: "Ýttu á hvaða takka sem er til að heyra hann aftur.",
  goodbye: "Bless.",
  noKey: "Við fengum ekki takkann sem beðið var um. Bless.",
  unavailable: "Því miður er þessi kóði ekki lengur í gildi. Biddu um nýjan. Bless.",
  machine: (org) => `Þetta var staðfestingarsímtal frá ${org}. Enginn kóði var skilinn eftir í þessum skilaboðum. Bless.`,
};
