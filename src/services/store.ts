import { randomBytes } from "node:crypto";
import { sql } from "drizzle-orm";
import type { Database } from "../db/open.js";
import { DEFAULT_SERVICE_ID } from "../db/schema.js";
import { checkSettings, SettingError } from "./settings.js";

/**
 * Services kept in the database. Every change notifies SERVICES_CHANGED with the
 * service's id, in the same transaction, so every instance drops its cached settings
 * when the change commits (directory.ts).
 */

export const SERVICES_CHANGED = "voice_otp_services";

export interface StoredService {
  id: string;
  name: string;
  /** Only the settings it sets; the rest are the default service's. */
  settings: Record<string, unknown>;
  createdAt: Date;
  updatedAt: Date;
  deletedAt: Date | null;
}

const SERVICE_NAME = /^[A-Za-z0-9][\w.-]{0,63}$/;
/** Every service id starts with it; no name may. */
export const ID_PREFIX = "svc_";
const NAME_RULE = "a service name is 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit";

interface Row {
  id: string;
  name: string;
  settings: string | Record<string, unknown>;
  created_at: string | Date;
  updated_at: string | Date;
  deleted_at: string | Date | null;
}

const ts = (d: Date) => sql`${d.toISOString()}::timestamptz`;
const columns = sql`id, name, settings, created_at, updated_at, deleted_at`;

const fromRow = (r: Row): StoredService => ({
  id: r.id,
  name: r.name,
  settings: typeof r.settings === "string" ? (JSON.parse(r.settings) as Record<string, unknown>) : r.settings,
  createdAt: new Date(r.created_at),
  updatedAt: new Date(r.updated_at),
  deletedAt: r.deleted_at === null ? null : new Date(r.deleted_at),
});

function checkName(name: string): void {
  if (!SERVICE_NAME.test(name)) throw new SettingError("name", NAME_RULE);
  if (name === DEFAULT_SERVICE_ID) throw new SettingError("name", `"${DEFAULT_SERVICE_ID}" is the service the environment defines`);
  // The admin API finds a service by id alone: a name shaped like an id could be taken for one.
  if (name.startsWith(ID_PREFIX)) throw new SettingError("name", `a name cannot start with "${ID_PREFIX}", which service ids start with`);
}

/** A live service's name is taken: another service holds it. */
export class NameTakenError extends Error {
  override name = "NameTakenError";
}

/** A unique violation, possibly behind the busy error of a transaction that ran again. */
function isNameTaken(err: unknown): boolean {
  for (let e = err as { code?: string; cause?: unknown } | undefined; e; e = e.cause as typeof e) if (e.code === "23505") return true;
  return false;
}

/**
 * Creates a service. `check` judges the settings it would have (a voice against its
 * language, say) and throws a SettingError to refuse them.
 */
export async function createService(
  database: Database,
  input: { name: string; settings: Record<string, unknown> },
  now: Date,
  check: (s: StoredService) => void,
): Promise<StoredService> {
  checkName(input.name);
  const service: StoredService = {
    id: `${ID_PREFIX}${randomBytes(12).toString("base64url")}`,
    name: input.name,
    settings: checkSettings(input.settings),
    createdAt: now,
    updatedAt: now,
    deletedAt: null,
  };
  check(service);
  await database
    .rows(sql`
      with made as (
        insert into services (id, name, settings, created_at, updated_at)
        values (${service.id}, ${service.name}, ${JSON.stringify(service.settings)}::jsonb, ${ts(now)}, ${ts(now)}) returning id)
      select pg_notify(${SERVICES_CHANGED}, id) from made`)
    .catch((err: unknown) => {
      throw isNameTaken(err) ? new NameTakenError(`a service named "${input.name}" exists already; pick another name`) : err;
    });
  return service;
}

export async function listServices(database: Database): Promise<StoredService[]> {
  const rows = await database.rows<Row>(sql`select ${columns} from services where deleted_at is null order by created_at, id`);
  return rows.map(fromRow);
}

/** A live service by id, or by name (the CLI takes either). */
export async function findService(database: Database, idOrName: string): Promise<StoredService | undefined> {
  const [row] = await database.rows<Row>(sql`
    select ${columns} from services where (id = ${idOrName} or name = ${idOrName}) and deleted_at is null
    order by (id = ${idOrName}) desc limit 1`);
  return row && fromRow(row);
}

/** A service by id, deleted or not: the calls it placed before its deletion still speak its words. */
export async function loadService(database: Database, id: string): Promise<StoredService | undefined> {
  const [row] = await database.rows<Row>(sql`select ${columns} from services where id = ${id}`);
  return row && fromRow(row);
}

/**
 * Changes a live service: a new name, and settings merged into its own (null resets one
 * to the default service's). Read, checked and written in one transaction, so two
 * concurrent changes cannot leave settings that were never checked together.
 */
export async function updateService(
  database: Database,
  idOrName: string,
  change: { name?: string; settings?: Record<string, unknown> },
  now: Date,
  check: (s: StoredService) => void,
): Promise<StoredService | undefined> {
  if (change.name !== undefined) checkName(change.name);
  const given = change.settings ?? {};
  checkSettings(given);
  return database
    .transaction(async (tx) => {
      const [row] = await tx<Row>(sql`
        select ${columns} from services where (id = ${idOrName} or name = ${idOrName}) and deleted_at is null
        order by (id = ${idOrName}) desc limit 1 for update`);
      if (!row) return undefined;
      const current = fromRow(row);
      const settings = { ...current.settings };
      for (const [k, v] of Object.entries(given)) {
        if (v === null) delete settings[k];
        else settings[k] = v;
      }
      const updated: StoredService = { ...current, name: change.name ?? current.name, settings, updatedAt: now };
      check(updated);
      await tx.commitWith(sql`
        with changed as (
          update services set name = ${updated.name}, settings = ${JSON.stringify(settings)}::jsonb, updated_at = ${ts(now)}
          where id = ${current.id} returning id)
        select pg_notify(${SERVICES_CHANGED}, id) from changed`);
      return updated;
    })
    .catch((err: unknown) => {
      throw isNameTaken(err) ? new NameTakenError(`a service named "${change.name}" exists already; pick another name`) : err;
    });
}

/**
 * Deletes a live service and revokes its keys, in one statement: no request is made in
 * its name once this returns. Its row stays, marked deleted, for the calls still ringing.
 */
export async function deleteService(database: Database, idOrName: string, now: Date): Promise<StoredService | undefined> {
  const [row] = await database.rows<Row>(sql`
    with gone as (
      update services set deleted_at = ${ts(now)}
      where id = (select id from services where (id = ${idOrName} or name = ${idOrName}) and deleted_at is null
                  order by (id = ${idOrName}) desc limit 1)
      returning ${columns}),
    revoked as (update api_keys set revoked_at = ${ts(now)} where service_id in (select id from gone) and revoked_at is null)
    select gone.*, pg_notify(${SERVICES_CHANGED}, gone.id) from gone`);
  return row && fromRow(row);
}
