import { createPublicKey, verify, type KeyObject } from "node:crypto";

/**
 * Telnyx's webhook signature: Ed25519 over `${telnyx-timestamp}|${raw body}`, base64 in
 * telnyx-signature-ed25519, checked with the account's public key. The timestamp is
 * signed, so a request more than five minutes away from now is refused: a captured
 * request cannot be replayed later. The signature covers neither the URL nor the
 * method; callers bind the request to its call otherwise.
 */

/** How far a signature's timestamp may be from now, either way (clock skew), in seconds. */
export const TOLERANCE_SECONDS = 300;

// DER prefix of an Ed25519 SubjectPublicKeyInfo (RFC 8410): the 32 raw bytes follow it.
const SPKI_ED25519 = Buffer.from("302a300506032b6570032100", "hex");

/** The portal's base64 public key (32 raw bytes) as a key node:crypto verifies with. */
export function ed25519PublicKey(base64: string): KeyObject {
  const raw = Buffer.from(base64, "base64");
  if (raw.length !== 32) throw new Error("an Ed25519 public key is 32 bytes");
  return createPublicKey({ key: Buffer.concat([SPKI_ED25519, raw]), format: "der", type: "spki" });
}

export function verifyTelnyxSignature(
  key: KeyObject,
  signature: string | undefined,
  timestamp: string | undefined,
  rawBody: string,
  nowSeconds: number,
): boolean {
  if (!signature || !timestamp || !/^\d{1,12}$/.test(timestamp)) return false;
  if (Math.abs(nowSeconds - Number(timestamp)) > TOLERANCE_SECONDS) return false;
  if (!/^[A-Za-z0-9+/]{86}==$/.test(signature)) return false; // 64 bytes, strict base64
  return verify(null, Buffer.from(`${timestamp}|${rawBody}`, "utf8"), key, Buffer.from(signature, "base64"));
}
