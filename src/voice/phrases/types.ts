/**
 * What a call says in one language: one file per language beside this one, gathered by
 * index.ts. Keep each phrase short and plain: it is heard once, on a phone line, by
 * someone about to type a code. Digits are never written here: the voice reads the code
 * itself (say-as digits), and the gate's key is the only digit a prompt may hold, so
 * that a listener, or the simulator, hears exactly one number to press.
 */
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
