import type { Phrases } from "./types.js";

export const es: Phrases = {
  tag: "es-US",
  greeting: (org) => `Hola. Le llamamos de ${org} con su código de verificación.`,
  pressToHear: (d) => `Pulse ${d} para escuchar su código.`,
  codeIs: "Su código es:",
  again: "Otra vez:",
  pressToRepeat: "Pulse cualquier tecla para escucharlo de nuevo.",
  goodbye: "Adiós.",
  noKey: "No recibimos la tecla indicada. Adiós.",
  unavailable: "Lo sentimos, este código ya no está disponible. Solicite uno nuevo. Adiós.",
  machine: (org) => `Esta fue una llamada de verificación de ${org}. No se dejó ningún código en este mensaje. Adiós.`,
};
