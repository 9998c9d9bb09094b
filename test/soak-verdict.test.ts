import { describe, expect, it } from "vitest";
import { fixedRate, MinuteRecorder, percentile } from "../bench/soak-load.js";
import { overall, parseSoakArgs, soakVerdict, type MinuteSample } from "../bench/soak-verdict.js";

// The soak's pure parts (`npm run soak` itself takes minutes and is not part of npm test).

/** A steady minute: both instances at 100 MB, p99 10 ms, tables at 1,000 rows; `change` alters it. */
function minute(n: number, change: (s: MinuteSample) => void = () => {}): MinuteSample {
  const s: MinuteSample = {
    minute: n,
    all: { count: 3600, p50: 4, p99: 10 },
    ops: { "request-auth": { count: 1200, p50: 6, p99: 12 }, "validate-auth": { count: 2400, p50: 3, p99: 8 } },
    statuses: { "200": 1200, "201": 1200, "403": 1200 },
    served: 8400,
    served5xx: 0,
    metricsUnanswered: 0,
    webhooks: 4800,
    webhookFailures: 0,
    events: 2400,
    instances: [
      { rssMb: 100, heapUsedMb: 30, heapTotalMb: 50, cpuCores: 0.1 },
      { rssMb: 100, heapUsedMb: 30, heapTotalMb: 50, cpuCores: 0.1 },
    ],
    cpu: { simulator: 0.05, loadGenerator: 0.05, postgres: 0.1 },
    machineBusy: 0.3,
    dbConnections: 12,
    tables: {
      challenges: { rows: 1000, bytes: 800_000, dead: 50 },
      call_events: { rows: 3000, bytes: 600_000, dead: 0 },
      events: { rows: 2000, bytes: 900_000, dead: 10 },
    },
    oldestChallengeSeconds: 100,
  };
  change(s);
  return s;
}
const steady = (minutes: number) => Array.from({ length: minutes }, (_, i) => minute(i + 1));
const settings = { settleSeconds: 110 };
const lineAbout = (samples: MinuteSample[], word: RegExp) => soakVerdict(samples, settings).find((l) => word.test(l.criterion))!;

describe("the soak's command line", () => {
  it("runs 10 minutes at 20 request-auth a second and writes bench/soak.md by default", () => {
    expect(parseSoakArgs([])).toEqual({ kind: "run", options: { minutes: 10, rate: 20, write: true } });
  });

  it("takes --minutes, --rate and --no-write in any order", () => {
    expect(parseSoakArgs(["--no-write", "--rate", "7.5", "--minutes", "3"])).toEqual({ kind: "run", options: { minutes: 3, rate: 7.5, write: false } });
  });

  it("answers --help and -h with the usage", () => {
    expect(parseSoakArgs(["--minutes", "3", "--help"])).toEqual({ kind: "help" });
    expect(parseSoakArgs(["-h"])).toEqual({ kind: "help" });
  });

  it("refuses what it cannot run, saying which option is wrong", () => {
    expect(parseSoakArgs(["--minutes"])).toEqual({ kind: "error", message: "--minutes needs a number" });
    expect(parseSoakArgs(["--minutes", "two"])).toEqual({ kind: "error", message: "--minutes needs a number" });
    expect(parseSoakArgs(["--minutes", "2.5"])).toMatchObject({ kind: "error", message: expect.stringMatching(/^--minutes takes a whole number/) });
    expect(parseSoakArgs(["--minutes", "0"])).toMatchObject({ kind: "error" });
    expect(parseSoakArgs(["--rate", "0"])).toMatchObject({ kind: "error", message: expect.stringMatching(/^--rate takes/) });
    expect(parseSoakArgs(["--rate", "-5"])).toMatchObject({ kind: "error" });
    expect(parseSoakArgs(["--quick"])).toEqual({ kind: "error", message: "unknown option --quick" });
  });
});

