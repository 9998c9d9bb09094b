/**
 * Group commit inside the service: requests that reach the same statement within one
 * turn of the event loop run it once, together, with their values as arrays. Under load
 * a request then pays a share of one statement's round trip, parse, plan and commit
 * instead of a whole one: in the benchmark a validation's database CPU fell from about
 * 250-370 µs to 20-30 µs, and its driver's work in this process from 100-130 µs to
 * 10-20 µs (bench/findings.md). Idle, a batch holds one request and waits for nothing:
 * it is sent once the turn's I/O has been handled (setImmediate).
 *
 * At most `maxInFlight` batches of one kind run at once; requests that come meanwhile
 * queue and go together in the next. Requests with the same key never share a batch
 * (an UPDATE … FROM touches a row once per statement, so a second guess at the same
 * challenge would be dropped silently): a repeat waits for the next batch, in order.
 */
export interface BatchOptions<I, O> {
  /** Runs one batch; answers in the order of its inputs. */
  run(inputs: I[]): Promise<O[]>;
  /** Inputs with equal keys go in separate batches, first come first. */
  key(input: I): string;
  maxSize?: number;
  maxInFlight?: number;
}

interface Waiting<I, O> {
  input: I;
  key: string;
  resolve(out: O): void;
  reject(err: unknown): void;
}

/**
 * One backend runs a batch's rows one after another, so a large batch is a long wait
 * for its first request; a few batches at once keep both the database's cores busy.
 * On 2 cores at 64 connections (bench/findings.md), 4 × 64 validated no slower than
 * 2 × 256, and 8 × 16 spent half as much CPU again per request in the service.
 */
export const BATCH_MAX_SIZE = 64;
export const BATCH_MAX_IN_FLIGHT = 4;

export function batched<I, O>(opts: BatchOptions<I, O>): (input: I) => Promise<O> {
  const maxSize = opts.maxSize ?? BATCH_MAX_SIZE;
  const maxInFlight = opts.maxInFlight ?? BATCH_MAX_IN_FLIGHT;
  let queue: Array<Waiting<I, O>> = [];
  let inFlight = 0;
  let scheduled = false;

  const schedule = () => {
    if (scheduled || inFlight >= maxInFlight || queue.length === 0) return;
    scheduled = true;
    setImmediate(flush);
  };

  function flush() {
    scheduled = false;
    const batch: Array<Waiting<I, O>> = [];
    const later: Array<Waiting<I, O>> = [];
    const keys = new Set<string>();
    for (const w of queue) {
      if (batch.length < maxSize && !keys.has(w.key)) {
        keys.add(w.key);
        batch.push(w);
      } else {
        later.push(w);
      }
    }
    queue = later;
    inFlight++;
    // A synchronous throw from run() is a rejection like any other.
    void Promise.resolve()
      .then(() => opts.run(batch.map((w) => w.input)))
      .then((outputs) => {
        if (outputs.length !== batch.length) throw new Error(`a batch of ${batch.length} was answered with ${outputs.length} results`);
        batch.forEach((w, i) => w.resolve(outputs[i]!));
      })
      .catch((err: unknown) => {
        for (const w of batch) w.reject(err);
      })
      .finally(() => {
        inFlight--;
        schedule();
      });
    schedule();
  }

  return (input) =>
    new Promise<O>((resolve, reject) => {
      queue.push({ input, key: opts.key(input), resolve, reject });
      schedule();
    });
}

/**
 * One batcher per owner (a database, or a service's dependencies), made on first use:
 * batches must not mix databases or settings (tests run several services in one process).
 */
export function onePer<D extends object, I, O>(make: (owner: D) => (input: I) => Promise<O>): (owner: D, input: I) => Promise<O> {
  const made = new WeakMap<D, (input: I) => Promise<O>>();
  return (owner, input) => {
    let run = made.get(owner);
    if (!run) made.set(owner, (run = make(owner)));
    return run(input);
  };
}

/**
 * Runs a batch's statement and gives each input its row, matched by `ord` (its 1-based
 * place in the batch; none when the statement returned none for it). A deadlock
 * (PostgreSQL breaks it: batches lock their rows in one order, other statements may
 * not) or a unique violation (a race the locks should have prevented) rolls the
 * statement back, and it runs again as it was.
 */
export async function rowsByOrd<I, R extends { ord: number }>(inputs: I[], run: (inputs: I[]) => Promise<R[]>): Promise<Array<R | undefined>> {
  for (let attempt = 0; ; attempt++) {
    try {
      const rows = await run(inputs);
      const out: Array<R | undefined> = new Array(inputs.length).fill(undefined);
      for (const row of rows) out[row.ord - 1] = row;
      return out;
    } catch (err) {
      if (isRetryable(err) && attempt < 20) continue;
      throw err;
    }
  }
}

/** A unique violation or a deadlock: the statement may run again. */
export function isRetryable(err: unknown): boolean {
  for (let e: unknown = err; e; e = (e as { cause?: unknown }).cause) {
    const code = (e as { code?: string }).code;
    if (code === "23505" || code === "40P01") return true;
  }
  return false;
}
