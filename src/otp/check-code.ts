import { sql } from "drizzle-orm";
import { statement, type Database } from "../db/open.js";
import { batched, onePer, rowsByOrd } from "../db/batch.js";
import { lockedInIdOrder } from "./row-locks.js";
import type { ChallengeDeps } from "./challenges.js";
import { macCode } from "./codes.js";

export type CheckResult =
  | { kind: "approved"; id: string }
  | { kind: "denied"; reason: "incorrect"; attemptsRemaining: number; id: string }
  | { kind: "denied"; reason: "expired" | "too_many_attempts" | "locked"; attemptsRemaining: 0 }
  /** unknown: no challenge was ever issued to this number or id (none is kept, at least). */
  | { kind: "denied"; reason: "no_pending_challenge"; attemptsRemaining: 0; unknown?: true };

type By = "id" | "number";

interface Guess {
  /** The challenge's id or its number (E.164), by what the statement looks it up. */
  target: string;
  mac: string;
  now: Date;
  lockMax: number;
}

interface CheckRow {
  /** The guess's place in its batch (1-based). */
  ord: number;
  id: string;
  prior_status: string;
  others: number;
  new_status: string | null;
  attempts: number | null;
  failures: number | null;
  max_attempts: number;
}

const p = (name: string) => sql.placeholder(name);

/**
 * The statement of checkCode for a batch of guesses, each at a different challenge.
 *
 * For each guess, the pending challenge when there is one (through the small index of
 * pending rows): created_at comes from each instance's clock, and a skewed or equal clock
 * must not send a guess to a superseded row. Only without one is the newest row read,
 * to tell why nothing is pending (a plain Append runs its branches in order and the limit
 * stops it at the first row); only a pending one needs the number's other failures.
 * Then one UPDATE counts every guess, decides every verdict and wipes the codes that end.
 */
function checkQuery(by: By) {
  const which = by === "id" ? sql`l.id = i.target` : sql`l.number = i.target`;
  const ends = sql`(c.expires_at <= latest.now or c.code_mac = latest.mac or c.attempts + 1 >= c.max_attempts)`;
  return sql`
    with i as (
      select t.target, t.mac, t.now, t.lock_max, t.ord::int as ord
      from unnest(${p("targets")}::text[], ${p("macs")}::text[], ${p("nows")}::text[]::timestamptz[], ${p("lockMaxes")}::int[])
        with ordinality as t(target, mac, now, lock_max, ord)
    ), latest as (
      select i.ord, i.mac, i.now, i.lock_max, x.id, x.status, x.max_attempts, x.others
      from i cross join lateral (
        (select l.id, l.status, l.max_attempts,
                (select coalesce(sum(o.failures), 0) from challenges o
                 where o.number = l.number and o.id <> l.id and o.created_at > i.now - interval '24 hours')::int as others
         from challenges l where ${which} and l.status = 'pending')
        union all
        (select l.id, l.status, l.max_attempts, 0 from challenges l where ${which} order by l.created_at desc limit 1)
        limit 1
      ) x
    ), locked as (${lockedInIdOrder(sql`select id from latest where status = 'pending'`)}
    ), upd as (
      update challenges c set
        status = case
          when c.expires_at <= latest.now then 'expired'
          when c.code_mac = latest.mac then 'approved'
          when c.attempts + 1 >= c.max_attempts then 'too_many_attempts'
          else 'pending' end,
        attempts = case when c.expires_at <= latest.now or c.code_mac = latest.mac then c.attempts else c.attempts + 1 end,
        failures = case when c.expires_at <= latest.now or c.code_mac = latest.mac then c.failures else c.failures + 1 end,
        code_mac = case when ${ends} then null else c.code_mac end,
        code_sealed = case when ${ends} then null else c.code_sealed end,
        ended_at = case when ${ends} then latest.now else null end
      from latest join locked on locked.id = latest.id
      where latest.status = 'pending' and c.id = latest.id and c.status = 'pending' and c.attempts < c.max_attempts
        and latest.others + c.failures < latest.lock_max
      returning latest.ord, c.status, c.attempts, c.failures
    )
    select latest.ord, latest.id, latest.status as prior_status, latest.max_attempts, latest.others,
           upd.status as new_status, upd.attempts, upd.failures
    from latest left join upd on upd.ord = latest.ord`;
}

