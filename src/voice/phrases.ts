import { LANGUAGE_TAGS } from "./voices.js";

/** What the call says, per language. Digits are read by the voice itself. */
export interface Phrases {
  /** The tag (a row of voices.ts) the bare language is spoken in, unless LANGUAGE names another of its tags. */
  tag: string;
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

/**
 * A language as a request or LANGUAGE gives it, in our spelling: "EN" → "en", "es_mx" →
 * "es-MX". Undefined for a language without phrases, or a tag without voices (es-AR):
 * such a tag is refused, not quietly spoken in another region.
 */
export function resolveLanguage(input: string): string | undefined {
  const wanted = input.trim().toLowerCase().replace(/_/g, "-");
  // Own keys only: "constructor" is `in` every object, and would pass for a language.
  if (Object.hasOwn(PHRASES, wanted)) return wanted;
  return LANGUAGE_TAGS.find((tag) => tag.toLowerCase() === wanted);
}

/**
 * The tag a call is spoken in. A bare language takes the region LANGUAGE gives it
 * (LANGUAGE=es-MX: "es" is es-MX), else its usual one; an unknown value is English.
 */
export function speakingTag(language: string, configured?: string): string {
  const resolved = resolveLanguage(language);
  if (resolved === undefined) return PHRASES.en!.tag;
  if (!Object.hasOwn(PHRASES, resolved)) return resolved;
  const preferred = configured === undefined ? undefined : resolveLanguage(configured);
  if (preferred && preferred !== resolved && baseLanguage(preferred) === resolved) return preferred;
  return PHRASES[resolved]!.tag;
}

/** "es-MX" → "es": the key of its phrases. */
export function baseLanguage(tag: string): string {
  return tag.split("-")[0]!.toLowerCase();
}
