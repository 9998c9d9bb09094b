// The call's script as plain data. voice/script.ts decides what is said;
// each carrier renders it with its own SDK builder, so no XML is built by hand.

export type SpeechPart =
  | { text: string }
  | { digit: string } // one digit, read as a digit, never as part of a number
  | { breakMs: number }; // an SSML <break>; only used when the voice supports SSML

export interface SayStep {
  kind: "say";
  parts: SpeechPart[];
  language: string; // BCP 47, e.g. "en-US"
  voice?: string; // carrier voice name, e.g. "Polly.Joanna"
}

export interface PauseStep {
  kind: "pause";
  seconds: number;
}

export interface GatherStep {
  kind: "gather";
  action: string; // absolute URL the carrier posts the pressed keys to
  method: "POST";
  numDigits: number;
  timeoutSeconds: number;
  children: Array<SayStep | PauseStep>;
}

export interface HangupStep {
  kind: "hangup";
}

export type VoiceStep = SayStep | PauseStep | GatherStep | HangupStep;
export type VoiceScript = VoiceStep[];
