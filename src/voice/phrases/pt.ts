import type { Phrases } from "./types.js";

export const pt: Phrases = {
  tag: "pt-BR",
  greeting: (org) => `Olá. Aqui é ${org} com o seu código de verificação.`,
  pressToHear: (d) => `Pressione ${d} para ouvir o seu código.`,
  codeIs: "O seu código é:",
  again: "Repetindo:",
  pressToRepeat: "Pressione qualquer tecla para ouvir novamente.",
  goodbye: "Até logo.",
  noKey: "Não recebemos a tecla solicitada. Até logo.",
  unavailable: "Desculpe, este código não está mais disponível. Solicite um novo. Até logo.",
  machine: (org) => `Esta foi uma chamada de verificação de ${org}. Nenhum código foi deixado nesta mensagem. Até logo.`,
};
