import { timingSafeEqual } from "node:crypto";
import { sql, type SQL } from "drizzle-orm";
import { batched, onePer } from "../db/batch.js";
import { DatabaseBusyError, type Database } from "../db/open.js";
import { FAILED_VALIDATIONS, failedGuesses, hasReached } from "../limits/rules.js";
import { enqueueEvents, type EventType } from "../events/outbox.js";
import { macCode } from "./codes.js";
import type { ChallengeDeps, ServiceRules } from "./deps.js";
import { guessesLeft, isExpired } from "./rules.js";

/** id: the challenge the guess was judged on (for no_pending_challenge, the latest one, ended). */
export type CheckResult =
  /** number: the challenge's, E.164 (a verification token's subject). */
  | { kind: "approved"; id: string; number: string }
  | { kind: "denied"; reason: "incorrect"; attemptsRemaining: number; id: string }
  | { kind: "denied"; reason: "expired" | "too_many_attempts" | "locked"; attemptsRemaining: 0; id: string }
  /** unknown, and no id: no challenge was ever issued to this number or id (none is kept, at least). */
  | { kind: "denied"; reason: "no_pending_challenge"; attemptsRemaining: 0; id?: string; unknown?: true };

type By = "id" | "number";

/** The challenge a guess is judged on: the pending one, or else the latest (to say why nothing is pending). */
interface Seen {
  id: string;
  number: string;
  status: string;
  code_mac: string | null;
  attempts: number;
  failures: number;
  max_attempts: number;
  expires_at: string | Date;
  /** The number's wrong guesses over 24 hours on its other challenges. */
  others: number | string;
}

/** A verdict's write: applied only if the challenge is still as it was read. */
interface Write {
  id: string;
  seen: { attempts: number; failures: number };
  status: string;
  attempts: number;
  failures: number;
  /** The challenge ends: its code material is wiped. */
  ends: boolean;
  now: Date;
  /** What the backend is told of it, if anything (src/events/outbox.ts). */
  event?: { type: EventType; reason?: string };
}

const ts = (d: Date) => sql`${d.toISOString()}::timestamptz`;
const p = <T>(values: T[]) => sql.param(values);

/** What a guess is aimed at: a number or a challenge id, in the service the guess is made in. */
interface Aim {
  service: string;
  target: string;
  now: Date;
}

/** Reads the challenge of each guess of a batch: one statement. */
function readBatch(database: Database, by: By, guesses: Aim[]): Promise<Array<Seen | undefined>> {
  const which: SQL = sql`c.service_id = i.service and ${by === "id" ? sql`c.id = i.target` : sql`c.number = i.target`}`;
  return database
    .rows<Seen & { ord: number }>(sql`
      select i.ord::int as ord, x.* from unnest(${p(guesses.map((g) => g.service))}::text[], ${p(guesses.map((g) => g.target))}::text[],
                                                ${p(guesses.map((g) => g.now.toISOString()))}::timestamptz[])
        with ordinality as i(service, target, now, ord)
      cross join lateral (
        (select c.id, c.number, c.status, c.code_mac, c.attempts, c.failures, c.max_attempts, c.expires_at,
                ${failedGuesses(sql`c.service_id`, sql`c.number`, sql`i.now`, sql`c.id`)} as others
         from challenges c where ${which} and c.status = 'pending')
        union all
        (select c.id, c.number, c.status, null, 0, 0, 0, c.expires_at, 0 from challenges c where ${which} order by c.created_at desc limit 1)
        limit 1) x`)
    .then((rows) => {
      const out: Array<Seen | undefined> = guesses.map(() => undefined);
      for (const r of rows) out[r.ord - 1] = r;
      return out;
    });
}

/** Applies each write of a batch whose challenge is unchanged since it was read: one statement. */
async function writeBatch(database: Database, writes: Write[]): Promise<boolean[]> {
  // '' for no event: an empty string survives every driver's array encoding where null may not.
  const rows = await retryDeadlock(() => database.rows<{ ord: number }>(sql`
    with written as (
      update challenges c set status = u.status, attempts = u.attempts, failures = u.failures,
             code_mac = case when u.ends::boolean then null else c.code_mac end,
             code_sealed = case when u.ends::boolean then null else c.code_sealed end,
             ended_at = case when u.ends::boolean then u.now else c.ended_at end
      from unnest(${p(writes.map((w) => w.id))}::text[], ${p(writes.map((w) => w.seen.attempts))}::int[], ${p(writes.map((w) => w.seen.failures))}::int[],
                  ${p(writes.map((w) => w.status))}::text[], ${p(writes.map((w) => w.attempts))}::int[], ${p(writes.map((w) => w.failures))}::int[],
                  ${p(writes.map((w) => String(w.ends)))}::text[], ${p(writes.map((w) => w.now.toISOString()))}::timestamptz[],
                  ${p(writes.map((w) => w.event?.type ?? ""))}::text[], ${p(writes.map((w) => w.event?.reason ?? ""))}::text[])
        with ordinality as u(id, seen_attempts, seen_failures, status, attempts, failures, ends, now, event, reason, ord)
      where c.id = u.id and c.status = 'pending' and c.attempts = u.seen_attempts and c.failures = u.seen_failures
      returning u.ord::int as ord, c.id, c.service_id, c.number, c.status, c.attempts, u.event, u.reason, u.now),
    announced as (${enqueueEvents(sql`written s`, sql`nullif(s.event, '')`, sql`nullif(s.reason, '')`, sql`s.now`)})
    select ord from written`));
  const applied = writes.map(() => false);
  for (const r of rows) applied[r.ord - 1] = true;
  return applied;
}

