import type { Phrases } from "./types.js";

export const en: Phrases = {
  tag: "en-US",
  greeting: (org) => `Hello. This is ${org} with your verification code.`,
  pressToHear: (d) => `Press ${d} to hear your code.`,
  codeIs: "Your code is:",
  again: "Again:",
  pressToRepeat: "Press any key to hear it again.",
  goodbye: "Goodbye.",
  noKey: "We did not hear the key we asked for. Goodbye.",
  unavailable: "Sorry, this code is no longer available. Please request a new one. Goodbye.",
  machine: (org) => `This was a verification call from ${org}. No code was left in this message. Goodbye.`,
};
