import { refusedBeforeTheApp } from "../../../src/http/client-errors.js";
import type { RawResponse } from "../raw-http.js";
import { jsonOf } from "./answers.js";
import type { Probe } from "./probes.js";

/** Random identifiers (UUIDs, hex call SIDs) may hold six digits in a row by chance: not a code. */
const RANDOM_IDS = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|\b[A-Z]{2}[0-9a-f]{32}\b/gi;

/** Every window of `width` digits in the text's digit runs. */
export function digitWindows(text: string, width: number, into: Set<string>): void {
  for (const m of text.matchAll(/\d{6,}/g)) {
    const run = m[0];
    for (let i = 0; i + width <= run.length; i++) into.add(run.slice(i, i + width));
  }
}

/**
 * What the service answered to the generated requests, kept for the checks that
 * need the whole run: the rows the database should hold afterwards, and the digits
 * seen in answers (to look for codes once the calls have been heard).
 */
export class Ledger {
  requests = 0;
  readonly labels = new Map<string, number>();
  readonly aims = new Map<string, number>();
  readonly statuses = new Map<number, number>();
  /** Challenges created (non-replayed 201s), by id. */
  readonly created = new Map<string, { number: string; owner?: string }>();
  readonly replays: Array<{ claim: string; status: number; id?: string }> = [];
  readonly approved = new Set<string>();
  /** 403 "incorrect" answers: each is one wrong guess counted on a challenge. */
  incorrect = 0;
  /** Targets of signed webhooks that were accepted: they may change the challenge they name. */
  readonly signedTargets: string[] = [];
  /** Requests counted against an API key's per-minute window: surely, and perhaps (paths that may or may not reach the counter). */
  readonly hits = { definite: 0, possible: 0 };
  /** 429 answers by the limit that refused them: each is counted once in limit_refusals. */
  readonly refusals = new Map<string, number>();
  /** Per API key and Idempotency-Key: the statuses of the answers that claimed it. */
  readonly claims = new Map<string, number[]>();
  /** 6-digit windows in what was sent (an echo is not a leak) and in what was answered. */
  readonly sentDigits = new Set<string>();
  readonly answerDigits = new Map<string, string>();
  /** Digit runs of targets and headers, which the service may log. */
  readonly sentRuns: string[] = [];

  constructor(private readonly liveIds: string[]) {}

  record(p: Probe, res: RawResponse): void {
    this.requests++;
    this.labels.set(p.label, (this.labels.get(p.label) ?? 0) + 1);
    this.aims.set(p.aim, (this.aims.get(p.aim) ?? 0) + 1);
    this.statuses.set(res.status, (this.statuses.get(res.status) ?? 0) + 1);
    this.remember(p, res);
    const json = jsonOf(res);
    // Refused before the app (by Node's parser or the adapter; src/http/client-errors.ts): nothing happened.
    if (typeof res.headers["x-request-id"] !== "string" || refusedBeforeTheApp(json?.error?.message)) return;
    const status = res.status;
    const keyLimited = status === 429 && (p.method === "HEAD" || json?.error?.limit === "requests_per_key_per_minute");
    const replayed = res.headers["idempotent-replayed"] === "true";
    if (status === 429) {
      // A HEAD's answer has no body: only the per-key limit refuses before the route is reached.
      const limit = p.method === "HEAD" ? "requests_per_key_per_minute" : json?.error?.code === "attempts_exhausted" ? "attempts_exhausted" : json?.error?.limit;
      this.refusals.set(String(limit), (this.refusals.get(String(limit)) ?? 0) + 1);
    }

    switch (p.aim) {
      case "request-auth":
        // auth and the per-key counter run before everything but the body limit and routing.
        // Whether a refused request still counts is the counter's business: perhaps.
        if (keyLimited) this.hits.possible++;
        else if (![401, 404, 413].includes(status)) this.hits.definite++;
        if (status === 201 && !replayed) {
          if (this.created.has(json.id)) throw new Error(`two 201s created challenge ${json.id}`);
          this.created.set(json.id, { number: json.number, owner: typeof p.owner === "string" ? p.owner : undefined });
          this.liveIds.push(json.id);
        }
        if (p.idempotencyKey !== undefined && typeof p.owner === "string") {
          const claim = `${p.owner}\n${p.idempotencyKey}`;
          if (replayed) this.replays.push({ claim, status, id: json?.id });
          // An answer that says nothing happened (409, 429, 500, 503) is not kept under the key (src/http/idempotency.ts).
          else if (![401, 404, 405, 409, 413, 422, 429, 500, 503].includes(status)) this.claims.set(claim, [...(this.claims.get(claim) ?? []), status]);
        }
        break;
      case "validate-auth":
        // Counted as request-auth is: by the per-key counter, before the body is read.
        if (keyLimited) this.hits.possible++;
        else if (![401, 404, 413].includes(status)) this.hits.definite++;
        if (status === 200 && json?.status === "approved") this.approved.add(json.id);
        if (status === 403 && json?.reason === "incorrect") this.incorrect++;
        break;
      case "challenges":
        if (keyLimited) this.hits.possible++;
        else if (status === 200 || status === 405 || (status === 404 && json?.error?.message === "no challenge with this id")) this.hits.definite++;
        else if (status === 404 && p.method === "HEAD" && p.exactPath) this.hits.definite++;
        // A path under /challenges/ that no route takes may still have passed the key check and counter.
        else if (status === 404) this.hits.possible++;
        break;
      case "call-2fa":
      case "call-status":
        if (p.signature === "valid" && status < 300) this.signedTargets.push(p.target, safeDecode(p.target));
        break;
    }
  }

  private remember(p: Probe, res: RawResponse) {
    const head = [p.target, ...p.headers.map(([, v]) => v)].join("\n");
    digitWindows(head, 6, this.sentDigits);
    for (const m of head.matchAll(/\d{6,}/g)) this.sentRuns.push(m[0]);
    const body = p.body ?? (p.chunks ? Buffer.concat(p.chunks) : undefined);
    if (body) {
      digitWindows(body.toString("utf8"), 6, this.sentDigits);
      digitWindows(body.toString("latin1"), 6, this.sentDigits);
    }
    const type = String(res.headers["content-type"] ?? "");
    // The voice XML is the one place the code is meant to be.
    if (/^text\/xml/.test(type)) return;
    let text = res.text;
    // Metrics: the labels, not the sampled values.
    if (/^text\/plain/.test(type) && p.aim === "metrics") text = text.replace(/ [^ \n]+$/gm, "");
    text = `${text}\n${JSON.stringify(res.headers)}`.replace(RANDOM_IDS, "");
    const found = new Set<string>();
    digitWindows(text, 6, found);
    for (const d of found) if (!this.answerDigits.has(d)) this.answerDigits.set(d, `${p.method} ${p.target.slice(0, 100)} → ${res.status} ${res.text.slice(0, 200)}`);
  }

  /** A one-line account of what the run sent and got. */
  summary(): string {
    const statuses = [...this.statuses].sort(([a], [b]) => a - b).map(([s, n]) => `${s}×${n}`).join(" ");
    const aims = [...this.aims].map(([a, n]) => `${a} ${n}`).join(", ");
    return `${this.requests} requests in ${this.labels.size} input classes (${aims}); answers ${statuses}`;
  }
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}
