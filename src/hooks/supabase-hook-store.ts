import { sql } from "drizzle-orm";
import type { Database } from "../db/open.js";
import { sealCode, unsealCode, type CodeKeys } from "../otp/codes.js";

/**
 * Each service's Supabase hook secrets, kept sealed with SECRET_KEY and bound to the
 * service (as webhook secrets are, src/events/endpoints.ts): the database alone cannot
 * forge a hook request, and a sealed value copied onto another service does not open.
 * Read back only to check a request's signature; never answered.
 */

const context = (serviceId: string) => `supabase-hook:${serviceId}`;
const ts = (d: Date) => sql`${d.toISOString()}::timestamptz`;

export interface HookView {
  /** How many secrets are held (several during a rotation). */
  secrets: number;
  /** Null where the environment sets them (SUPABASE_HOOK_SECRET). */
  updatedAt: Date | null;
}

interface Row {
  secrets_sealed: string;
  updated_at: string | Date;
}

const view = (keys: CodeKeys, serviceId: string, r: Row): HookView => ({
  secrets: unsealCode(keys, context(serviceId), r.secrets_sealed)?.split("|").length ?? 0,
  updatedAt: new Date(r.updated_at),
});

/** The service's secrets (`|` between several), or undefined: none set, or sealed under another SECRET_KEY. */
export async function storedHookSecrets(database: Database, keys: CodeKeys, serviceId: string): Promise<string | undefined> {
  const [row] = await database.rows<Row>(sql`select secrets_sealed, updated_at from supabase_hooks where service_id = ${serviceId}`);
  return (row && unsealCode(keys, context(serviceId), row.secrets_sealed)) ?? undefined;
}

/** Sets (or replaces) a service's secrets, already checked by hookSecretKeys. */
export async function setHookSecrets(database: Database, keys: CodeKeys, serviceId: string, secrets: string, now: Date): Promise<HookView> {
  const [row] = await database.rows<Row>(sql`
    insert into supabase_hooks (service_id, secrets_sealed, updated_at)
    values (${serviceId}, ${sealCode(keys, context(serviceId), secrets)}, ${ts(now)})
    on conflict (service_id) do update set secrets_sealed = excluded.secrets_sealed, updated_at = excluded.updated_at
    returning secrets_sealed, updated_at`);
  return view(keys, serviceId, row!);
}

export async function describeHook(database: Database, keys: CodeKeys, serviceId: string): Promise<HookView | undefined> {
  const [row] = await database.rows<Row>(sql`select secrets_sealed, updated_at from supabase_hooks where service_id = ${serviceId}`);
  return row && view(keys, serviceId, row);
}

export async function deleteHook(database: Database, keys: CodeKeys, serviceId: string): Promise<HookView | undefined> {
  const [row] = await database.rows<Row>(sql`delete from supabase_hooks where service_id = ${serviceId} returning secrets_sealed, updated_at`);
  return row && view(keys, serviceId, row);
}

/**
 * Claims a signed request's webhook-id, once: false when it was seen before. Kept with the
 * Idempotency-Keys (deleted after 24 hours, far past the 5 minutes a signature is good
 * for), under a name no API key can have (key names hold no colon).
 */
export async function claimHookDelivery(database: Database, serviceId: string, webhookId: string, now: Date): Promise<boolean> {
  const claimed = await database.rows(sql`
    insert into idempotency_keys (api_key_name, key, request_hash, response_status, created_at)
    values (${`supabase-hook:${serviceId}`}, ${webhookId}, '', 200, ${ts(now)})
    on conflict (api_key_name, key) do nothing
    returning key`);
  return claimed.length > 0;
}
