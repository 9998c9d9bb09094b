/**
 * Group commit inside the service, for the hot statements (a guess's read and its
 * verdict, a key's request count): requests that reach the same statement within one
 * turn of the event loop run it once, together, with their values as arrays. What it
 * buys: one write to the database's socket and one statement for the whole batch
 * instead of one each; each costs about as much as a whole validation's other work
 * (bench/findings.md has the measurement). Idle, a batch holds one request and waits
 * for nothing: it is sent once the turn's I/O has been handled (setImmediate).
 *
 * At most `maxInFlight` batches of one kind run at once; requests that come meanwhile
 * queue and go together in the next. Requests with the same key never share a batch
 * (an UPDATE … FROM touches a row once per statement, so a second guess at the same
 * challenge would be lost): a repeat waits for the next batch, in order.
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

// A few batches at once keep both of PostgreSQL's cores busy on a 2-core machine.
const MAX_SIZE = 64;
const MAX_IN_FLIGHT = 4;

export function batched<I, O>(opts: BatchOptions<I, O>): (input: I) => Promise<O> {
  const maxSize = opts.maxSize ?? MAX_SIZE;
  const maxInFlight = opts.maxInFlight ?? MAX_IN_FLIGHT;
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
 * One batcher per owner (a database), made on first use: batches must not mix
 * databases (tests run several services in one process).
 */
export function onePer<D extends object, I, O>(make: (owner: D) => (input: I) => Promise<O>): (owner: D, input: I) => Promise<O> {
  const made = new WeakMap<D, (input: I) => Promise<O>>();
  return (owner, input) => {
    let run = made.get(owner);
    if (!run) made.set(owner, (run = make(owner)));
    return run(input);
  };
}
