import { sql } from "drizzle-orm";
import type { Database } from "../db/open.js";
import { sealCode, unsealCode, type CodeKeys } from "../otp/codes.js";

/**
 * Each service's event endpoint: where its events go, the secrets they are signed with,
 * and the types it wants. Secrets are sealed with SECRET_KEY (AES-256-GCM, bound to the
 * service), so a copy of the database alone cannot forge a delivery.
 */

export interface Endpoint {
  serviceId: string;
  url: string;
  /** The current secret first; during a rotation, the previous one after it. */
  secrets: string[];
  /** The types it wants; null: every type. */
  eventTypes: readonly string[] | null;
  disabledAt: Date | null;
}

/** How long a rotated-out secret still signs, so receivers can switch without losing a delivery. */
export const ROTATION_OVERLAP_MS = 24 * 3600_000;

const context = (serviceId: string) => `webhook:${serviceId}`;
export const sealSecret = (keys: CodeKeys, serviceId: string, secret: string) => sealCode(keys, context(serviceId), secret);
/** The secret, or null when it was sealed under another SECRET_KEY (it cannot sign). */
export const unsealSecret = (keys: CodeKeys, serviceId: string, sealed: string) => unsealCode(keys, context(serviceId), sealed);

/** A row of webhook_endpoints as the drivers return it. */
export interface EndpointRow {
  service_id: string;
  url: string;
  secret_sealed: string;
  previous_secret_sealed: string | null;
  previous_until: string | Date | null;
  event_types: string[] | null;
  disabled_at: string | Date | null;
}

/** The endpoints of these services (those that have one), with their secrets unsealed. */
export async function loadEndpoints(database: Database, keys: CodeKeys, serviceIds: readonly string[], now: Date): Promise<Map<string, Endpoint>> {
  const found = new Map<string, Endpoint>();
  if (serviceIds.length === 0) return found;
  const rows = await database.rows<EndpointRow>(sql`
    select service_id, url, secret_sealed, previous_secret_sealed, previous_until, event_types, disabled_at
    from webhook_endpoints where service_id in (${sql.join([...new Set(serviceIds)].map((id) => sql`${id}`), sql`, `)})`);
  for (const r of rows) {
    const current = unsealCode(keys, context(r.service_id), r.secret_sealed);
    // Sealed under another SECRET_KEY: it cannot sign, so nothing is sent until it is set again.
    if (current === null) continue;
    const previous =
      r.previous_secret_sealed && r.previous_until && new Date(r.previous_until) > now
        ? unsealCode(keys, context(r.service_id), r.previous_secret_sealed)
        : null;
    found.set(r.service_id, {
      serviceId: r.service_id,
      url: r.url,
      secrets: previous ? [current, previous] : [current],
      eventTypes: r.event_types,
      disabledAt: r.disabled_at === null ? null : new Date(r.disabled_at),
    });
  }
  return found;
}

/**
 * Sets a service's endpoint. A new secret replaces the current one, which keeps signing
 * for ROTATION_OVERLAP_MS; the same secret again changes nothing about the secrets.
 * Setting it enables an endpoint that a 410 had disabled.
 */
export async function setEndpoint(
  database: Database,
  keys: CodeKeys,
  input: { serviceId: string; url: string; secret: string; eventTypes: readonly string[] | null },
  now: Date,
): Promise<void> {
  const [current] = await database.rows<EndpointRow>(sql`select * from webhook_endpoints where service_id = ${input.serviceId}`);
  const currentSecret = current ? unsealCode(keys, context(input.serviceId), current.secret_sealed) : null;
  const rotated = currentSecret !== null && currentSecret !== input.secret;
  const types = input.eventTypes === null ? sql`null` : sql`${`{${input.eventTypes.join(",")}}`}::text[]`;
  const ts = now.toISOString();
  await database.rows(sql`
    insert into webhook_endpoints (service_id, url, secret_sealed, previous_secret_sealed, previous_until, event_types, disabled_at, updated_at)
    values (${input.serviceId}, ${input.url}, ${sealSecret(keys, input.serviceId, input.secret)},
            ${rotated ? current!.secret_sealed : null}, ${rotated ? new Date(now.getTime() + ROTATION_OVERLAP_MS).toISOString() : null}::timestamptz,
            ${types}, null, ${ts}::timestamptz)
    on conflict (service_id) do update set url = excluded.url, secret_sealed = excluded.secret_sealed, event_types = excluded.event_types,
      disabled_at = null, updated_at = excluded.updated_at,
      previous_secret_sealed = case when ${rotated} then excluded.previous_secret_sealed else webhook_endpoints.previous_secret_sealed end,
      previous_until = case when ${rotated} then excluded.previous_until else webhook_endpoints.previous_until end`);
}

/** A 410 Gone from the receiver: the endpoint takes nothing more until it is set again. */
export async function disableEndpoint(database: Database, serviceId: string, now: Date): Promise<void> {
  await database.rows(sql`update webhook_endpoints set disabled_at = ${now.toISOString()}::timestamptz where service_id = ${serviceId} and disabled_at is null`);
}
