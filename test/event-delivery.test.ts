import { sql } from "drizzle-orm";
import { WebhookVerificationError } from "standardwebhooks";
import { afterEach, describe, expect, it } from "vitest";
import { loadConfig } from "../src/config/index.js";
import { openDatabase, type Database } from "../src/db/open.js";
import { minimumAttempts, nextAttemptAt, waitCeilingMs } from "../src/events/backoff.js";
import { retryEvent } from "../src/events/admin.js";
import { PER_ENDPOINT, startDispatcher, type Dispatcher } from "../src/events/dispatcher.js";
import { setEndpoint } from "../src/events/endpoints.js";
import { enqueueEvents } from "../src/events/outbox.js";
import { newSecret } from "../src/events/signature.js";
import { createLogger } from "../src/logger.js";
import { createMetrics, type Metrics } from "../src/metrics.js";
import { deriveCodeKeys } from "../src/otp/codes.js";
import { closedPort } from "./helpers/carrier-world.js";
import { manualClock } from "./helpers/clock.js";
import { createPostgresDatabase, databaseKinds, freshPglite, type DbKind } from "./helpers/databases.js";
import { startReceiver, verifyDelivery, type Receiver } from "./helpers/event-receiver.js";
import { SECRET_KEY } from "./helpers/service.js";
import { startServiceProcess, type ServiceProcess } from "./helpers/service-process.js";

/**
 * Delivery of the event outbox: the dispatcher claims due events, signs each attempt,
 * POSTs it to a receiver on 127.0.0.1, and writes the outcome. Every delivery is judged
 * by the `standardwebhooks` reference library. The clock is a manual one: retries
 * become due when the test moves it, on the real schedule.
 */

const keys = deriveCodeKeys(SECRET_KEY);
const kinds = await databaseKinds();

interface EventRow {
  id: string;
  service_id: string;
  body: string;
  state: string;
  attempts: number;
  next_attempt_at: Date;
  claimed_until: Date | null;
  last_status: number | null;
  last_error: string | null;
  created_at: Date;
  delivered_at: Date | null;
}

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function openTestDatabase(kind: DbKind): Promise<Database> {
  if (kind === "pglite") {
    const database = await openDatabase({ dataDir: "memory://", pglite: await freshPglite() });
    cleanups.push(() => database.close());
    return database;
  }
  const created = await createPostgresDatabase();
  cleanups.push(() => created.drop());
  return second(created.url);
}

/** Another handle on the same PostgreSQL database: another instance's connection pool. */
async function second(url: string): Promise<Database> {
  const database = await openDatabase({ databaseUrl: url, dataDir: "memory://" });
  cleanups.push(() => database.close());
  return database;
}

async function receiver(opts: Parameters<typeof startReceiver>[0]): Promise<Receiver> {
  const r = await startReceiver(opts);
  cleanups.push(() => r.close());
  return r;
}

/** A running dispatcher, as service.ts starts it, from a configuration the test's environment gives. */
function dispatcher(database: Database, clock: ReturnType<typeof manualClock>, env: Record<string, string> = {}, metrics: Metrics = createMetrics()) {
  const config = loadConfig({ ALLOW_PRIVATE_WEBHOOKS: "true", ...env });
  const logLines: string[] = [];
  const logger = createLogger({ level: "debug", pretty: false, destination: { write: (l: string) => void logLines.push(l) } });
  const d: Dispatcher = startDispatcher({ database, keys, clock, logger, metrics, config });
  cleanups.push(() => d.stop());
  return Object.assign(d, { metrics, logLines });
}

/** Writes n events for a service through the outbox's own INSERT, as a state change would. */
async function writeEvents(database: Database, serviceId: string, n: number, at: Date): Promise<string[]> {
  const challenges = Array.from({ length: n }, (_, i) => sql`(${`ch_${serviceId}_${i}_${at.getTime()}`}, ${serviceId}, ${"+14155550123"}, ${"approved"}, ${1}::int)`);
  const rows = await database.rows<{ id: string }>(sql`
    ${enqueueEvents(sql`(values ${sql.join(challenges, sql`, `)}) as s(id, service_id, number, status, attempts)`, "challenge.approved", null, at)}
    returning id`);
  expect(rows, "the service's endpoint takes challenge.approved").toHaveLength(n);
  return rows.map((r) => r.id);
}