const checkStatements = { id: statement<CheckRow>(checkQuery("id")), number: statement<CheckRow>(checkQuery("number")) };

async function checkBatch(database: Database, by: By, guesses: Guess[]): Promise<Array<CheckRow | undefined>> {
  return rowsByOrd(guesses, (sorted) =>
    checkStatements[by](database, {
      targets: sorted.map((g) => g.target),
      macs: sorted.map((g) => g.mac),
      // Times travel as text[]: drizzle's postgres.js driver leaves timestamptz[] parameters unserialised.
      nows: sorted.map((g) => g.now.toISOString()),
      lockMaxes: sorted.map((g) => g.lockMax),
    }),
  );
}

const checkers = {
  id: onePer((database: Database) =>
    batched<Guess, CheckRow | undefined>({ key: (g) => g.target, run: (guesses) => checkBatch(database, "id", guesses) }),
  ),
  number: onePer((database: Database) =>
    batched<Guess, CheckRow | undefined>({ key: (g) => g.target, run: (guesses) => checkBatch(database, "number", guesses) }),
  ),
};

const currentStatus = statement<{ status: string; failures: number; expired: boolean }>(
  sql`select status, failures, expires_at <= ${p("now")}::timestamptz as expired from challenges where id = ${p("id")}`,
);

/**
 * Checks a guess against the latest challenge of a number (or a given id) in one
 * UPDATE … RETURNING: the attempt is counted, the verdict decided and the code
 * wiped at once, so concurrent guesses cannot pass the maximum and a right code
 * is approved exactly once. Guesses that arrive together share that statement, one
 * row each (src/db/batch.ts). Besides the challenge's own maximum, the number's wrong
 * guesses over 24 hours are capped (FAILED_VALIDATIONS_PER_NUMBER_PER_DAY): past it
 * the number is locked. The other challenges' guesses cannot change underneath
 * (only the pending one takes guesses) and the pending row is re-read under its row
 * lock, so the cap holds under concurrency too.
 */
export async function checkCode(deps: ChallengeDeps, target: { number: string } | { id: string }, guess: string): Promise<CheckResult> {
  const { database, keys, clock } = deps;
  const lockMax = deps.limits.failedValidationsPerNumberPerDay;
  const now = clock.now();
  const by: By = "id" in target ? "id" : "number";
  const row = await checkers[by](database, {
    target: "id" in target ? target.id : target.number,
    mac: macCode(keys, guess),
    now,
    lockMax,
  });
  if (!row) return { kind: "denied", reason: "no_pending_challenge", attemptsRemaining: 0, unknown: true };
  switch (row.new_status) {
    case "approved":
      return { kind: "approved", id: row.id };
    case "pending":
    case "too_many_attempts": {
      const remaining = Math.min(row.max_attempts - (row.attempts ?? 0), lockMax - row.others - (row.failures ?? 0));
      return { kind: "denied", reason: "incorrect", attemptsRemaining: Math.max(0, remaining), id: row.id };
    }
    case "expired":
      return { kind: "denied", reason: "expired", attemptsRemaining: 0 };
  }
  // Nothing was updated. When the challenge looked pending, either the number is
  // locked or a concurrent guess ended it after this statement's snapshot: read
  // what it is now (only to choose the reason; the verdict is already decided).
  let ended = row.prior_status;
  if (ended === "pending") {
    const [current] = await currentStatus(database, { id: row.id, now: now.toISOString() });
    ended = current?.status ?? ended;
    if (current && ended === "pending") {
      if (current.expired) return { kind: "denied", reason: "expired", attemptsRemaining: 0 };
      if (row.others + Number(current.failures) >= lockMax) return { kind: "denied", reason: "locked", attemptsRemaining: 0 };
    }
  }
  if (ended === "too_many_attempts") return { kind: "denied", reason: "too_many_attempts", attemptsRemaining: 0 };
  if (ended === "expired") return { kind: "denied", reason: "expired", attemptsRemaining: 0 };
  return { kind: "denied", reason: "no_pending_challenge", attemptsRemaining: 0 };
}
