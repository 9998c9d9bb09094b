import { signJwt, type Signer } from "./sign.js";

/**
 * The verification token /validate-auth hands out on approval: a receipt another service
 * can check against GET /.well-known/jwks.json without calling back. It says that `sub`
 * answered a phone call and typed its code, for the service `aud`, at `iat`.
 */

/** Long enough to carry the token from the backend to the service that trusts it, short enough that a leaked one soon stops counting. */
export const TOKEN_TTL_SECONDS = 300;

export interface Verified {
  /** PUBLIC_BASE_URL (in development, the URL the service gives carriers). */
  issuer: string;
  /** E.164, as the challenge holds it. */
  number: string;
  /** The service of the key that validated the code: the token is for it alone. */
  serviceId: string;
  challengeId: string;
  now: Date;
}

export function verificationToken(signer: Signer, v: Verified): { token: string; expiresAt: Date } {
  const iat = Math.floor(v.now.getTime() / 1000);
  const exp = iat + TOKEN_TTL_SECONDS;
  const token = signJwt({ iss: v.issuer, sub: v.number, aud: v.serviceId, iat, exp, jti: v.challengeId, amr: ["phone-call"] }, signer);
  return { token, expiresAt: new Date(exp * 1000) };
}
