import { createHash, randomBytes } from "node:crypto";
import { sql } from "drizzle-orm";
import type { Database } from "../db/open.js";
import { DEFAULT_SERVICE_ID } from "../db/schema.js";

/**
 * API keys kept in the database. Only a SHA-256 of each key is stored: keys are
 * 256 random bits, so a plain hash cannot be reversed or guessed, and a lookup by
 * hash reveals nothing through its timing.
 */

export interface StoredKey {
  name: string;
  ratePerMinute: number | null;
  /** The service whose challenges it creates and sees. */
  serviceId: string;
  /** An admin key manages services, and makes no verification request. */
  admin: boolean;
  createdAt: Date;
  revokedAt: Date | null;
}

export const hashKey = (key: string) => createHash("sha256").update(key).digest("hex");
export const KEY_NAME = /^[A-Za-z0-9][\w.-]{0,63}$/;

export class KeyError extends Error {
  override name = "KeyError";
}

/** Creates a key and returns it: the only time it is ever shown. */
export async function createKey(
  database: Database,
  name: string,
  opts: { ratePerMinute?: number; serviceId?: string; admin?: boolean; now: Date },
): Promise<{ name: string; key: string }> {
  if (!KEY_NAME.test(name)) throw new KeyError("a key name is 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit");
  if (name.startsWith("env:") || name === "open") throw new KeyError(`"${name}" is reserved`);
  const key = `votp_${randomBytes(32).toString("base64url")}`;
  const rows = await database.rows(sql`
    insert into api_keys (name, key_hash, rate_per_minute, service_id, admin, created_at)
    values (${name}, ${hashKey(key)}, ${opts.ratePerMinute ?? null}, ${opts.serviceId ?? DEFAULT_SERVICE_ID}, ${opts.admin ?? false},
            ${opts.now.toISOString()}::timestamptz)
    on conflict (name) do nothing
    returning name`);
  if (rows.length === 0) throw new KeyError(`a key named "${name}" exists already (names are not reused, even once revoked); pick another name`);
  unknownKeys.get(database)?.delete(hashKey(key));
  return { name, key };
}

export async function listKeys(database: Database): Promise<StoredKey[]> {
  const rows = await database.rows<{
    name: string;
    rate_per_minute: number | null;
    service_id: string;
    admin: boolean;
    created_at: string | Date;
    revoked_at: string | Date | null;
  }>(sql`select name, rate_per_minute, service_id, admin, created_at, revoked_at from api_keys order by created_at, name`);
  return rows.map((r) => ({
    name: r.name,
    ratePerMinute: r.rate_per_minute,
    serviceId: r.service_id,
    admin: r.admin,
    createdAt: new Date(r.created_at),
    revokedAt: r.revoked_at ? new Date(r.revoked_at) : null,
  }));
}

/** Revokes a key at once on every instance (each request looks its key up). */
export async function revokeKey(database: Database, name: string, now: Date): Promise<boolean> {
  const rows = await database.rows(sql`
    update api_keys set revoked_at = ${now.toISOString()}::timestamptz
    where name = ${name} and revoked_at is null returning name`);
  return rows.length > 0;
}

/**
 * Keys found in no row are remembered for UNKNOWN_TTL_MS, by their SHA-256 (never the key
 * itself), so that repeating a bogus key costs no query. Only misses are remembered: a
 * revocation still holds at once. A key created in this process is forgotten as a miss at
 * once; one created by another process (`npm run keys -- create`) is a fresh random value
 * no one can have tried, and anything else (a row restored by hand) works within the TTL.
 */
export const UNKNOWN_TTL_MS = 60_000;
const UNKNOWN_MAX = 10_000;
const unknownKeys = new WeakMap<Database, Map<string, number>>();

export type FoundKey = Pick<StoredKey, "name" | "ratePerMinute" | "serviceId" | "admin">;

export async function findKey(database: Database, key: string, now = new Date()): Promise<FoundKey | null> {
  const hash = hashKey(key);
  let unknown = unknownKeys.get(database);
  if (!unknown) unknownKeys.set(database, (unknown = new Map()));
  const until = unknown.get(hash);
  if (until !== undefined) {
    if (until > now.getTime()) return null;
    unknown.delete(hash);
  }
  const [row] = await database.rows<{ name: string; rate_per_minute: number | null; service_id: string; admin: boolean }>(sql`
    select name, rate_per_minute, service_id, admin from api_keys where key_hash = ${hash} and revoked_at is null`);
  if (row) return { name: row.name, ratePerMinute: row.rate_per_minute, serviceId: row.service_id, admin: row.admin };
  if (unknown.size >= UNKNOWN_MAX) unknown.delete(unknown.keys().next().value!);
  unknown.set(hash, now.getTime() + UNKNOWN_TTL_MS);
  return null;
}
