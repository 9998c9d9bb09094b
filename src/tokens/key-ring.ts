import type { Database } from "../db/open.js";
import type { Clock } from "../otp/clock.js";
import { unsealPrivateKey } from "./key-seal.js";
import { ensureActiveKey, loadPublishedKeys, PUBLISHED_AFTER_RETIREMENT_MS, rotateSigningKey, type PublicJwk, type SigningKey } from "./keys.js";
import type { Signer } from "./sign.js";

/**
 * Each instance's copy of the signing keys: the active key, unsealed, and the keys the JWKS
 * publishes. It is read again when more than REFRESH_MS old, so a rotation made on another
 * instance or by the CLI signs here, and is published here, within about two seconds: one
 * small query per instance every two seconds at most, and only while tokens or the JWKS are
 * asked for. (The services directory listens for NOTIFY because its entries are many and
 * kept long; here there is one small entry, and a short age is simpler and as prompt.)
 */

export interface PublishedJwk extends PublicJwk {
  kid: string;
  alg: "EdDSA";
  use: "sig";
}

export interface KeyRing {
  /** The active key. Throws SigningKeyError when it was sealed under another SECRET_KEY. */
  signer(): Promise<Signer>;
  /** The JWK set of GET /.well-known/jwks.json: the active key first, then the retired keys still published. */
  jwks(): Promise<{ keys: PublishedJwk[] }>;
  /** Retires the active key and makes a new one; this instance signs with it from its next request, the others within seconds. */
  rotate(): Promise<{ kid: string; retired: string | null }>;
}

/** The active key cannot sign here: another SECRET_KEY sealed it. */
export class SigningKeyError extends Error {
  override name = "SigningKeyError";
}

const REFRESH_MS = 2000;

interface State {
  keys: SigningKey[];
  signer: Signer | null;
  /** The active key's kid, whether or not it could be unsealed. */
  activeKid: string;
}

export function openKeyRing(opts: { database: Database; sealKey: Buffer; clock: Clock }): KeyRing {
  const { database, sealKey, clock } = opts;
  let cached: { at: number; state: Promise<State> } | undefined;
  // Unsealed once per key, not at every refresh.
  let lastSigner: Signer | null = null;

  async function load(): Promise<State> {
    let found = await loadPublishedKeys(database, clock.now());
    // Only before the first start has made one (or if an operator emptied the table).
    if (found.activeSealed === null) {
      await ensureActiveKey(database, sealKey, clock.now());
      found = await loadPublishedKeys(database, clock.now());
    }
    const active = found.keys.find((k) => k.retiredAt === null);
    if (!active || found.activeSealed === null) throw new Error("no active signing key after making one");
    if (lastSigner?.kid !== active.kid) {
      const privateKey = unsealPrivateKey(sealKey, active.kid, found.activeSealed);
      lastSigner = privateKey && { kid: active.kid, privateKey };
    }
    return { keys: found.keys, signer: lastSigner, activeKid: active.kid };
  }

  function state(): Promise<State> {
    const now = performance.now();
    if (!cached || now - cached.at >= REFRESH_MS) {
      const loading = load();
      cached = { at: now, state: loading };
      // A failed read (the database down) is not kept: the next request tries again.
      loading.catch(() => {
        if (cached?.state === loading) cached = undefined;
      });
    }
    return cached.state;
  }

  return {
    async signer() {
      const s = await state();
      if (!s.signer) {
        throw new SigningKeyError(
          `the active token-signing key (kid ${s.activeKid}) was sealed with another SECRET_KEY: give every instance the same SECRET_KEY, or, after changing it on purpose, run \`voice-otp tokens rotate\` to make a key sealed with this one`,
        );
      }
      return s.signer;
    },
    async jwks() {
      const s = await state();
      // Filtered now, not when read: a retired key leaves the set the moment its time is up.
      const now = clock.now().getTime();
      const published = s.keys.filter((k) => k.retiredAt === null || k.retiredAt.getTime() + PUBLISHED_AFTER_RETIREMENT_MS > now);
      return { keys: published.map((k) => ({ kty: k.publicJwk.kty, crv: k.publicJwk.crv, x: k.publicJwk.x, kid: k.kid, alg: "EdDSA" as const, use: "sig" as const })) };
    },
    async rotate() {
      const rotated = await rotateSigningKey(database, sealKey, clock.now());
      cached = undefined;
      return rotated;
    },
  };
}
