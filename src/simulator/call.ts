import type { Closing } from "./closing.js";
import type { CallDialect, OutgoingWebhook } from "./flavor.js";
import { send } from "./send.js";
import type { AnsweringOutcome, CallRecord, Outcome } from "./types.js";
import { parseXml, textOf, type XmlElement } from "./xml.js";

export interface CallContext {
  /** The carrier's webhook fields and voice XML rules. */
  dialect: CallDialect;
  /** The carrier's User-Agent on webhook requests. */
  userAgent: string;
  /** The carrier's signature headers for this webhook request. */
  sign(webhook: OutgoingWebhook): Record<string, string>;
  closing: Closing;
  ringMs: number;
  changed(): void;
  /** Resolves when a held call is picked up (or the simulator closes). */
  pickedUp(call: CallRecord): Promise<void>;
  /** Webhook requests of every call, sent and not answered yet. */
  webhooks: { inFlight: number };
}

const WEBHOOK_TIMEOUT_MS = 15_000; // the carriers give a webhook 15 s
const MAX_DOCUMENTS = 25; // a redirect loop ends the call, as on a real carrier
const sleep = (ms: number, closing: Closing) =>
  new Promise<void>((resolve) => {
    if (ms <= 0 || closing.closed) return resolve();
    const t = setTimeout(() => (forget(), resolve()), ms);
    const forget = closing.onClose(() => (clearTimeout(t), resolve()));
  });

type Next = { url: string; method: string; digits?: string };

