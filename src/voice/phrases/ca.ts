import type { Phrases } from "./types.js";

export const ca: Phrases = {
  tag: "ca-ES",
  greeting: (org) => `Hola. Us truquem de ${org} amb el vostre codi de verificació.`,
  pressToHear: (d) => `Premeu ${d} per escoltar el vostre codi.`,
  codeIs: "El vostre codi és:",
  again: "Un altre cop:",
  pressToRepeat: "Premeu qualsevol tecla per tornar-lo a escoltar.",
  goodbye: "Adéu.",
  noKey: "No hem rebut la tecla indicada. Adéu.",
  unavailable: "Ho sentim, aquest codi ja no està disponible. Sol·liciteu-ne un de nou. Adéu.",
  machine: (org) => `Aquesta era una trucada de verificació de ${org}. No s'ha deixat cap codi en aquest missatge. Adéu.`,
};
