import type { Phrases } from "./types.js";

export const fr: Phrases = {
  tag: "fr-FR",
  greeting: (org) => `Bonjour. Ici ${org} avec votre code de vérification.`,
  pressToHear: (d) => `Appuyez sur ${d} pour entendre votre code.`,
  codeIs: "Votre code est :",
  again: "Je répète :",
  pressToRepeat: "Appuyez sur une touche pour l'entendre à nouveau.",
  goodbye: "Au revoir.",
  noKey: "Nous n'avons pas reçu la touche demandée. Au revoir.",
  unavailable: "Désolé, ce code n'est plus disponible. Veuillez en demander un nouveau. Au revoir.",
  machine: (org) => `Ceci était un appel de vérification de ${org}. Aucun code n'a été laissé dans ce message. Au revoir.`,
};