async function eventRows(database: Database, ids?: string[]): Promise<EventRow[]> {
  const all = await database.rows<EventRow>(sql`select * from events order by created_at, id`);
  return (ids ? all.filter((e) => ids.includes(e.id)) : all).map((e) => ({ ...e, attempts: Number(e.attempts) }));
}

/** Polls until check() holds (the dispatcher runs on its own timers). */
async function until(what: string, check: () => Promise<boolean> | boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!(await check())) {
    if (performance.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Each event attempted `attempts` times and no longer held by an attempt in flight. */
const attempted = (database: Database, ids: string[], attempts: number) => async () =>
  (await eventRows(database, ids)).every((e) => e.attempts === attempts && e.claimed_until === null);

function sample(text: string, name: string, labels: Record<string, string> = {}): number {
  for (const line of text.split("\n")) {
    const m = /^([\w:]+)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const got = Object.fromEntries([...(m[2] ?? "").matchAll(/(\w+)="([^"]*)"/g)].map((x) => [x[1], x[2]]));
    if (Object.entries(labels).every(([k, v]) => got[k] === v)) return Number(m[3]);
  }
  return 0;
}

describe("the retry schedule", () => {
  it("waits at random up to 5 s, 15 s, 45 s… capped at 4 hours, and gives up past a day after at least 13 attempts", () => {
    expect([1, 2, 3, 4, 5, 6, 7, 8, 9, 20].map((n) => waitCeilingMs(n, 5000) / 1000)).toEqual([5, 15, 45, 135, 405, 1215, 3645, 10935, 14400, 14400]);
    expect(minimumAttempts(5000)).toBe(13);
    const written = new Date("2026-01-01T00:00:00Z");
    const at = (ms: number) => new Date(written.getTime() + ms);
    expect(nextAttemptAt(1, 5000, written, written, () => 0)).toEqual(written);
    expect(nextAttemptAt(1, 5000, written, written, () => 0.9999)).toEqual(at(4999));
    // Past the day: given up, unless the event has had fewer than its minimum of attempts.
    expect(nextAttemptAt(15, 5000, written, at(23 * 3600_000), () => 0.5)).toBeNull();
    expect(nextAttemptAt(15, 5000, written, at(23 * 3600_000), () => 0.1)).toEqual(at(23 * 3600_000 + 1440_000));
    expect(nextAttemptAt(2, 5000, written, at(48 * 3600_000), () => 0.5)).toEqual(at(48 * 3600_000 + 7500));
  });
});

describe.each(kinds)("event delivery (%s)", (kind) => {
  it("delivers each written event once, signed as Standard Webhooks says, and records it delivered", async () => {
    const database = await openTestDatabase(kind);
    const clock = manualClock();
    const secret = newSecret();
    const r = await receiver({ now: () => clock.now().getTime() });
    await setEndpoint(database, keys, { serviceId: "default", url: r.url, secret, eventTypes: null }, clock.now());
    const ids = await writeEvents(database, "default", 3, clock.now());
    const stored = await eventRows(database, ids);

    const d = dispatcher(database, clock);
    await until("all are delivered", async () => (await eventRows(database, ids)).every((e) => e.state === "delivered"));

    expect(r.deliveries.map((x) => x.id).sort()).toEqual([...ids].sort());
    for (const delivery of r.deliveries) {
      const event = stored.find((e) => e.id === delivery.id)!;
      // The stored body, byte for byte, and the reference library accepts it.
      expect(delivery.body).toBe(event.body);
      expect(verifyDelivery(secret, delivery)).toMatchObject({ type: "challenge.approved", data: { service: "default", status: "approved" } });
      expect(delivery.headers["webhook-timestamp"]).toBe(String(Math.floor(clock.now().getTime() / 1000)));
      expect(delivery.headers["content-type"]).toBe("application/json");
      // The oracle refuses what was not signed so: another secret, a changed body.
      expect(() => verifyDelivery(newSecret(), delivery)).toThrow(WebhookVerificationError);
      expect(() => verifyDelivery(secret, { ...delivery, body: delivery.body.replace("approved", "canceled") })).toThrow(WebhookVerificationError);
    }
    for (const e of await eventRows(database, ids)) {
      expect(e).toMatchObject({ attempts: 1, last_status: 200, last_error: null, claimed_until: null });
      expect(new Date(e.delivered_at!).getTime()).toBe(clock.now().getTime());
    }

    const m = await d.metrics.registry.metrics();
    expect(sample(m, "voice_otp_events_delivered_total", { service: "default" })).toBe(3);
    expect(sample(m, "voice_otp_event_delivery_attempts_total", { service: "default", outcome: "delivered" })).toBe(3);
    expect(sample(m, "voice_otp_event_delivery_seconds_count")).toBe(3);
    // Counted before the first claim: the three were waiting then.
    expect(sample(m, "voice_otp_events_pending", { service: "default" })).toBe(3);
  });

  it("gets every event to a receiver that was down, then failing, then back, with the same webhook-id on every attempt", async () => {
    const database = await openTestDatabase(kind);
    const clock = manualClock();
    const secret = newSecret();
    const port = await closedPort();
    await setEndpoint(database, keys, { serviceId: "default", url: `http://127.0.0.1:${port}/hooks`, secret, eventTypes: null }, clock.now());
    const written = clock.now();
    const ids = await writeEvents(database, "default", 5, written);
    const d = dispatcher(database, clock);

    // Down: nothing listens on the port.
    await until("each was tried once", attempted(database, ids, 1));
    for (const e of await eventRows(database, ids)) {
      expect(e.state).toBe("pending");
      expect(e.last_error).toMatch(new RegExp(`could not reach 127\\.0\\.0\\.1:${port}: ECONNREFUSED`));
      // The first retry waits at most the base (5 s), at random.
      expect(new Date(e.next_attempt_at).getTime() - written.getTime()).toBeLessThan(waitCeilingMs(1, 5000));
    }

    // Up, but answering 500: every retry is due once the first wait's ceiling has passed.
    const r = await receiver({ port, now: () => clock.now().getTime(), answer: () => 500 });
    clock.advance(waitCeilingMs(1, 5000));
    d.kick();
    await until("each was tried twice", attempted(database, ids, 2));
    for (const e of await eventRows(database, ids)) expect(e).toMatchObject({ state: "pending", last_status: 500, last_error: `127.0.0.1:${port} answered 500` });

    // Back.
    r.answer = () => 200;
    clock.advance(waitCeilingMs(2, 5000));
    d.kick();
    await until("all are delivered", async () => (await eventRows(database, ids)).every((e) => e.state === "delivered"));

    expect(r.deliveries).toHaveLength(10);
    for (const id of ids) {
      const attempts = r.deliveries.filter((x) => x.id === id);
      expect(attempts.map((x) => x.headers["webhook-id"])).toEqual([id, id]);
      // A timestamp of its own on each attempt, each verifying at the time it was sent.
      const seconds = attempts.map((x) => Number(x.headers["webhook-timestamp"]));
      expect(seconds[1]! - seconds[0]!).toBe(waitCeilingMs(2, 5000) / 1000);
      for (const x of attempts) expect(verifyDelivery(secret, x)).toMatchObject({ type: "challenge.approved" });
      expect(attempts[0]!.body).toBe(attempts[1]!.body);
    }
    const m = await d.metrics.registry.metrics();
    expect(sample(m, "voice_otp_event_delivery_attempts_total", { service: "default", outcome: "unreachable" })).toBe(5);
    expect(sample(m, "voice_otp_event_delivery_attempts_total", { service: "default", outcome: "rejected" })).toBe(5);
    expect(sample(m, "voice_otp_events_delivered_total", { service: "default" })).toBe(5);
  });

  it("gives an event up a day after it was written, saying so, and gives it the schedule again when retried", async () => {
    const database = await openTestDatabase(kind);
    const clock = manualClock();
    const r = await receiver({ answer: () => 503 });
    await setEndpoint(database, keys, { serviceId: "default", url: r.url, secret: newSecret(), eventTypes: null }, clock.now());
    const written = clock.now();
    const [id] = await writeEvents(database, "default", 1, written);
    const d = dispatcher(database, clock);

    /** Moves the clock to each next attempt until the event fails; the attempts it took. */
    async function untilFailed(): Promise<number> {
      for (let attempts = 1; ; attempts++) {
        await until(`attempt ${attempts} is written`, async () => {
          const [e] = await eventRows(database, [id!]);
          return e!.claimed_until === null && (e!.attempts === attempts || e!.state === "failed");
        });
        const [e] = await eventRows(database, [id!]);
        if (e!.state === "failed") return e!.attempts;
        clock.set(new Date(e!.next_attempt_at));
        d.kick();
      }
    }

    const attempts = await untilFailed();
    const [e] = await eventRows(database, [id!]);
    expect(e!.last_error).toMatch(
      new RegExp(`^gave up after ${attempts} attempts \\(the event is a day old\\); the last: 127\\.0\\.0\\.1:\\d+ answered 503; then \`voice-otp events retry ${id}\` sends it again$`),
    );
    // Every attempt within the day; waits of up to 4 hours, at random within them: about a score of attempts.
    expect(clock.now().getTime() - written.getTime()).toBeLessThanOrEqual(24 * 3600_000);
    expect(attempts).toBeGreaterThanOrEqual(minimumAttempts(5000));
    expect(r.deliveries).toHaveLength(attempts);
    expect(sample(await d.metrics.registry.metrics(), "voice_otp_events_failed_total", { service: "default" })).toBe(1);

    // Retried by hand, a day old: not given up at its first failure, but after the schedule's minimum.
    expect((await retryEvent(database, id!, clock.now())).kind).toBe("retried");
    d.kick();
    expect(await untilFailed()).toBe(minimumAttempts(5000));
    expect(r.deliveries).toHaveLength(attempts + minimumAttempts(5000));
  });

  it("disables the endpoint when the receiver answers 410 Gone, and fails what was still waiting for it", async () => {
    const database = await openTestDatabase(kind);
    const clock = manualClock();
    const r = await receiver({ answer: () => 410 });
    await setEndpoint(database, keys, { serviceId: "default", url: r.url, secret: newSecret(), eventTypes: null }, clock.now());
    const [first] = await writeEvents(database, "default", 1, clock.now());
    const d = dispatcher(database, clock);
    await until("it has failed", async () => (await eventRows(database, [first!]))[0]!.state === "failed");

    const [gone] = await eventRows(database, [first!]);
    expect(gone).toMatchObject({ attempts: 1, last_status: 410 });
    expect(gone!.last_error).toMatch(/^127\.0\.0\.1:\d+ answered 410 Gone, so the endpoint is disabled: set the service's webhook endpoint again to enable it/);
    const [endpoint] = await database.rows<{ disabled_at: Date | null }>(sql`select disabled_at from webhook_endpoints where service_id = 'default'`);
    expect(endpoint!.disabled_at).not.toBeNull();

    // An event written before the endpoint was disabled (by another instance, say) is not sent.
    await database.rows(sql`
      insert into events (id, service_id, type, body, next_attempt_at, created_at)
      values ('msg_written_before', 'default', 'challenge.approved', '{}', ${clock.now().toISOString()}::timestamptz, ${clock.now().toISOString()}::timestamptz)`);
    d.kick();
    await until("the second has failed", async () => (await eventRows(database, ["msg_written_before"]))[0]!.state === "failed");
    const [second] = await eventRows(database, ["msg_written_before"]);
    expect(second).toMatchObject({ attempts: 0, last_status: null });
    expect(second!.last_error).toMatch(/^endpoint disabled \(its receiver answered 410 Gone\): set the service's webhook endpoint again/);
    expect(r.deliveries).toHaveLength(1);
    const m = await d.metrics.registry.metrics();
    expect(sample(m, "voice_otp_event_delivery_attempts_total", { service: "default", outcome: "gone" })).toBe(1);
    expect(sample(m, "voice_otp_events_failed_total", { service: "default" })).toBe(2);
    // The log says what failed and why, naming the receiver's host only: its path may hold the receiver's token.
    expect(d.logLines.join("")).toMatch(/"msg":"event not delivered: failed"/);
    expect(d.logLines.join("")).not.toContain("/hooks/voice-otp");
  });

  it("in production refuses an http:// or loopback endpoint at delivery, and fails the event with the reason", async () => {
    const database = await openTestDatabase(kind);
    const clock = manualClock();
    const r = await receiver({});
    // Endpoints set before the deployment went to production: the delivery checks again.
    await setEndpoint(database, keys, { serviceId: "plain", url: r.url, secret: newSecret(), eventTypes: null }, clock.now());
    await setEndpoint(database, keys, { serviceId: "loopback", url: r.url.replace("http:", "https:"), secret: newSecret(), eventTypes: null }, clock.now());
    const ids = [...(await writeEvents(database, "plain", 1, clock.now())), ...(await writeEvents(database, "loopback", 1, clock.now()))];
    const production = {
      NODE_ENV: "production",
      API_KEYS: "k".repeat(32),
      SECRET_KEY,
      PUBLIC_BASE_URL: "https://otp.example.com",
      METRICS_TOKEN: "m".repeat(32),
      ALLOW_PRIVATE_WEBHOOKS: "false",
      TWILIO_ACCOUNT_SID: `AC${"0".repeat(32)}`,
      TWILIO_AUTH_TOKEN: "token",
      TWILIO_NUMBER: "+15005550006",
    };
    expect(loadConfig(production).webhookTargets).toEqual({ requireHttps: true, allowPrivate: false });
    const d = dispatcher(database, clock, production);
    await until("both have failed", async () => (await eventRows(database, ids)).every((e) => e.state === "failed"));

    const failed = await eventRows(database, ids);
    const [plain, loopback] = ["plain", "loopback"].map((service) => failed.find((e) => e.service_id === service));
    expect(plain!.last_error).toMatch(/^Webhook URL must be https:\/\/ in production: event payloads carry call data; then `voice-otp events retry msg_\w+` sends it again$/);
    expect(loopback!.last_error).toMatch(/^Webhook URL points to 127\.0\.0\.1, a loopback address: use a public address, or set ALLOW_PRIVATE_WEBHOOKS=true only if/);
    expect(r.deliveries).toHaveLength(0);
    const m = await d.metrics.registry.metrics();
    expect(sample(m, "voice_otp_event_delivery_attempts_total", { service: "plain", outcome: "refused" })).toBe(1);
  });

  it("signs with both secrets while a rotation overlaps, each verifying on its own, and with the new one alone after", async () => {
    const database = await openTestDatabase(kind);
    const clock = manualClock();
    const r = await receiver({ now: () => clock.now().getTime() });
    const [old, fresh] = [newSecret(), newSecret()];
    await setEndpoint(database, keys, { serviceId: "default", url: r.url, secret: old, eventTypes: null }, clock.now());
    await setEndpoint(database, keys, { serviceId: "default", url: r.url, secret: fresh, eventTypes: null }, clock.now());
    const [during] = await writeEvents(database, "default", 1, clock.now());
    const d = dispatcher(database, clock);
    await until("it is delivered", () => r.deliveries.length === 1);

    const overlap = r.deliveries[0]!;
    expect(overlap.id).toBe(during);
    expect(String(overlap.headers["webhook-signature"]).split(" ")).toHaveLength(2);
    expect(verifyDelivery(fresh, overlap)).toBeTruthy();
    expect(verifyDelivery(old, overlap)).toBeTruthy();
    // Each signature is its own secret's: either alone verifies with that secret only.
    const [first, second] = String(overlap.headers["webhook-signature"]).split(" ");
    const alone = (signature: string) => ({ ...overlap, headers: { ...overlap.headers, "webhook-signature": signature } });
    expect(verifyDelivery(fresh, alone(first!))).toBeTruthy();
    expect(() => verifyDelivery(old, alone(first!))).toThrow(WebhookVerificationError);
    expect(verifyDelivery(old, alone(second!))).toBeTruthy();
    expect(() => verifyDelivery(fresh, alone(second!))).toThrow(WebhookVerificationError);

    // Recorded before the clock jumps: a day later its claim would have run out.
    await until("it is recorded", async () => (await eventRows(database, [during!]))[0]!.state === "delivered");
    clock.advance(24 * 3600_000 + 1000);
    await writeEvents(database, "default", 1, clock.now());
    d.kick();
    await until("the second is delivered", () => r.deliveries.length === 2);
    const after = r.deliveries[1]!;
    expect(String(after.headers["webhook-signature"]).split(" ")).toHaveLength(1);
    expect(verifyDelivery(fresh, after)).toBeTruthy();
    expect(() => verifyDelivery(old, after)).toThrow(WebhookVerificationError);
  });

  it("sends a slow endpoint at most four at a time, and another endpoint's events without waiting for its timeouts", async () => {
    const database = await openTestDatabase(kind);
    const clock = manualClock();
    const slow = await receiver({ answer: () => "hang" });
    const fast = await receiver({});
    await setEndpoint(database, keys, { serviceId: "slow", url: slow.url, secret: newSecret(), eventTypes: null }, clock.now());
    await setEndpoint(database, keys, { serviceId: "fast", url: fast.url, secret: newSecret(), eventTypes: null }, clock.now());
    // The slow endpoint's events are older: first in line.
    const slowIds = await writeEvents(database, "slow", 10, new Date(clock.now().getTime() - 1000));
    const fastIds = await writeEvents(database, "fast", 10, clock.now());

    const started = performance.now();
    const d = dispatcher(database, clock, { WEBHOOK_TIMEOUT_SECONDS: "2" });
    await until("the fast endpoint has them all", async () => (await eventRows(database, fastIds)).every((e) => e.state === "delivered"));
    const fastTook = performance.now() - started;
    expect(fastTook, "ms for the fast endpoint's ten").toBeLessThan(1500);
    expect(slow.deliveries).toHaveLength(PER_ENDPOINT);
    expect(slow.maxConcurrent()).toBe(PER_ENDPOINT);

    // The first four time out; the next four go out as they free their slots.
    const timedOut = async () => (await eventRows(database, slowIds)).filter((e) => e.last_error && e.claimed_until === null);
    await until("the first four timed out", async () => (await timedOut()).length === PER_ENDPOINT, 5000);
    expect(performance.now() - started, "ms until the first timeouts").toBeGreaterThan(2000);
    for (const e of await timedOut()) expect(e.last_error).toMatch(/did not answer within 2000 ms/);
    await until("four more are in flight", () => slow.deliveries.length === 2 * PER_ENDPOINT);
    expect(slow.maxConcurrent()).toBe(PER_ENDPOINT);
    await d.stop();
  });

  it("sends another endpoint's events while one endpoint works through a backlog", async () => {
    const database = await openTestDatabase(kind);
    const clock = manualClock();
    // A receiver that takes its time, with hundreds of events waiting for it (after an outage, say).
    const busy = await receiver({ answer: () => new Promise((resolve) => setTimeout(() => resolve(200), 50)) });
    const quiet = await receiver({});
    await setEndpoint(database, keys, { serviceId: "busy", url: busy.url, secret: newSecret(), eventTypes: null }, clock.now());
    await setEndpoint(database, keys, { serviceId: "quiet", url: quiet.url, secret: newSecret(), eventTypes: null }, clock.now());
    await writeEvents(database, "busy", 300, new Date(clock.now().getTime() - 60_000));
    const d = dispatcher(database, clock);
    await until("the backlog is being sent", () => busy.deliveries.length >= 8);

    const quietIds = await writeEvents(database, "quiet", 3, clock.now());
    const written = performance.now();
    await until("the quiet endpoint has its events", () => quiet.deliveries.length === 3, 5000);
    expect(performance.now() - written, "ms for the quiet endpoint's three").toBeLessThan(1500);
    expect(busy.deliveries.length, "the backlog is still being sent").toBeLessThan(250);
    expect(busy.maxConcurrent()).toBe(PER_ENDPOINT);
    await until("recorded", async () => (await eventRows(database, quietIds)).every((e) => e.state === "delivered"));
    await d.stop();
  });

  it("sends an event a dead instance had claimed once its claim runs out", async () => {
    const database = await openTestDatabase(kind);
    const clock = manualClock();
    const r = await receiver({ now: () => clock.now().getTime() });
    const secret = newSecret();
    await setEndpoint(database, keys, { serviceId: "default", url: r.url, secret, eventTypes: null }, clock.now());
    const [id] = await writeEvents(database, "default", 1, clock.now());
    // As an instance killed mid-attempt leaves it: claimed for 30 s, one attempt counted.
    await database.rows(sql`update events set claimed_until = ${new Date(clock.now().getTime() + 30_000).toISOString()}::timestamptz, attempts = 1 where id = ${id}`);

    const d = dispatcher(database, clock);
    d.kick();
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(r.deliveries).toHaveLength(0);
    clock.advance(30_000);
    d.kick();
    await until("it is delivered", () => r.deliveries.length === 1);
    expect(verifyDelivery(secret, r.deliveries[0]!)).toBeTruthy();
    await until("it is recorded", async () => (await eventRows(database, [id!]))[0]!.state === "delivered");
    expect((await eventRows(database, [id!]))[0]).toMatchObject({ attempts: 2, last_status: 200 });
  });
});

describe.runIf(kinds.includes("postgres"))("event delivery by two instances (postgres)", () => {
  it("delivers hundreds of events, each once and never by both at the same moment", { timeout: 60_000 }, async () => {
    const created = await createPostgresDatabase();
    cleanups.push(() => created.drop());
    const [a, b] = [await second(created.url), await second(created.url)];
    const clock = manualClock();
    const secret = newSecret();
    // A few milliseconds per answer, so that the two instances' attempts interleave.
    const r = await receiver({ now: () => clock.now().getTime(), answer: () => new Promise((resolve) => setTimeout(() => resolve(200), Math.random() * 4)) });
    const services = ["alpha", "beta", "gamma"];
    const ids: string[] = [];
    for (const s of services) {
      await setEndpoint(a, keys, { serviceId: s, url: `${r.url}/${s}`, secret, eventTypes: null }, clock.now());
      ids.push(...(await writeEvents(a, s, 100, clock.now())));
    }

    const [da, db] = [dispatcher(a, clock), dispatcher(b, clock)];
    await until("all are delivered", async () => (await eventRows(a, ids)).every((e) => e.state === "delivered"), 45_000);

    expect(r.overlaps).toEqual([]);
    expect(r.deliveries).toHaveLength(ids.length);
    expect(new Set(r.deliveries.map((x) => x.id)).size).toBe(ids.length);
    for (const x of r.deliveries) expect(verifyDelivery(secret, x)).toBeTruthy();
    for (const e of await eventRows(a, ids)) expect(e.attempts).toBe(1);
    // Both took part: neither waited for the other.
    const delivered = async (d: typeof da) => {
      const m = await d.metrics.registry.metrics();
      return services.reduce((n, service) => n + sample(m, "voice_otp_events_delivered_total", { service }), 0);
    };
    const [byA, byB] = [await delivered(da), await delivered(db)];
    expect(byA + byB).toBe(ids.length);
    expect(byA).toBeGreaterThan(0);
    expect(byB).toBeGreaterThan(0);
  });
});

/**
 * kill -9 of the real service process between a change and its event's delivery: the
 * event is in the outbox, committed with the change, and the next start delivers it.
 */
describe.runIf(kinds.includes("postgres"))("event delivery across kill -9 (postgres, the service process)", () => {
  it("delivers the event of a change made before the crash once the service is back", { timeout: 90_000 }, async () => {
    const created = await createPostgresDatabase();
    cleanups.push(() => created.drop());
    const database = await second(created.url);
    const port = await closedPort();
    const secret = newSecret();
    const env = {
      DATABASE_URL: created.url,
      WEBHOOK_URL: `http://127.0.0.1:${port}/hooks`,
      WEBHOOK_SECRET: secret,
      WEBHOOK_EVENTS: "challenge.canceled",
      // Short waits: the restarted process sends the event at its next due attempt, a second or so away.
      WEBHOOK_RETRY_BASE_SECONDS: "1",
    };
    let service: ServiceProcess = await startServiceProcess({ env });
    cleanups.push(() => service.kill());

    // The change: a challenge canceled while the receiver is down.
    const issued = await service.api("POST", "/request-auth", { number: "+14155550123" });
    expect(issued.status, issued.text).toBe(201);
    const canceled = await service.api("POST", `/challenges/${issued.body.id}/cancel`);
    expect(canceled.status, canceled.text).toBe(200);
    // Killed between attempts: tried (so not delivered before the crash), and its next attempt not yet begun.
    await until("the down receiver was tried and the event waits for its next attempt", async () => {
      const [e] = await database.rows<{ attempts: number; claimed_until: Date | null; wait: number }>(sql`
        select attempts, claimed_until, extract(epoch from next_attempt_at - now()) as wait from events`);
      return !!e && e.attempts >= 1 && e.claimed_until === null && Number(e.wait) > 0.3;
    }, 30_000);
    await service.kill();
    expect(service.proc.child.signalCode).toBe("SIGKILL");
    const [before] = await eventRows(database);
    expect(before).toMatchObject({ state: "pending", last_status: null });

    const r = await receiver({ port });
    service = await startServiceProcess({ env });
    await until("the receiver has it", () => r.deliveries.length > 0, 30_000);
    await until("it is recorded delivered", async () => (await eventRows(database))[0]!.state === "delivered");

    const [delivery] = r.deliveries;
    expect(r.deliveries).toHaveLength(1);
    expect(delivery!.id).toBe(before!.id);
    expect(verifyDelivery(secret, delivery!)).toMatchObject({ type: "challenge.canceled", data: { challenge_id: issued.body.id, status: "canceled" } });
  });
});
