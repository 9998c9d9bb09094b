import { describe, expect, it } from "vitest";
import { batched } from "../src/db/batch.js";

/** Resolves once the event loop has gone round: what one turn queued has been sent. */
const turn = () => new Promise((resolve) => setImmediate(resolve));

describe("requests run together (src/db/batch.ts)", () => {
  function recorder(opts: { maxInFlight?: number; maxSize?: number; fail?: (inputs: string[]) => boolean } = {}) {
    const runs: string[][] = [];
    const gates: Array<() => void> = [];
    const run = batched<string, string>({
      key: (s) => s.split(":")[0]!,
      maxInFlight: opts.maxInFlight ?? 10,
      maxSize: opts.maxSize,
      run: async (inputs) => {
        runs.push(inputs);
        await new Promise<void>((resolve) => gates.push(resolve));
        if (opts.fail?.(inputs)) throw new Error(`batch ${inputs.join(",")} failed`);
        return inputs.map((s) => s.toUpperCase());
      },
    });
    /** Lets every run started so far finish, and the batches waiting for them start. */
    const release = async () => {
      while (gates.length) gates.shift()!();
      await turn();
      await turn();
    };
    return { run, runs, release };
  }

  it("sends what one turn brings as one batch, and answers each in its order", async () => {
    const r = recorder();
    const answers = Promise.all(["a", "b", "c"].map((s) => r.run(s)));
    await turn();
    expect(r.runs).toEqual([["a", "b", "c"]]);
    await r.release();
    expect(await answers).toEqual(["A", "B", "C"]);
  });

  it("sends a lone request at the end of its turn, without waiting for company", async () => {
    const r = recorder();
    const answer = r.run("a");
    await turn();
    expect(r.runs).toEqual([["a"]]);
    await r.release();
    expect(await answer).toBe("A");
  });

  it("never puts two requests with one key in a batch: the second goes next, in order", async () => {
    const r = recorder();
    const answers = Promise.all(["a:1", "b", "a:2", "a:3"].map((s) => r.run(s)));
    await turn();
    await turn();
    await turn();
    expect(r.runs).toEqual([["a:1", "b"], ["a:2"], ["a:3"]]);
    await r.release();
    expect(await answers).toEqual(["A:1", "B", "A:2", "A:3"]);
  });

  it("keeps at most maxInFlight batches running; what comes meanwhile goes together next", async () => {
    const r = recorder({ maxInFlight: 1 });
    const first = r.run("a");
    await turn();
    const rest = Promise.all(["b", "c", "d"].map((s) => r.run(s)));
    await turn();
    await turn();
    expect(r.runs).toEqual([["a"]]);
    await r.release();
    expect(r.runs).toEqual([["a"], ["b", "c", "d"]]);
    await r.release();
    expect([await first, ...(await rest)]).toEqual(["A", "B", "C", "D"]);
  });

  it("splits a turn's requests into batches of maxSize", async () => {
    const r = recorder({ maxSize: 2 });
    const answers = Promise.all(["a", "b", "c", "d", "e"].map((s) => r.run(s)));
    for (let i = 0; i < 4; i++) await turn();
    expect(r.runs).toEqual([["a", "b"], ["c", "d"], ["e"]]);
    await r.release();
    expect(await answers).toEqual(["A", "B", "C", "D", "E"]);
  });

  it("fails every request of a batch that fails, and goes on with the next", async () => {
    const r = recorder({ maxInFlight: 1, fail: (inputs) => inputs.includes("a") });
    const failed = Promise.allSettled(["a", "b"].map((s) => r.run(s)));
    await turn();
    const later = r.run("c");
    await r.release();
    expect((await failed).map((s) => s.status)).toEqual(["rejected", "rejected"]);
    await r.release();
    expect(await later).toBe("C");
  });

  it("fails a batch answered with the wrong number of results", async () => {
    const run = batched<string, string>({ key: (s) => s, run: async () => ["only one"] });
    await expect(Promise.all([run("a"), run("b")])).rejects.toThrow("a batch of 2 was answered with 1 results");
  });
});
