import { sign, type KeyObject } from "node:crypto";

/**
 * JWTs signed with Ed25519: the JWS compact form (RFC 7515) with `alg: "EdDSA"` (RFC 8037).
 * node:crypto alone, no JWT library: the header is fixed here, so no `alg` a caller passes
 * can weaken it, and the tests judge the result with jose, which shares no code with this.
 */

/** The key a token is signed with: its id, published in the JWKS, and its private half. */
export interface Signer {
  kid: string;
  privateKey: KeyObject;
}

const part = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");

export function signJwt(claims: Record<string, unknown>, signer: Signer): string {
  const input = `${part({ alg: "EdDSA", typ: "JWT", kid: signer.kid })}.${part(claims)}`;
  // Ed25519 hashes internally: the digest argument is null.
  return `${input}.${sign(null, Buffer.from(input), signer.privateKey).toString("base64url")}`;
}