describe("the soak's verdict", () => {
  it("is met by a steady run: every criterion judged and met", () => {
    const lines = soakVerdict(steady(10), settings);
    expect(lines.map((l) => l.met)).toEqual([true, true, true, true]);
    expect(overall(lines)).toBe("met");
  });

  it("judges RSS from the end of minute 2, so the warm-up's growth does not count", () => {
    const warming = steady(5).map((s) => minute(s.minute, (m) => (m.instances[0]!.rssMb = s.minute === 1 ? 60 : 105)));
    expect(lineAbout(warming, /RSS/).met).toBe(true);
  });

  it("fails RSS growth of 10 % or more on either instance, naming both", () => {
    const growing = steady(6).map((s) => minute(s.minute, (m) => (m.instances[1]!.rssMb = 100 + (s.minute - 2) * 2.5)));
    const line = lineAbout(growing, /RSS/);
    expect(line.met).toBe(false);
    expect(line.figures).toBe("instance A 100 MB → 100 MB (+0.0 %); instance B 100 MB → 110 MB (+10.0 %)");
  });

  it("fails a p99 that spreads beyond 1.5× from minute 2 on, but ignores minute 1", () => {
    const firstSlow = steady(5).map((s) => minute(s.minute, (m) => (m.all.p99 = s.minute === 1 ? 100 : 10)));
    expect(lineAbout(firstSlow, /p99/).met).toBe(true);
    const drifting = steady(5).map((s) => minute(s.minute, (m) => (m.all.p99 = 8 + s.minute * 3)));
    const line = lineAbout(drifting, /p99/);
    expect(line.met).toBe(false);
    expect(line.figures).toBe("14 ms (minute 2) to 23 ms (minute 5): 1.64×");
  });

  it("holds exactly 1.5× as flat", () => {
    const edge = steady(3).map((s) => minute(s.minute, (m) => (m.all.p99 = s.minute === 3 ? 15 : 10)));
    expect(lineAbout(edge, /p99/).met).toBe(true);
  });

  it("fails a minute from minute 2 on with no answer at all", () => {
    const silent = steady(4).map((s) => minute(s.minute, (m) => s.minute === 3 && (m.all = { count: 0, p50: 0, p99: 0 })));
    expect(lineAbout(silent, /p99/)).toMatchObject({ met: false, figures: "no response at all in minute 3" });
  });

  it("fails on one 5xx anywhere: the load generator's, an instance's (webhooks included), a request, webhook or scrape unanswered", () => {
    const errors = lineAbout(steady(3), /5xx/);
    expect(errors.met).toBe(true);
    for (const change of [
      (m: MinuteSample) => (m.statuses["503"] = 1),
      (m: MinuteSample) => (m.served5xx = 1),
      (m: MinuteSample) => (m.statuses.failed = 1),
      (m: MinuteSample) => (m.webhookFailures = 1),
      (m: MinuteSample) => (m.metricsUnanswered = 1),
    ]) {
      const samples = steady(3).map((s) => minute(s.minute, (m) => s.minute === 3 && change(m)));
      expect(lineAbout(samples, /5xx/).met).toBe(false);
    }
  });

  it("judges 5xx even in a one-minute run, and leaves the rest unjudged", () => {
    const lines = soakVerdict(steady(1), settings);
    expect(lines.map((l) => l.met)).toEqual([undefined, undefined, true, undefined]);
    expect(overall(lines)).toBe("incomplete");
  });

  it("compares rows from the first minute ending after the settling time, and fails a table that keeps growing", () => {
    // Settled by the end of minute 2 (110 s): minute 2 against the last.
    const bounded = steady(6).map((s) => minute(s.minute, (m) => (m.tables.challenges!.rows = s.minute === 1 ? 500 : 1000 + s.minute * 10)));
    const ok = lineAbout(bounded, /bounded/);
    expect(ok.met).toBe(true);
    expect(ok.figures).toMatch(/^minute 2 → 6: challenges 1,020 → 1,060 rows \(1\.04×;/);
    const unswept = steady(6).map((s) => minute(s.minute, (m) => (m.tables.call_events!.rows = 1200 * s.minute)));
    const line = lineAbout(unswept, /bounded/);
    expect(line.met).toBe(false);
    expect(line.figures).toContain("call_events 2,400 → 7,200 rows (3.00×;");
  });

  it("leaves the tables unjudged when the run ends before a later minute than the settled one", () => {
    expect(lineAbout(steady(2), /bounded/)).toMatchObject({ met: undefined, figures: "needs a run of at least 3 minutes" });
    expect(soakVerdict(steady(3), { settleSeconds: 150 }).at(-1)).toMatchObject({ met: undefined, figures: "needs a run of at least 4 minutes" });
  });

  it("skips a table nothing was written to, and fails when none was written to at all", () => {
    const noEvents = steady(4).map((s) => minute(s.minute, (m) => delete m.tables.events));
    expect(lineAbout(noEvents, /bounded/).figures).not.toMatch(/[:;] events /);
    const empty = steady(4).map((s) => minute(s.minute, (m) => (m.tables = {})));
    expect(lineAbout(empty, /bounded/).met).toBe(false);
  });

  it("is not met when any criterion fails, even with others unjudged", () => {
    const lines = soakVerdict(
      steady(2).map((s) => minute(s.minute, (m) => (m.served5xx = 2))),
      settings,
    );
    expect(overall(lines)).toBe("not met");
  });
});

describe("the soak's load", () => {
  it("takes percentiles by nearest rank", () => {
    const values = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(percentile(values, 0.5)).toBe(50);
    expect(percentile(values, 0.99)).toBe(99);
    expect(percentile([7], 0.99)).toBe(7);
    expect(percentile([], 0.5)).toBe(0);
  });

  it("sums up each minute's answers by operation and status, then starts afresh", () => {
    const r = new MinuteRecorder();
    for (let i = 1; i <= 100; i++) r.record(i % 2 ? "request-auth" : "validate-auth", i, i === 100 ? "failed" : i % 2 ? 201 : 403);
    const first = r.take();
    expect(first.all).toEqual({ count: 100, p50: 50, p99: 99 });
    expect(first.ops["request-auth"]).toEqual({ count: 50, p50: 49, p99: 99 });
    expect(first.statuses).toEqual({ "201": 50, "403": 49, failed: 1 });
    expect(r.take()).toEqual({ all: { count: 0, p50: 0, p99: 0 }, ops: {}, statuses: {} });
  });

  it("sends on a fixed schedule: every request that fell due, each with its own due time", async () => {
    const due: number[] = [];
    const start = performance.now();
    await fixedRate(200, start, start + 100, (at) => due.push(at));
    expect(due).toHaveLength(20);
    due.forEach((at, i) => expect(at).toBeCloseTo(start + i * 5, 6));
  });
});
