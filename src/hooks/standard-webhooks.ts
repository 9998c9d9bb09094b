import { createHmac, timingSafeEqual } from "node:crypto";

/**
 * Checks a request signed as Standard Webhooks specifies (www.standardwebhooks.com), the
 * way Supabase signs its auth hooks: `webhook-signature` holds `v1,<base64 HMAC-SHA256 of
 * "id.timestamp.body">`, one per secret the sender holds. The mirror of
 * src/events/signature.ts, which signs the events this service sends.
 */

/** How far a timestamp may be from our clock: past it, a captured request is a replay. */
export const TOLERANCE_SECONDS = 5 * 60;

export interface SignedHeaders {
  id: string | undefined;
  timestamp: string | undefined;
  signature: string | undefined;
}

export type Verdict = { ok: true; id: string } | { ok: false; reason: string };

// The id and timestamp are joined to the body with dots, so neither may hold one.
const MESSAGE_ID = /^[^.\s]{1,255}$/;
const SECONDS = /^\d{1,12}$/;

export function verifySignedRequest(headers: SignedHeaders, body: string, keys: readonly Buffer[], now: Date): Verdict {
  const { id, timestamp, signature } = headers;
  if (!id || !timestamp || !signature) return { ok: false, reason: "the webhook-id, webhook-timestamp and webhook-signature headers are required" };
  if (!MESSAGE_ID.test(id)) return { ok: false, reason: "webhook-id is not a message id" };
  if (!SECONDS.test(timestamp)) return { ok: false, reason: "webhook-timestamp is not a time in Unix seconds" };
  if (Math.abs(now.getTime() / 1000 - Number(timestamp)) > TOLERANCE_SECONDS) {
    return { ok: false, reason: "webhook-timestamp is more than 5 minutes from this service's clock: a replay, or a clock to synchronise" };
  }
  const signed = Buffer.from(`${id}.${timestamp}.${body}`, "utf8");
  const expected = keys.map((key) => createHmac("sha256", key).update(signed).digest());
  // Space-separated as the specification writes it; Supabase joins its signatures with ", ".
  for (const entry of signature.split(/\s+/)) {
    const [version, value] = entry.replace(/,+$/, "").split(",", 2);
    if (version !== "v1" || !value) continue;
    const given = Buffer.from(value, "base64");
    // Constant time: a comparison that stopped at the first wrong byte would let a forger find the MAC byte by byte.
    if (expected.some((mac) => mac.length === given.length && timingSafeEqual(mac, given))) return { ok: true, id };
  }
  return { ok: false, reason: "no signature in webhook-signature matches the hook's secret" };
}