/**
 * Two batches from two instances that share challenges may lock them in different
 * orders; PostgreSQL then breaks the deadlock by failing one statement, which rolled
 * back whole and runs again.
 */
async function retryDeadlock<T>(run: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await run();
    } catch (err) {
      if ((err as { code?: string }).code !== "40P01" || attempt >= 3) throw err;
    }
  }
}

const aimKey = (g: Aim) => `${g.service} ${g.target}`;
const readers = {
  id: onePer((database: Database) => batched({ key: aimKey, run: (gs) => readBatch(database, "id", gs) })),
  number: onePer((database: Database) => batched({ key: aimKey, run: (gs) => readBatch(database, "number", gs) })),
};
const writers = onePer((database: Database) => batched({ key: (w: Write) => w.id, run: (ws) => writeBatch(database, ws) }));

/** Verdicts whose write lost to a concurrent guess are judged again, a bounded number of times. */
const TRIES = 20;

/**
 * Checks a guess against the number's pending challenge in the service (or the service's
 * challenge with this id): the challenge is read, the guess judged here, and the verdict written only if
 * the challenge is still exactly as it was read (its status, attempts and failures);
 * otherwise it is read and judged again. So concurrent guesses are judged one after
 * another: they cannot pass the maximum, and a right code is approved once. Besides
 * the challenge's own maximum, the number's wrong guesses over 24 hours are capped
 * (the failed-guess lock, FAILED_VALIDATIONS): only the pending challenge takes
 * guesses, so the number's other failures cannot change while it is pending.
 */
export async function checkCode(
  deps: ChallengeDeps,
  service: Pick<ServiceRules, "id" | "limits">,
  target: { number: string } | { id: string },
  guess: string,
): Promise<CheckResult> {
  const { database, keys, clock } = deps;
  const { limits } = service;
  const now = clock.now();
  const mac = Buffer.from(macCode(keys, guess));
  const read =
    "id" in target
      ? () => readers.id(database, { service: service.id, target: target.id, now })
      : () => readers.number(database, { service: service.id, target: target.number, now });
  for (let attempt = 0; attempt < TRIES; attempt++) {
    const seen = await read();
    if (!seen) return { kind: "denied", reason: "no_pending_challenge", attemptsRemaining: 0, unknown: true };
    if (seen.status !== "pending") return whyNothingPending(seen);
    const write = (status: string, counted: boolean, ends: boolean, event?: Write["event"]): Write => ({
      id: seen.id,
      seen: { attempts: seen.attempts, failures: seen.failures },
      status,
      attempts: seen.attempts + (counted ? 1 : 0),
      failures: seen.failures + (counted ? 1 : 0),
      ends,
      now,
      event,
    });
    let verdict: CheckResult;
    let change: Write;
    const failures = Number(seen.others) + seen.failures;
    if (isExpired(new Date(seen.expires_at), now)) {
      verdict = { kind: "denied", reason: "expired", attemptsRemaining: 0, id: seen.id };
      change = write("expired", false, true, { type: "challenge.expired", reason: "expired" });
    } else if (hasReached(FAILED_VALIDATIONS, failures, limits)) {
      return { kind: "denied", reason: "locked", attemptsRemaining: 0, id: seen.id };
    } else if (seen.code_mac && timingSafeEqual(mac, Buffer.from(seen.code_mac))) {
      // Constant time: both are MACs of our own making, but a timing difference must not tell how much of one matched.
      verdict = { kind: "approved", id: seen.id, number: seen.number };
      change = write("approved", false, true, { type: "challenge.approved" });
    } else {
      const left = guessesLeft({ attempts: seen.attempts + 1, maxAttempts: seen.max_attempts });
      const lockIn = FAILED_VALIDATIONS.max(limits) - failures - 1;
      verdict = { kind: "denied", reason: "incorrect", attemptsRemaining: Math.max(0, Math.min(left, lockIn)), id: seen.id };
      // The guess that spends the challenge's budget ends it; one that reaches the number's
      // failed-guess lock leaves it pending but unusable: the backend is told either way.
      const event: Write["event"] =
        left === 0 ? { type: "challenge.too_many_attempts", reason: "too_many_attempts" } : lockIn <= 0 ? { type: "challenge.locked", reason: "locked" } : undefined;
      change = write(left === 0 ? "too_many_attempts" : "pending", true, left === 0, event);
    }
    if (await writers(database, change)) return verdict;
  }
  throw new DatabaseBusyError("a challenge kept changing under this guess");
}

function whyNothingPending({ id, status }: Seen): CheckResult {
  if (status === "too_many_attempts") return { kind: "denied", reason: "too_many_attempts", attemptsRemaining: 0, id };
  if (status === "expired") return { kind: "denied", reason: "expired", attemptsRemaining: 0, id };
  return { kind: "denied", reason: "no_pending_challenge", attemptsRemaining: 0, id };
}
