/**
 * The simulator's end, for the many things that wait on it: every ringing call's timer
 * and every webhook in flight. An AbortSignal walks its whole listener list on each
 * add and remove, which thousands of ringing calls turn into most of a loaded
 * simulator's CPU; a Set joins and leaves in constant time.
 */
export class Closing {
  #closed = false;
  readonly #waiters = new Set<() => void>();

  get closed(): boolean {
    return this.#closed;
  }

  /** Runs fn when the simulator closes (at once if it has); returns the function that forgets it. */
  onClose(fn: () => void): () => void {
    if (this.#closed) {
      fn();
      return () => {};
    }
    this.#waiters.add(fn);
    return () => this.#waiters.delete(fn);
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const fn of this.#waiters) fn();
    this.#waiters.clear();
  }
}
