import { createCipheriv, createDecipheriv, createPrivateKey, hkdfSync, randomBytes, type KeyObject } from "node:crypto";

/**
 * Signing keys' private halves at rest: AES-256-GCM under a key derived from SECRET_KEY
 * for this purpose alone (its own HKDF info), bound to the key's kid as associated data so
 * a sealed key copied onto another row does not open there.
 */

export const deriveKeySealKey = (secret: string): Buffer =>
  Buffer.from(hkdfSync("sha256", Buffer.from(secret, "utf8"), Buffer.alloc(0), "voice-otp signing key seal v1", 32));

export function sealPrivateKey(sealKey: Buffer, kid: string, privateKey: KeyObject): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv("aes-256-gcm", sealKey, iv);
  cipher.setAAD(Buffer.from(`signing-key:${kid}`));
  const pkcs8 = privateKey.export({ format: "der", type: "pkcs8" });
  const body = Buffer.concat([cipher.update(pkcs8), cipher.final()]);
  pkcs8.fill(0);
  return ["v1", iv.toString("base64url"), body.toString("base64url"), cipher.getAuthTag().toString("base64url")].join(".");
}

/** The private key, or null when it was not sealed for this kid under this SECRET_KEY. */
export function unsealPrivateKey(sealKey: Buffer, kid: string, sealed: string): KeyObject | null {
  const [version, iv, body, tag] = sealed.split(".");
  if (version !== "v1" || !iv || !body || !tag) return null;
  try {
    const decipher = createDecipheriv("aes-256-gcm", sealKey, Buffer.from(iv, "base64url"));
    decipher.setAAD(Buffer.from(`signing-key:${kid}`));
    decipher.setAuthTag(Buffer.from(tag, "base64url"));
    const pkcs8 = Buffer.concat([decipher.update(Buffer.from(body, "base64url")), decipher.final()]);
    const key = createPrivateKey({ key: pkcs8, format: "der", type: "pkcs8" });
    pkcs8.fill(0);
    return key;
  } catch {
    return null;
  }
}
