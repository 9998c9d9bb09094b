import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes, randomInt } from "node:crypto";

/** Keys for code material, derived from SECRET_KEY so one secret never serves two purposes. */
export interface CodeKeys {
  mac: Buffer;
  seal: Buffer;
}

export function deriveCodeKeys(secret: string): CodeKeys {
  const ikm = Buffer.from(secret, "utf8");
  const derive = (info: string) => Buffer.from(hkdfSync("sha256", ikm, Buffer.alloc(0), info, 32));
  return { mac: derive("voice-otp code mac v1"), seal: derive("voice-otp code seal v1") };
}

/** Uniform random digits: randomInt avoids the modulo bias of bytes % 10. */
export function generateCode(length: number): string {
  let code = "";
  for (let i = 0; i < length; i++) code += randomInt(0, 10).toString();
  return code;
}

/**
 * The keyed MAC that is stored and compared instead of the code. Without the key
 * a stolen database cannot be brute-forced over the small code space; and since
 * an attacker can neither choose nor see MAC values, comparing MACs leaks nothing
 * about the code through timing, even where the comparison itself happens in SQL.
 */
export function macCode(keys: CodeKeys, code: string): string {
  return createHmac("sha256", keys.mac).update(`code:${code}`).digest("base64url");
}

/**
 * AES-256-GCM, bound to the challenge id as associated data so a sealed code
 * copied onto another row does not open there.
 */
export function sealCode(keys: CodeKeys, challengeId: string, code: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv("aes-256-gcm", keys.seal, iv);
  cipher.setAAD(Buffer.from(challengeId));
  const body = Buffer.concat([cipher.update(code, "utf8"), cipher.final()]);
  return ["v1", iv.toString("base64url"), body.toString("base64url"), cipher.getAuthTag().toString("base64url")].join(".");
}

/** Returns the code, or null when the box was not sealed by us for this challenge. */
export function unsealCode(keys: CodeKeys, challengeId: string, sealed: string): string | null {
  const [version, iv, body, tag] = sealed.split(".");
  if (version !== "v1" || !iv || !body || !tag) return null;
  try {
    const decipher = createDecipheriv("aes-256-gcm", keys.seal, Buffer.from(iv, "base64url"));
    decipher.setAAD(Buffer.from(challengeId));
    decipher.setAuthTag(Buffer.from(tag, "base64url"));
    return Buffer.concat([decipher.update(Buffer.from(body, "base64url")), decipher.final()]).toString("utf8");
  } catch {
    return null;
  }
}

/** 128 random bits, URL-safe: unguessable, and safe to put in a webhook URL. */
export function newChallengeId(): string {
  return `ch_${randomBytes(16).toString("base64url")}`;
}

/** A digit 1–9 for the voice gate; 0 is left out because some keypads put it out of reach. */
export function newGateDigit(): number {
  return randomInt(1, 10);
}
