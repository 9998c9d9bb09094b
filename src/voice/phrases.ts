/** What the call says, per language. Digits are read by the voice itself. */
export interface Phrases {
  /** BCP 47 tag given to the carrier's text-to-speech. */
  tag: string;
  /** An Amazon Polly voice for this language (SSML capable on both carriers). */
  defaultVoice: string;
  greeting: (org: string) => string;
  pressToHear: (digit: number) => string;
  codeIs: string;
  again: string;
  pressToRepeat: string;
  goodbye: string;
  noKey: string;
  unavailable: string;
  machine: (org: string) => string;
}

export const PHRASES: Record<string, Phrases> = {
  en: {
    tag: "en-US",
    defaultVoice: "Polly.Joanna",
    greeting: (org) => `Hello. This is ${org} with your verification code.`,
    pressToHear: (d) => `Press ${d} to hear your code.`,
    codeIs: "Your code is:",
    again: "Again:",
    pressToRepeat: "Press any key to hear it again.",
    goodbye: "Goodbye.",
    noKey: "We did not hear the key we asked for. Goodbye.",
    unavailable: "Sorry, this code is no longer available. Please request a new one. Goodbye.",
    machine: (org) => `This was a verification call from ${org}. No code was left in this message. Goodbye.`,
  },
  es: {
    tag: "es-US",
    defaultVoice: "Polly.Lupe",
    greeting: (org) => `Hola. Le llamamos de ${org} con su código de verificación.`,
    pressToHear: (d) => `Pulse ${d} para escuchar su código.`,
    codeIs: "Su código es:",
    again: "Otra vez:",
    pressToRepeat: "Pulse cualquier tecla para escucharlo de nuevo.",
    goodbye: "Adiós.",
    noKey: "No recibimos la tecla indicada. Adiós.",
    unavailable: "Lo sentimos, este código ya no está disponible. Solicite uno nuevo. Adiós.",
    machine: (org) => `Esta fue una llamada de verificación de ${org}. No se dejó ningún código en este mensaje. Adiós.`,
  },
  fr: {
    tag: "fr-FR",
    defaultVoice: "Polly.Lea",
    greeting: (org) => `Bonjour. Ici ${org} avec votre code de vérification.`,
    pressToHear: (d) => `Appuyez sur ${d} pour entendre votre code.`,
    codeIs: "Votre code est :",
    again: "Je répète :",
    pressToRepeat: "Appuyez sur une touche pour l'entendre à nouveau.",
    goodbye: "Au revoir.",
    noKey: "Nous n'avons pas reçu la touche demandée. Au revoir.",
    unavailable: "Désolé, ce code n'est plus disponible. Veuillez en demander un nouveau. Au revoir.",
    machine: (org) => `Ceci était un appel de vérification de ${org}. Aucun code n'a été laissé dans ce message. Au revoir.`,
  },
  de: {
    tag: "de-DE",
    defaultVoice: "Polly.Vicki",
    greeting: (org) => `Guten Tag. Hier ist ${org} mit Ihrem Bestätigungscode.`,
    pressToHear: (d) => `Drücken Sie die ${d}, um Ihren Code zu hören.`,
    codeIs: "Ihr Code lautet:",
    again: "Noch einmal:",
    pressToRepeat: "Drücken Sie eine beliebige Taste, um ihn noch einmal zu hören.",
    goodbye: "Auf Wiederhören.",
    noKey: "Wir haben die gewünschte Taste nicht erhalten. Auf Wiederhören.",
    unavailable: "Dieser Code ist leider nicht mehr gültig. Bitte fordern Sie einen neuen an. Auf Wiederhören.",
    machine: (org) => `Dies war ein Bestätigungsanruf von ${org}. In dieser Nachricht wurde kein Code hinterlassen. Auf Wiederhören.`,
  },
  pt: {
    tag: "pt-BR",
    defaultVoice: "Polly.Camila",
    greeting: (org) => `Olá. Aqui é ${org} com o seu código de verificação.`,
    pressToHear: (d) => `Pressione ${d} para ouvir o seu código.`,
    codeIs: "O seu código é:",
    again: "Repetindo:",
    pressToRepeat: "Pressione qualquer tecla para ouvir novamente.",
    goodbye: "Até logo.",
    noKey: "Não recebemos a tecla solicitada. Até logo.",
    unavailable: "Desculpe, este código não está mais disponível. Solicite um novo. Até logo.",
    machine: (org) => `Esta foi uma chamada de verificação de ${org}. Nenhum código foi deixado nesta mensagem. Até logo.`,
  },
};

export const LANGUAGES = Object.keys(PHRASES);

/** "pt-BR", "PT", "pt" → "pt"; undefined for a language without phrases. */
export function resolveLanguage(input: string): string | undefined {
  const base = input.trim().toLowerCase().split(/[-_]/)[0] ?? "";
  // Own keys only: "constructor" is `in` every object, and would pass for a language.
  return Object.hasOwn(PHRASES, base) ? base : undefined;
}
