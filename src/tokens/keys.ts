import { createHash, generateKeyPairSync } from "node:crypto";
import { sql } from "drizzle-orm";
import type { Database } from "../db/open.js";
import { sealPrivateKey } from "./key-seal.js";
import { TOKEN_TTL_SECONDS } from "./verification-token.js";

/**
 * The token-signing keys, shared by every instance through the `signing_keys` table. One
 * key is active (it signs); a rotation retires it and makes the next one in one
 * transaction. A retired key stays published until every token it signed has expired.
 */

/**
 * How far a verifier's clock may run behind ours (or the leeway it allows on `exp`), plus
 * how long an instance may keep signing with a key another instance has just retired
 * (key-ring.ts re-reads every 2 s): a retired key stays published this much past its
 * last token's five minutes.
 */
export const CLOCK_SKEW_SECONDS = 60;
/** A retired key stays in the JWKS this long after its retirement: its last token has expired by then. */
export const PUBLISHED_AFTER_RETIREMENT_MS = (TOKEN_TTL_SECONDS + CLOCK_SKEW_SECONDS) * 1000;
/** Its row is then kept a day more, for `GET /signing-keys` and `voice-otp tokens list`, and deleted by the sweep. */
const KEPT_AFTER_PUBLICATION_MS = 24 * 3600_000;

/** An Ed25519 public key as a JWK (RFC 8037). */
export interface PublicJwk {
  kty: "OKP";
  crv: "Ed25519";
  x: string;
}

export interface SigningKey {
  kid: string;
  publicJwk: PublicJwk;
  createdAt: Date;
  /** null for the active key. */
  retiredAt: Date | null;
  /** Until when the JWKS publishes it; null for the active key (for as long as it is active). */
  publishedUntil: Date | null;
}

interface Row {
  kid: string;
  public_jwk: PublicJwk | string;
  private_sealed?: string | null;
  created_at: string | Date;
  retired_at: string | Date | null;
}

const ts = (d: Date) => sql`${d.toISOString()}::timestamptz`;

function fromRow(r: Row): SigningKey {
  const retiredAt = r.retired_at === null ? null : new Date(r.retired_at);
  return {
    kid: r.kid,
    // jsonb comes back parsed from postgres.js and PGlite alike; a string is parsed here all the same.
    publicJwk: typeof r.public_jwk === "string" ? (JSON.parse(r.public_jwk) as PublicJwk) : r.public_jwk,
    createdAt: new Date(r.created_at),
    retiredAt,
    publishedUntil: retiredAt && new Date(retiredAt.getTime() + PUBLISHED_AFTER_RETIREMENT_MS),
  };
}

/** The kid is the public key's JWK thumbprint (RFC 7638): the members in order, no spaces, SHA-256. */
export const thumbprint = (jwk: PublicJwk) =>
  createHash("sha256").update(JSON.stringify({ crv: jwk.crv, kty: jwk.kty, x: jwk.x })).digest("base64url");

/** A new key pair, its private half sealed, as the statement that stores it active. */
function insertNewKey(sealKey: Buffer, now: Date) {
  const { publicKey, privateKey } = generateKeyPairSync("ed25519");
  const jwk: PublicJwk = { kty: "OKP", crv: "Ed25519", x: (publicKey.export({ format: "jwk" }) as { x: string }).x };
  const kid = thumbprint(jwk);
  const statement = sql`insert into signing_keys (kid, public_jwk, private_sealed, created_at)
    values (${kid}, ${JSON.stringify(jwk)}::jsonb, ${sealPrivateKey(sealKey, kid, privateKey)}, ${ts(now)})`;
  return { kid, statement };
}

/**
 * Makes the first key when there is none. Instances starting together may all find none:
 * the partial unique index on the active key lets one insert through, and the others'
 * `on conflict do nothing` leaves theirs out, so they all end up signing with that one.
 */
export async function ensureActiveKey(database: Database, sealKey: Buffer, now: Date): Promise<void> {
  const [active] = await database.rows(sql`select kid from signing_keys where retired_at is null`);
  if (active) return;
  await database.rows(sql`${insertNewKey(sealKey, now).statement} on conflict do nothing`);
}

/**
 * Retires the active key and makes a new one, in one transaction. Two rotations at once
 * collide on the index; the loser runs again (Database.transaction) and retires the
 * winner's key in turn, so one key is active whatever the timing.
 */
export async function rotateSigningKey(database: Database, sealKey: Buffer, now: Date): Promise<{ kid: string; retired: string | null }> {
  return database.transaction(async (tx) => {
    const retired = await tx<{ kid: string }>(sql`update signing_keys set retired_at = ${ts(now)} where retired_at is null returning kid`);
    const made = insertNewKey(sealKey, now);
    await tx.commitWith(made.statement);
    return { kid: made.kid, retired: retired[0]?.kid ?? null };
  });
}

/** Every key still kept, the active one first, then the most recently retired. Never private material. */
export async function listSigningKeys(database: Database): Promise<SigningKey[]> {
  const rows = await database.rows<Row>(sql`
    select kid, public_jwk, created_at, retired_at from signing_keys order by retired_at desc nulls first, created_at desc`);
  return rows.map(fromRow);
}

/** The keys the JWKS publishes at `now`, and the active key's sealed private half (the only one ever unsealed). */
export async function loadPublishedKeys(database: Database, now: Date): Promise<{ keys: SigningKey[]; activeSealed: string | null }> {
  const rows = await database.rows<Row>(sql`
    select kid, public_jwk, case when retired_at is null then private_sealed end as private_sealed, created_at, retired_at
    from signing_keys
    where retired_at is null or retired_at > ${ts(new Date(now.getTime() - PUBLISHED_AFTER_RETIREMENT_MS))}
    order by retired_at desc nulls first, created_at desc`);
  return { keys: rows.map(fromRow), activeSealed: rows.find((r) => r.retired_at === null)?.private_sealed ?? null };
}

/** The sweep's step: keys retired long enough ago that no token of theirs can be checked any more. */
export async function deleteRetiredKeys(database: Database, now: Date): Promise<void> {
  const before = new Date(now.getTime() - PUBLISHED_AFTER_RETIREMENT_MS - KEPT_AFTER_PUBLICATION_MS);
  await database.rows(sql`delete from signing_keys where retired_at < ${ts(before)}`);
}
