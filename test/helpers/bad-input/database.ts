import { sql } from "drizzle-orm";
import type { Database } from "../../../src/db/open.js";
import type { Ledger } from "./ledger.js";

export type Row = Record<string, unknown>;
/** Every table's rows, by "schema.table". */
export type Snapshot = Map<string, Row[]>;

const norm = (v: unknown): unknown => (v instanceof Date ? v.toISOString() : typeof v === "bigint" ? String(v) : v);
const normRow = (r: Row): Row => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, norm(v)]));

/** Reads every table of the service's database (migrations' own bookkeeping included). */
export async function snapshot(database: Database): Promise<Snapshot> {
  const tables = await database.rows<{ s: string; t: string }>(sql`
    select table_schema as s, table_name as t from information_schema.tables
    where table_type = 'BASE TABLE' and table_schema not in ('pg_catalog', 'information_schema')`);
  const out: Snapshot = new Map();
  for (const { s, t } of tables) {
    const rows = await database.rows<Row>(sql.raw(`select * from "${s}"."${t}"`));
    out.set(`${s}.${t}`, rows.map(normRow));
  }
  return out;
}

const SPECIFIC = ["public.challenges", "public.call_events", "public.call_counts", "public.rate_windows", "public.idempotency_keys", "public.limit_refusals"];
// Set when the challenge is created and never changed by anything a request can do.
const IMMUTABLE = ["id", "number", "number_prefix", "client_ip", "language", "gate_digit", "max_attempts", "carrier", "api_key_name", "created_at", "expires_at"];
const UNANSWERED = /^call-(busy|no-answer|failed|canceled)$/;

const sum = (rows: Row[], col: string) => rows.reduce((n, r) => n + Number(r[col] ?? 0), 0);

/**
 * The database holds exactly what the successful requests wrote: one challenge per
 * 201, one wrong guess per 403 "incorrect", one approval per 200, call events and
 * call outcomes only where a signed webhook (or the simulated call behind a 201)
 * spoke, idempotency records only for the answers that claimed a key, per-key
 * counters only for requests that passed the key check. Everything else unchanged.
 * Returns the problems found (empty when none).
 */
