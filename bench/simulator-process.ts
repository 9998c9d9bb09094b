import { startSimulator, type CallRecord, type Outcome } from "../src/simulator/index.js";
import { serveParent } from "./processes.js";

/**
 * The carrier, in its own process so its work (signing and sending every webhook
 * of every call) does not count against the service. By default a call is answered
 * at once (ringMs 0) and played through: its three status callbacks and its voice
 * webhook reach the service without pauses between them.
 */
const simulator = await startSimulator({
  flavor: "twilio",
  accountSid: process.env.SIM_ACCOUNT_SID!,
  authToken: process.env.SIM_AUTH_TOKEN!,
  host: "127.0.0.1",
  port: 0,
  ringMs: 0,
});

/** Numbers whose phones ring through the whole run: their calls never end on their own. */
const ringingOnPurpose = new Set<string>();

/** The digits the phone heard after "Your code is" (as test/helpers/service.ts reads them). */
function codeHeard(heard: string[]): string | null {
  const m = /Your code is:?\s*([\d.\s]+?)\s*Again/i.exec(heard.join(" "));
  return m ? m[1]!.replace(/\D/g, "") : null;
}

/** Calls newCodes() has already reported (or found ended without a code), and the first index not all of them are. */
const settled = new WeakSet<CallRecord>();
let firstUnsettled = 0;

serveParent(
  {
    /** What the phones at these numbers do (and how long the carrier takes to accept their calls). */
    outcome({ numbers, outcome }: { numbers: string[]; outcome: Outcome }) {
      const ringsOn = "ringMs" in outcome && (outcome.ringMs ?? 0) >= 60_000;
      for (const n of numbers) {
        simulator.setOutcome(n, outcome);
        if (ringsOn) ringingOnPurpose.add(n);
      }
    },
    /**
     * Waits until every call placed so far has ended, or rings on purpose, and every
     * webhook sent has been answered: a run's late status callbacks (a surge queues
     * them behind the pool's connections) must not land in the next run.
     */
    async idle({ timeoutMs }: { timeoutMs: number }) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const open = simulator.calls().filter((c) => !c.ended && !(ringingOnPurpose.has(c.to) && c.status === "ringing")).length;
        if ((open === 0 && simulator.webhooksInFlight() === 0) || Date.now() > deadline) return { open };
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    /** Calls, webhook requests the service answered, and what went wrong with them. */
    stats() {
      let webhooks = 0;
      let webhookErrors = 0;
      const calls = simulator.calls();
      for (const c of calls) {
        webhooks += c.requests.length;
        webhookErrors += c.webhookErrors.length;
      }
      return { calls: calls.length, webhooks, webhookErrors, sampleError: calls.find((c) => c.webhookErrors.length)?.webhookErrors[0] };
    },
    /**
     * [challenge id, code heard, number] for each call that has ended since the last ask and read a
     * code, and how many ended without one: the soak asks every fraction of a second over
     * thousands of calls, so each call is looked at until it ends and never after.
     */
    newCodes() {
      const calls = simulator.calls();
      const heard: Array<[string, string, string]> = [];
      let withoutCode = 0;
      for (let i = firstUnsettled; i < calls.length; i++) {
        const c = calls[i]!;
        if (!c.ended || settled.has(c)) continue;
        settled.add(c);
        const code = codeHeard(c.heard);
        const id = new URL(c.url).searchParams.get("c");
        if (code && id) heard.push([id, code, c.to]);
        else withoutCode++;
      }
      while (firstUnsettled < calls.length && settled.has(calls[firstUnsettled]!)) firstUnsettled++;
      return { heard, withoutCode };
    },
    /** [challenge id, code heard] for every call that read a code. */
    codes() {
      const out: Array<[string, string]> = [];
      for (const c of simulator.calls()) {
        const code = codeHeard(c.heard);
        const id = new URL(c.url).searchParams.get("c");
        if (code && id) out.push([id, code]);
      }
      return out;
    },
  },
  () => simulator.close(),
);
process.send!({ type: "ready", url: simulator.url });
