import { sql, type SQL } from "drizzle-orm";
import { statement, type Database } from "../db/open.js";

/**
 * Requests per API key per minute, counted in fixed one-minute windows shared by
 * every instance. One counter row per key would order every request of a busy key
 * behind the previous one's commit, so a window's budget is split over up to SHARDS (16)
 * rows, each with its own share: a request takes units from one shard with room,
 * under that row's lock, so the shares never add up to more than the limit however
 * many requests and instances race.
 *
 * An instance takes a few units at once (a lease, at most 1/8 of a shard's share and
 * LEASE_MAX) and spends the rest of them without a database write: in a steady stream
 * one request in up to LEASE_MAX writes a counter. Nothing is ever admitted past the
 * limit; the price is that units an instance leased and did not spend before the
 * window closed are lost. To keep that loss at (lease − 1) per instance, under 1/128
 * of the limit, an instance has one multi-unit lease in flight at a time and takes
 * the next only once the last is spent (a burst of concurrent requests would otherwise
 * each bring back a lease, and strand that many). Requests that arrive while it is in
 * flight wait for a unit of it when they can, else take one unit each. Small budgets
 * lease one unit at a time and are exact.
 *
 * A shard found full stays full for its window (counts only grow), which this process
 * remembers; when every shard is full the window is spent. Housekeeping drops closed
 * windows.
 */
const SHARDS = 16;
const LEASE_MAX = 64;

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
 * `hit` for a WITH clause: takes up to `lease` units of the shard's share, returning
 * a row (`granted`, at least 1) only when it took any. Its values are the placeholders
 * that a shard's AdmissionValues fills.
 */
export const countingCte: SQL = sql`hit as (
    insert into rate_windows (bucket, window_start, shard, hits, granted)
    select ${sql.placeholder("bucket")}, ${sql.placeholder("windowStart")}::timestamptz, ${sql.placeholder("shard")}::int,
           least(${sql.placeholder("lease")}::int, ${sql.placeholder("share")}::int), least(${sql.placeholder("lease")}::int, ${sql.placeholder("share")}::int)
    where ${sql.placeholder("share")}::int > 0
    on conflict (bucket, window_start, shard) do update
      set hits = rate_windows.hits + least(${sql.placeholder("lease")}::int, ${sql.placeholder("share")}::int - rate_windows.hits),
          granted = least(${sql.placeholder("lease")}::int, ${sql.placeholder("share")}::int - rate_windows.hits)
      where rate_windows.hits < ${sql.placeholder("share")}::int
    returning granted)`;

export interface AdmissionValues {
  bucket: string;
  windowStart: string;
  shard: number;
  share: number;
  lease: number;
  [name: string]: unknown;
}

/** What this process knows of a window: shards found full, units leased and not spent yet. */
interface WindowState {
  full: Set<number>;
  leased: number;
  /** The multi-unit lease in flight, if any: its surplus is already counted against the window. */
  lease: LeaseInFlight | null;
}

interface LeaseInFlight {
  /** Units of its surplus not yet promised to a waiting request. */
  open: number;
  /** Requests waiting for a unit of it: told true (a unit is theirs) or false (try again). */
  waiters: Array<(unit: boolean) => void>;
}
const windows = new WeakMap<Database, Map<string, WindowState>>();

/** Takes units from one shard: how many it granted, or null when it had no room (and nothing changed). */
export type TakeUnits = (values: AdmissionValues) => Promise<number | null>;

/**
 * Admits one request: on a unit this process leased earlier when it has one, else on
 * one of the lease in flight, else by taking units from one shard after another,
 * starting at a random one, until a shard has room (true) or every shard is full
 * (false: refused).
 */
export async function admit(database: Database, a: Admission, take: TakeUnits): Promise<boolean> {
  const state = windowState(database, a);
  const shards = Math.max(1, Math.min(SHARDS, a.perMinute));
  const start = Math.floor(Math.random() * shards);
  for (;;) {
    // Checked on every try: a lease may have come back while this request waited or found a shard full.
    if (state.leased > 0) {
      state.leased--;
      return true;
    }
    const inFlight = state.lease;
    if (inFlight && inFlight.open > 0) {
      inFlight.open--;
      if (await new Promise<boolean>((resolve) => inFlight.waiters.push(resolve))) return true;
      continue;
    }
    const shard = openShard(state.full, start, shards);
    if (shard === null) return false;
    const share = Math.floor(a.perMinute / shards) + (shard < a.perMinute % shards ? 1 : 0);
    // One multi-unit lease in flight at a time keeps what this process holds unspent
    // (its leased units and the surplus in flight) at lease − 1.
    const lease = state.lease ? 1 : leaseFor(share);
    const taking: LeaseInFlight | null = lease > 1 ? { open: lease - 1, waiters: [] } : null;
    if (taking) state.lease = taking;
    let granted: number | null = null;
    try {
      granted = await take({ bucket: a.bucket, windowStart: a.windowStart.toISOString(), shard, share, lease });
    } finally {
      if (taking) {
        state.lease = null;
        let surplus = granted === null ? 0 : granted - 1;
        for (const waiter of taking.waiters) {
          const unit = surplus > 0;
          if (unit) surplus--;
          waiter(unit);
        }
        state.leased += surplus;
      }
    }
    if (granted !== null) return true;
    state.full.add(shard);
  }
}

/** The first shard from start (round the ring) not known to be full; null when all are. */
function openShard(full: Set<number>, start: number, shards: number): number | null {
  for (let i = 0; i < shards; i++) if (!full.has((start + i) % shards)) return (start + i) % shards;
  return null;
}

/** Units taken at once from a shard with this share. */
function leaseFor(share: number): number {
  return Math.max(1, Math.min(LEASE_MAX, Math.floor(share / 8)));
}

/** The most units of a window that one process can hold leased and unspent: the counters' overshoot of the requests. */
export function maxUnspent(perMinute: number): number {
  return leaseFor(Math.ceil(perMinute / Math.max(1, Math.min(SHARDS, perMinute)))) - 1;
}

function windowState(database: Database, a: Admission): WindowState {
  let known = windows.get(database);
  if (!known) windows.set(database, (known = new Map()));
  const key = `${a.bucket}\u0000${a.windowStart.getTime()}`;
  let state = known.get(key);
  if (!state) {
    // Closed windows are dropped as new ones open (their leases lapse with them): the map stays small.
    for (const k of known.keys()) if (Number(k.split("\u0000")[1]) < a.windowStart.getTime()) known.delete(k);
    known.set(key, (state = { full: new Set(), leased: 0, lease: null }));
  }
  return state;
}

/** Seconds until the window resets: what a refused request is told to wait. */
export function retryAfter(a: Admission): number {
  return Math.max(1, Math.ceil((a.windowStart.getTime() + 60_000 - a.now.getTime()) / 1000));
}

const countStatement = statement<{ granted: number }>(sql`with ${countingCte} select granted from hit`);

/** Counts one request; returns the seconds to wait when it is over the limit. */
export async function countRequest(database: Database, a: Admission): Promise<number | null> {
  const admitted = await admit(database, a, async (values) => (await countStatement(database, values))[0]?.granted ?? null);
  return admitted ? null : retryAfter(a);
}
