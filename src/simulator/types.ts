/** What the phone at a destination number does. Scripted per number; the default answers. */
export type Outcome =
  | {
      kind: "answer";
      /** Keys to press, one entry per Gather ("" presses nothing there); "auto" presses the one digit a prompt names. */
      keys?: "auto" | string[];
      /** How long the phone rings before it is picked up. */
      ringMs?: number;
      /** Delay before the create-call API answers (a slow carrier). */
      apiDelayMs?: number;
      /**
       * The phone rings until the test picks it up (`Simulator.pickUp`): the call is placed
       * but its webhook is not fetched yet, for tests of what happens in between.
       */
      hold?: boolean;
    }
  | { kind: "voicemail"; ringMs?: number; apiDelayMs?: number } // answers, listens, never presses a key
  | { kind: "busy" | "no-answer" | "failed"; ringMs?: number; apiDelayMs?: number }
  | { kind: "api-error"; status: number; code: number; message: string; field?: string; headers?: Record<string, string> }
  | { kind: "api-timeout" } // the create-call API never answers
  | { kind: "api-malformed" }; // the create-call API answers an HTML error page

/** The outcomes in which the create-call API accepts the call and the phone plays it. */
export type AnsweringOutcome = Extract<Outcome, { kind: "answer" | "voicemail" | "busy" | "no-answer" | "failed" }>;

export interface CallEvent {
  status: string; // queued, initiated, ringing, in-progress, completed, busy, no-answer, failed
  at: Date;
}

/** What a create-call request asks for, whatever the carrier calls its fields. */
export interface CallRequest {
  to: string;
  from: string;
  url: string;
  method: string;
  statusCallback?: string;
  statusCallbackMethod: string;
  statusCallbackEvents: string[];
  machineDetection: boolean;
}

export interface CallRecord extends CallRequest {
  sid: string;
  answeredBy?: string;
  status: string;
  /** Everything said to the phone, in order, one entry per Say (or Play). */
  heard: string[];
  keysPressed: string[];
  events: CallEvent[];
  /** Every request the carrier made to the service, with the HTTP status it got. */
  requests: Array<{ kind: "voice" | "status"; url: string; method: string; status: number }>;
  /** What went wrong with the service's webhooks (non-2xx, bad XML, unknown verb). */
  webhookErrors: string[];
  ended: boolean;
}
