import { createPublicKey, verify } from "node:crypto";
import type { PublishedJwk } from "./key-ring.js";

/**
 * Checks a token's signature the way a verifier elsewhere would: by the `kid` in its header,
 * against the JWK set GET /.well-known/jwks.json publishes. Returns the key's id, or null
 * when no published key signed it. The signature only: the claims are the verifier's to judge.
 */
export function signedByPublishedKey(token: string, keys: readonly PublishedJwk[]): string | null {
  const [header, payload, signature] = token.split(".");
  if (!header || !payload || !signature) return null;
  let kid: unknown;
  try {
    ({ kid } = JSON.parse(Buffer.from(header, "base64url").toString("utf8")) as { kid?: unknown });
  } catch {
    return null;
  }
  const jwk = keys.find((k) => k.kid === kid);
  if (!jwk) return null;
  const key = createPublicKey({ key: { kty: jwk.kty, crv: jwk.crv, x: jwk.x }, format: "jwk" });
  return verify(null, Buffer.from(`${header}.${payload}`), key, Buffer.from(signature, "base64url")) ? jwk.kid : null;
}
