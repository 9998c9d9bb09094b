import { createHmac, randomBytes } from "node:crypto";

/**
 * Signing of event webhooks as Standard Webhooks specifies (www.standardwebhooks.com):
 * HMAC-SHA256 over `${id}.${timestamp}.${body}`, so a receiver can check them with any
 * of its libraries. The `standardwebhooks` package judges these signatures in the tests.
 */

const PREFIX = "whsec_";
// The specification: at least 24 random bytes (192 bits), at most 512 bits.
const MIN_BYTES = 24;
const MAX_BYTES = 64;
// Standard base64 with its padding: what the reference libraries decode. Node's own
// decoder skips characters it does not know, so a typo would quietly make another key.
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
// The id and the timestamp are joined to the body with dots: a dot (or a space, which
// would break the header) in the id would let one signed text pass for another.
const MESSAGE_ID = /^[A-Za-z0-9_-]{1,128}$/;

// A type rather than an interface, so that it passes as a Record<string, string>.
export type SignatureHeaders = {
  "webhook-id": string;
  "webhook-timestamp": string;
  "webhook-signature": string;
};

/** A new signing secret: `whsec_` and the base64 of 32 random bytes. */
export function newSecret(): string {
  return PREFIX + randomBytes(32).toString("base64");
}

/**
 * The key bytes of a `whsec_` secret. Throws for anything else; the message never
 * repeats the secret, which may end up in a log.
 */
export function secretBytes(secret: string): Buffer {
  const fix = `a webhook secret is "${PREFIX}" followed by the base64 of ${MIN_BYTES} to ${MAX_BYTES} random bytes; generate a new one`;
  if (!secret.startsWith(PREFIX)) throw new Error(`Webhook secret does not start with "${PREFIX}": ${fix}`);
  const encoded = secret.slice(PREFIX.length);
  if (!BASE64.test(encoded)) throw new Error(`Webhook secret is not valid base64 after "${PREFIX}": ${fix}`);
  const key = Buffer.from(encoded, "base64");
  if (key.length < MIN_BYTES) throw new Error(`Webhook secret is too short (${key.length} bytes): ${fix}`);
  if (key.length > MAX_BYTES) throw new Error(`Webhook secret is too long (${key.length} bytes): ${fix}`);
  return key;
}

export function isSecret(s: string): boolean {
  try {
    secretBytes(s);
    return true;
  } catch {
    return false;
  }
}

/** A new message id (`msg_` + 144 random bits, base64url): the event's id and its `webhook-id`. */
export function newMessageId(): string {
  return "msg_" + randomBytes(18).toString("base64url");
}

/**
 * The three headers of one delivery attempt. The id stays the same across retries (the
 * receiver's idempotency key); the timestamp is the attempt's, so that receivers can
 * refuse replays. One signature per secret, space-separated: during a rotation the new
 * and the old secret both sign, and a receiver holding either one accepts the message.
 */
export function signatureHeaders(msgId: string, timestamp: Date, body: string, secrets: readonly string[]): SignatureHeaders {
  if (!MESSAGE_ID.test(msgId)) throw new Error(`Webhook message id ${JSON.stringify(msgId)} is invalid: use newMessageId() (letters, digits, "_" and "-" only)`);
  const seconds = Math.floor(timestamp.getTime() / 1000);
  if (!Number.isFinite(seconds)) throw new Error("Webhook timestamp is an invalid Date: pass the time of this attempt");
  if (secrets.length === 0) throw new Error("No webhook secret to sign with: give the endpoint a secret (newSecret()) before sending");
  const signed = `${msgId}.${seconds}.${body}`;
  const signatures = secrets.map((secret) => "v1," + createHmac("sha256", secretBytes(secret)).update(signed, "utf8").digest("base64"));
  return { "webhook-id": msgId, "webhook-timestamp": String(seconds), "webhook-signature": signatures.join(" ") };
}
