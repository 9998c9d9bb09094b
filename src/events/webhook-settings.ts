import { sql } from "drizzle-orm";
import type { Database } from "../db/open.js";
import type { CodeKeys } from "../otp/codes.js";
import { ROTATION_OVERLAP_MS, sealSecret, unsealSecret, type EndpointRow } from "./endpoints.js";
import type { EventType } from "./outbox.js";
import { newSecret } from "./signature.js";

/**
 * A service's webhook as an operator manages it (the admin API and the CLI): set its URL
 * and types, rotate its secret, remove it. A secret leaves here only when it was just
 * made, so that it is shown once; reading an endpoint never returns one.
 */

export interface WebhookView {
  url: string;
  /** null: every type, including types added later. */
  eventTypes: string[] | null;
  /** When a 410 from the receiver stopped its events; setting it again resumes them. */
  disabledAt: Date | null;
  /** Until when the secret before the last rotation still signs too; null when none does. */
  previousValidUntil: Date | null;
}

type Row = Omit<EndpointRow, "service_id">;

const COLUMNS = sql`url, secret_sealed, previous_secret_sealed, previous_until, event_types, disabled_at`;
const date = (d: string | Date | null) => (d === null ? null : new Date(d));
const ts = (d: Date) => sql`${d.toISOString()}::timestamptz`;
const typesArray = (types: readonly EventType[] | null) => (types === null ? sql`null::text[]` : sql`${`{${types.join(",")}}`}::text[]`);

function view(r: Row, now: Date): WebhookView {
  const until = date(r.previous_until);
  return {
    url: r.url,
    eventTypes: r.event_types,
    disabledAt: date(r.disabled_at),
    previousValidUntil: r.previous_secret_sealed && until && until > now ? until : null,
  };
}

export async function describeWebhook(database: Database, serviceId: string, now: Date): Promise<WebhookView | undefined> {
  const [row] = await database.rows<Row>(sql`select ${COLUMNS} from webhook_endpoints where service_id = ${serviceId}`);
  return row && view(row, now);
}

/**
 * Sets where a service's events go and which types it wants, keeping its secret; an
 * endpoint that has none yet gets a new one, returned as `secret`. Each branch is one
 * statement, so two callers at once cannot both be told of a secret that only one stored.
 * Setting it resumes an endpoint a 410 had disabled.
 */
export async function configureWebhook(
  database: Database,
  keys: CodeKeys,
  serviceId: string,
  input: { url: string; eventTypes: readonly EventType[] | null },
  now: Date,
): Promise<{ webhook: WebhookView; secret?: string }> {
  for (;;) {
    const [updated] = await database.rows<Row>(sql`
      update webhook_endpoints set url = ${input.url}, event_types = ${typesArray(input.eventTypes)}, disabled_at = null, updated_at = ${ts(now)}
      where service_id = ${serviceId} returning ${COLUMNS}`);
    if (updated) {
      // Sealed under an earlier SECRET_KEY, the secret cannot sign: nothing would be sent. A new one
      // makes the endpoint work again; its receiver needs it anyway.
      if (unsealSecret(keys, serviceId, updated.secret_sealed) === null) return (await replaceSecret(database, keys, serviceId, now, false))!;
      return { webhook: view(updated, now) };
    }
    const secret = newSecret();
    const [inserted] = await database.rows<Row>(sql`
      insert into webhook_endpoints (service_id, url, secret_sealed, event_types, updated_at)
      values (${serviceId}, ${input.url}, ${sealSecret(keys, serviceId, secret)}, ${typesArray(input.eventTypes)}, ${ts(now)})
      on conflict (service_id) do nothing returning ${COLUMNS}`);
    if (inserted) return { webhook: view(inserted, now), secret };
    // Another caller made it between the two statements: set it as theirs, with their secret.
  }
}

/**
 * A new secret for a service's endpoint, returned once. The one it replaces keeps signing
 * beside it for ROTATION_OVERLAP_MS (Standard Webhooks sends both signatures), so the
 * receiver can switch without losing a delivery. Undefined when the service has no endpoint.
 */
export function rotateWebhook(database: Database, keys: CodeKeys, serviceId: string, now: Date): Promise<{ webhook: WebhookView; secret: string } | undefined> {
  return replaceSecret(database, keys, serviceId, now, true);
}

/** A new secret in one statement; the current one kept as the previous, or dropped when it cannot sign. */
async function replaceSecret(database: Database, keys: CodeKeys, serviceId: string, now: Date, keepCurrent: boolean) {
  const secret = newSecret();
  const until = new Date(now.getTime() + ROTATION_OVERLAP_MS);
  const [row] = await database.rows<Row>(sql`
    update webhook_endpoints
    set previous_secret_sealed = ${keepCurrent ? sql`secret_sealed` : sql`null`}, previous_until = ${keepCurrent ? ts(until) : sql`null`},
        secret_sealed = ${sealSecret(keys, serviceId, secret)}, updated_at = ${ts(now)}
    where service_id = ${serviceId} returning ${COLUMNS}`);
  return row && { webhook: view(row, now), secret };
}

/** Removes a service's endpoint, answering it as it was: its events are no longer written. */
export async function deleteWebhook(database: Database, serviceId: string, now: Date): Promise<WebhookView | undefined> {
  const [row] = await database.rows<Row>(sql`delete from webhook_endpoints where service_id = ${serviceId} returning ${COLUMNS}`);
  return row && view(row, now);
}