export function compareDatabase(
  before: Snapshot,
  after: Snapshot,
  ledger: Ledger,
  owners: Set<string>,
  languages: string[],
): string[] {
  const problems: string[] = [];
  const problem = (s: string) => problems.push(s);
  const rows = (s: Snapshot, t: string) => s.get(t) ?? [];

  for (const [table, was] of before) {
    if (SPECIFIC.includes(table)) continue;
    if (JSON.stringify(was) !== JSON.stringify(after.get(table))) problem(`${table} changed`);
  }
  for (const table of after.keys()) if (!before.has(table)) problem(`a new table ${table}`);

  // challenges
  const old = new Map(rows(before, "public.challenges").map((r) => [r.id as string, r]));
  const now = new Map(rows(after, "public.challenges").map((r) => [r.id as string, r]));
  for (const id of old.keys()) if (!now.has(id)) problem(`challenge ${id} disappeared`);
  const fresh = [...now.keys()].filter((id) => !old.has(id));
  const expected = [...ledger.created.keys()];
  if (fresh.length !== expected.length || fresh.some((id) => !ledger.created.has(id))) {
    problem(`new challenges ${JSON.stringify(fresh.sort())} are not the 201s ${JSON.stringify(expected.sort())}`);
  }
  for (const id of fresh) {
    const row = now.get(id)!;
    const made = ledger.created.get(id);
    if (made && row.number !== made.number) problem(`challenge ${id} is for ${String(row.number)}, the 201 said ${made.number}`);
    if (made?.owner && row.api_key_name !== made.owner) problem(`challenge ${id} belongs to ${String(row.api_key_name)}, not ${made.owner}`);
    if (!languages.includes(String(row.language))) problem(`challenge ${id} was stored with language ${JSON.stringify(row.language)}`);
  }
  for (const [id, was] of old) {
    const is = now.get(id);
    if (!is) continue;
    for (const col of IMMUTABLE) if (JSON.stringify(was[col]) !== JSON.stringify(is[col])) problem(`challenge ${id}: ${col} changed`);
    for (const col of ["call_sid", "call_status", "answered_by"]) {
      if (JSON.stringify(was[col]) !== JSON.stringify(is[col]) && !named(ledger, id)) problem(`challenge ${id}: ${col} changed with no signed webhook for it`);
    }
  }
  const failures = sum([...now.values()], "failures") - sum([...old.values()], "failures");
  if (failures !== ledger.incorrect) problem(`${failures} wrong guesses recorded, ${ledger.incorrect} answered 403 incorrect`);
  const approvedNow = [...now.values()].filter((r) => r.status === "approved" && old.get(r.id as string)?.status !== "approved").map((r) => r.id as string);
  if (approvedNow.length !== ledger.approved.size || approvedNow.some((id) => !ledger.approved.has(id))) {
    problem(`approved ${JSON.stringify(approvedNow)}, answered 200 for ${JSON.stringify([...ledger.approved])}`);
  }
  const numbers = new Map<string, number>();
  for (const r of now.values()) numbers.set(r.number as string, (numbers.get(r.number as string) ?? 0) + 1);
  for (const r of now.values()) {
    const id = r.id as string;
    const was = old.get(id);
    if (was?.status === r.status) continue;
    const why = (ok: boolean, what: string) => ok || problem(`challenge ${id} became ${String(r.status)} ${what}`);
    switch (r.status) {
      case "pending":
        why(!was, "again");
        break;
      case "superseded":
        why((numbers.get(r.number as string) ?? 0) > 1 && fresh.some((f) => now.get(f)!.number === r.number && f !== id), "with no newer challenge for its number");
        break;
      case "too_many_attempts":
        why(Number(r.attempts) >= Number(r.max_attempts), "with attempts left");
        break;
      case "failed":
        why(UNANSWERED.test(String(r.failure_code)) && named(ledger, id), "with no signed status callback for it");
        break;
      case "approved":
        break; // checked against the 200s above
      default:
        why(false, "(the clock never moved)");
    }
    if (r.status !== "pending" && (r.code_mac !== null || r.code_sealed !== null)) problem(`challenge ${id} ended with its code still stored`);
  }

  // call events: kept, and new ones only for new challenges or ones a signed callback named.
  const oldEvents = new Map(rows(before, "public.call_events").map((e) => [String(e.id), JSON.stringify(e)]));
  const newEvents = rows(after, "public.call_events");
  for (const [id, e] of oldEvents) if (!newEvents.some((n) => String(n.id) === id && JSON.stringify(n) === e)) problem(`call event ${id} changed or vanished`);
  for (const e of newEvents) {
    if (oldEvents.has(String(e.id))) continue;
    const cid = e.challenge_id as string;
    if (!ledger.created.has(cid) && !named(ledger, cid)) problem(`a call event for ${cid} with no call or signed callback behind it`);
  }

  // the hourly spend counter: one per new challenge.
  const calls = sum(rows(after, "public.call_counts"), "calls") - sum(rows(before, "public.call_counts"), "calls");
  if (calls !== ledger.created.size) problem(`call_counts grew by ${calls}, ${ledger.created.size} challenges were created`);

  // per-key request counters: every request that passed the key check counted once.
  const hits = sum(rows(after, "public.rate_windows"), "hits") - sum(rows(before, "public.rate_windows"), "hits");
  const least = ledger.hits.definite;
  const most = ledger.hits.definite + ledger.hits.possible;
  if (hits < least || hits > most) {
    problem(`rate_windows counted ${hits} requests; between ${least} and ${most} (${ledger.hits.definite} to ${ledger.hits.definite + ledger.hits.possible} passed the key check)`);
  }
  for (const r of rows(after, "public.rate_windows")) {
    const owner = String(r.bucket).replace(/^key:/, "");
    if (!owners.has(owner)) problem(`a request counter for ${String(r.bucket)}`);
  }

  // refusals for the statistics: one per 429, under the limit it named.
  const refused = new Map<string, number>();
  for (const [when, sign] of [[before, -1], [after, 1]] as const) {
    for (const r of rows(when, "public.limit_refusals")) refused.set(String(r.limit), (refused.get(String(r.limit)) ?? 0) + sign * Number(r.refusals));
  }
  for (const limit of new Set([...refused.keys(), ...ledger.refusals.keys()])) {
    const counted = refused.get(limit) ?? 0;
    if (counted !== (ledger.refusals.get(limit) ?? 0)) problem(`limit_refusals counted ${counted} ${limit}, ${ledger.refusals.get(limit) ?? 0} were answered 429`);
  }

  // idempotency records: one per claimed key, holding the claiming answer.
  if (rows(before, "public.idempotency_keys").length) problem("idempotency_keys was not empty before");
  const records = new Map(rows(after, "public.idempotency_keys").map((r) => [`${String(r.api_key_name)}\n${String(r.key)}`, r]));
  for (const [claim, statuses] of ledger.claims) {
    if (statuses.length !== 1) problem(`Idempotency-Key ${JSON.stringify(claim)} was claimed ${statuses.length} times (${statuses.join(", ")})`);
    const r = records.get(claim);
    if (!r) problem(`no idempotency record for ${JSON.stringify(claim)}`);
    else if (Number(r.response_status) !== statuses[0]) problem(`idempotency record ${JSON.stringify(claim)} holds ${String(r.response_status)}, answered ${statuses[0]}`);
  }
  for (const claim of records.keys()) if (!ledger.claims.has(claim)) problem(`an idempotency record ${JSON.stringify(claim)} no answer claimed`);
  for (const replay of ledger.replays) {
    const first = ledger.claims.get(replay.claim)?.[0];
    if (replay.status !== first) problem(`a replay of ${JSON.stringify(replay.claim)} answered ${replay.status}, the first answer was ${first}`);
  }
  return problems;
}

const named = (ledger: Ledger, id: string) => ledger.signedTargets.some((t) => t.includes(id));