/** Plays one outbound call the way the carrier would, after the create-call API accepted it. */
export async function runCall(ctx: CallContext, call: CallRecord, outcome: AnsweringOutcome): Promise<void> {
  const startedAt = Date.now();
  let sequence = 0;
  const { dialect } = ctx;

  async function request(kind: "voice" | "status", url: string, method: string, params: Record<string, string>) {
    let target = url;
    let signed = params;
    if (method === "GET") {
      target = `${url}${url.includes("?") ? "&" : "?"}${new URLSearchParams(params)}`;
      signed = {};
    }
    // Sign the URL as it goes on the wire: URL escapes what the given URL left raw
    // (' space |), and the service checks the signature against the target it received.
    target = new URL(target).href;
    const body = method === "POST" ? new URLSearchParams(params).toString() : undefined;
    ctx.webhooks.inFlight++;
    let res: Awaited<ReturnType<typeof send>>;
    try {
      res = await send(target, {
        method,
        timeoutMs: WEBHOOK_TIMEOUT_MS,
        closing: ctx.closing,
        headers: {
          ...ctx.sign({ url: target, params: signed, body: body ?? "" }),
          "User-Agent": ctx.userAgent,
          ...(method === "POST" ? { "Content-Type": "application/x-www-form-urlencoded" } : {}),
        },
        body,
      });
    } finally {
      ctx.webhooks.inFlight--;
    }
    call.requests.push({ kind, url: target, method, status: res.status });
    return res;
  }

  async function setStatus(status: string, event: "initiated" | "ringing" | "answered" | "completed") {
    call.status = status;
    call.events.push({ status, at: new Date() });
    ctx.changed();
    if (!call.statusCallback) return;
    // With no StatusCallbackEvent the carrier reports only the end of the call.
    const wanted = call.statusCallbackEvents.length ? call.statusCallbackEvents : ["completed"];
    if (!wanted.includes(event)) return;
    const duration = event === "completed" ? Math.round((Date.now() - startedAt) / 1000) : undefined;
    const params = dialect.statusParams(call, sequence++, duration);
    try {
      const res = await request("status", call.statusCallback, call.statusCallbackMethod, params);
      if (!res.ok) call.webhookErrors.push(`status callback ${status}: HTTP ${res.status}`);
    } catch (err) {
      if (!ctx.closing.closed) call.webhookErrors.push(`status callback ${status}: ${describe(err)}`);
    }
  }

  try {
    await setStatus("initiated", "initiated");
    await sleep(ctx.ringMs, ctx.closing);
    await setStatus("ringing", "ringing");
    await sleep(outcome.ringMs ?? ctx.ringMs, ctx.closing);
    if (outcome.kind === "answer" && outcome.hold) await ctx.pickedUp(call);
    if (outcome.kind === "busy" || outcome.kind === "no-answer" || outcome.kind === "failed") {
      await setStatus(outcome.kind, "completed");
      return;
    }
    if (call.machineDetection) call.answeredBy = outcome.kind === "voicemail" ? dialect.machineAnswer : "human";
    await setStatus("in-progress", "answered");
    await converse(outcome as Extract<Outcome, { kind: "answer" | "voicemail" }>);
    await setStatus("completed", "completed");
  } finally {
    call.ended = true;
    ctx.changed();
  }

  /** Fetches voice documents and acts on them until the call hangs up. */
  async function converse(outcome: Extract<Outcome, { kind: "answer" | "voicemail" }>) {
    const keys = outcome.kind === "voicemail" ? [] : outcome.keys === undefined || outcome.keys === "auto" ? "auto" : [...outcome.keys];
    let next: Next | null = { url: call.url, method: call.method };
    for (let documents = 0; next && documents < MAX_DOCUMENTS && !ctx.closing.closed; documents++) {
      const { url, method, digits } = next;
      next = null;
      let doc: XmlElement;
      try {
        const params = digits === undefined ? dialect.voiceParams(call) : dialect.gatherParams(call, digits);
        const res = await request("voice", url, method, params);
        if (!res.ok) throw new Error(`HTTP ${res.status}`);
        doc = parseXml(res.body);
        if (doc.name !== "Response") throw new Error(`root element is <${doc.name}>, not <Response>`);
      } catch (err) {
        if (ctx.closing.closed) return;
        call.webhookErrors.push(`${url}: ${describe(err)}`);
        call.heard.push("We are sorry, an application error has occurred. Goodbye.");
        return;
      }
      for (const verb of doc.children) {
        if ("text" in verb) continue;
        const step = act(verb, url, keys);
        if (step === "hangup") return;
        if (step) {
          next = step;
          break;
        }
      }
    }
  }

  /** One verb. Returns where to go next, "hangup", or nothing to carry on with the next verb. */
  function act(verb: XmlElement, docUrl: string, keys: "auto" | string[]): Next | "hangup" | undefined {
    switch (verb.name) {
      case "Say":
        call.heard.push(textOf(verb));
        return;
      case "Play":
        call.heard.push(`[audio ${textOf(verb)}]`);
        return;
      case "Pause":
        return;
      case "Gather": {
        const prompt: string[] = [];
        for (const child of verb.children) {
          if ("text" in child) continue;
          if (!dialect.gatherChildren.has(child.name)) {
            call.webhookErrors.push(`<${child.name}> is not allowed inside <Gather>`);
            return "hangup";
          }
          if (child.name === "Say" || child.name === "Play") {
            act(child, docUrl, keys);
            prompt.push(textOf(child));
          }
        }
        const key = pressKey(keys, prompt.join(" "));
        if (!key) return; // no input: the carrier carries on with the next verb
        // The finish key (# unless finishOnKey says otherwise) ends the Gather and is no digit:
        // pressed alone, it is no input.
        const finish = verb.attrs.finishOnKey ?? "#";
        if (finish !== "" && finish.includes(key)) {
          call.keysPressed.push(key);
          return;
        }
        call.keysPressed.push(key);
        ctx.changed();
        return {
          url: new URL(verb.attrs.action ?? docUrl, docUrl).toString(),
          method: dialect.gatherMethod(verb.attrs),
          digits: key,
        };
      }
      case "Redirect":
        return {
          url: new URL(textOf(verb) || docUrl, docUrl).toString(),
          method: (verb.attrs.method ?? "POST").toUpperCase(),
        };
      case "Hangup":
      case "Reject":
        return "hangup";
      default:
        call.webhookErrors.push(`unsupported verb <${verb.name}>`);
        return "hangup";
    }
  }
}

/**
 * The listener's finger. "auto" presses a digit only when the prompt names exactly one
 * ("Press 7 to hear your code"), in any language, and stays silent while a code is read.
 */
function pressKey(keys: "auto" | string[], prompt: string): string | undefined {
  if (keys === "auto") {
    const digits = prompt.match(/\d/g) ?? [];
    return digits.length === 1 ? digits[0] : undefined;
  }
  return keys.shift() || undefined;
}

/** The message with the network's code (ECONNRESET, ETIMEDOUT…) when it has one. */
function describe(err: unknown): string {
  const e = err as Error & { code?: string };
  return e.code && !e.message.includes(e.code) ? `${e.message} (${e.code})` : e.message;
}
