import { sql, type SQL } from "drizzle-orm";
import { statement, type Database } from "../db/open.js";

/**
 * Requests per API key per minute, counted in fixed one-minute windows shared by
 * every instance. One counter row per key would order every request of a busy key
 * behind the previous one's commit, so a window's budget is split over up to SHARDS (16)
 * rows, each with its own share: a request takes a unit from one shard with room,
 * under that row's lock, so the shares never add up to more than the limit however
 * many requests and instances race. A shard found full stays full for its window
 * (counts only grow), which this process remembers; when every shard is full the
 * window is spent. The upsert is a CTE so a route can fold it into its own statement
 * (validate-auth: one statement per request); housekeeping drops closed windows.
 */
const SHARDS = 16;

export interface Admission {
  bucket: string;
  perMinute: number;
  windowStart: Date;
  now: Date;
}

export function admission(bucket: string, perMinute: number, now: Date): Admission {
  return { bucket, perMinute, now, windowStart: new Date(Math.floor(now.getTime() / 60_000) * 60_000) };
}

/**
 * `hit` for a WITH clause: takes one unit of the shard's share, returning a row only
 * when it did. Its values are the placeholders that a shard's AdmissionValues fills.
 */
export const countingCte: SQL = sql`hit as (
    insert into rate_windows (bucket, window_start, shard, hits)
    select ${sql.placeholder("bucket")}, ${sql.placeholder("windowStart")}::timestamptz, ${sql.placeholder("shard")}::int, 1
    where ${sql.placeholder("share")}::int > 0
    on conflict (bucket, window_start, shard) do update set hits = rate_windows.hits + 1
      where rate_windows.hits < ${sql.placeholder("share")}::int
    returning hits)`;

export interface AdmissionValues {
  bucket: string;
  windowStart: string;
  shard: number;
  share: number;
  [name: string]: unknown;
}

/** Shards known full, per database, by bucket and window: a fact that holds until the window closes. */
const knownFull = new WeakMap<Database, Map<string, Set<number>>>();

/**
 * Runs attempt with one shard after another, starting at a random one, until it is
 * admitted (attempt returns a result) or every shard is full (null: refused). attempt
 * must change nothing when its shard refuses it.
 */
export async function admit<R>(
  database: Database,
  a: Admission,
  attempt: (values: AdmissionValues) => Promise<R | null>,
): Promise<R | null> {
  let full = knownFull.get(database);
  if (!full) knownFull.set(database, (full = new Map()));
  const shards = Math.max(1, Math.min(SHARDS, a.perMinute));
  const window = `${a.bucket}\u0000${a.windowStart.getTime()}`;
  const known = full.get(window);
  const start = Math.floor(Math.random() * shards);
  for (let i = 0; i < shards; i++) {
    const shard = (start + i) % shards;
    if (known?.has(shard)) continue;
    const share = Math.floor(a.perMinute / shards) + (shard < a.perMinute % shards ? 1 : 0);
    const result = await attempt({ bucket: a.bucket, windowStart: a.windowStart.toISOString(), shard, share });
    if (result !== null) return result;
    rememberFull(full, window, a.windowStart, shard);
  }
  return null;
}

function rememberFull(full: Map<string, Set<number>>, window: string, windowStart: Date, shard: number) {
  let set = full.get(window);
  if (!set) {
    // Closed windows are dropped as new ones fill: the map stays small.
    for (const key of full.keys()) if (Number(key.split("\u0000")[1]) < windowStart.getTime()) full.delete(key);
    full.set(window, (set = new Set()));
  }
  set.add(shard);
}

/** Seconds until the window resets: what a refused request is told to wait. */
export function retryAfter(a: Admission): number {
  return Math.max(1, Math.ceil((a.windowStart.getTime() + 60_000 - a.now.getTime()) / 1000));
}

const countStatement = statement<{ hits: number }>(sql`with ${countingCte} select hits from hit`);

/** Counts one request on its own; returns the seconds to wait when it is over the limit. */
export async function countRequest(database: Database, a: Admission): Promise<number | null> {
  const admitted = await admit(database, a, async (values) => ((await countStatement(database, values)).length > 0 ? true : null));
  return admitted ? null : retryAfter(a);
}
