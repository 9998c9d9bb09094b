import type { CallRecord } from "../../src/simulator/index.js";
import type { TestService } from "./service.js";

/** Fresh, valid US numbers (555-01xx is reserved for fiction but valid to libphonenumber). */
export function numbers(): () => string {
  const areas = ["212", "646", "312", "617", "303", "206"];
  let i = 0;
  return () => {
    const area = areas[Math.floor(i / 100) % areas.length]!;
    return `+1${area}55501${String(i++ % 100).padStart(2, "0")}`;
  };
}

/** The parameters the carrier sends about this call when it fetches the voice document (CallSid, CallStatus… in every carrier played so far). */
export function callParams(t: TestService, call: CallRecord): Record<string, string> {
  return t.simulator.webhookParams(call);
}

export interface WebhookOptions {
  /** false: no signature header at all. */
  sign?: boolean;
  /** A given signature instead of the real one. */
  signature?: string;
  /** Sign this URL instead of the one requested. */
  signedUrl?: string;
  /** Change these parameters after signing. */
  tamper?: Record<string, string>;
  /** Sign as of this Unix time (carriers whose signature carries one). */
  timestamp?: number;
}

/** Posts to one of the service's webhooks as the carrier would, signed by the simulator's own key. */
export async function postWebhook(t: TestService, path: string, params: Record<string, string>, opts: WebhookOptions = {}) {
  const url = `${t.service.deps.publicBaseUrl()}${path}`;
  let headers: Record<string, string> = {};
  if (opts.sign !== false) {
    headers = t.simulator.sign(opts.signedUrl ?? url, params, { timestamp: opts.timestamp });
    if (opts.signature) for (const k of Object.keys(headers)) headers[k] = opts.signature;
  }
  const res = await fetch(`${t.service.url}${path}`, {
    method: "POST",
    headers: { ...headers, "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ ...params, ...opts.tamper }).toString(),
  });
  const text = await res.text();
  let body: any;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  return { status: res.status, text, body, headers: res.headers };
}
