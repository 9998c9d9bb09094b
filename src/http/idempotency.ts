import { createHash } from "node:crypto";
import { sql } from "drizzle-orm";
import type { MiddlewareHandler } from "hono";
import type { AppDeps, AppEnv } from "./env.js";
import { AppError } from "./errors.js";
import { macCode } from "../otp/codes.js";
import { idempotencyKey } from "./schemas.js";

const WINDOW_MS = 24 * 3600_000;
const ts = (d: Date) => sql`${d.toISOString()}::timestamptz`;

/**
 * Idempotency-Key for POST /request-auth: the first request with a key claims it
 * in the database (one atomic insert, so it holds across instances); a repeat
 * within 24 hours replays the stored answer and places no second call; a repeat
 * while the first is in flight gets 409, and the key with another body 422.
 * Answers that say nothing happened (409, 429, 500, 503) release the key for a retry.
 * Requests are compared by their fields, not their bytes: the same JSON with other
 * spacing or key order, or the same form in another order, is the same request.
 */
export function idempotency(deps: AppDeps): MiddlewareHandler<AppEnv> {
  // A claim older than this with no answer belongs to an instance that died mid-request.
  const abandonedAfterMs = 2 * deps.config.carrier.timeoutMs + 30_000;
  return async (c, next) => {
    const key = c.req.header("idempotency-key");
    if (key === undefined || c.req.method !== "POST") return next();
    if (!idempotencyKey.safeParse(key).success) throw new AppError("invalid_request", "Idempotency-Key: use 1-255 visible ASCII characters, e.g. a UUID");
    const body = new TextDecoder().decode(await c.req.arrayBuffer()); // Hono caches the bytes for the route's own parsing
    const conceal = (code: string) => `mac:${macCode(deps.otp.keys, code)}`;
    const hash = createHash("sha256").update(requestFields(c.req.header("content-type") ?? "", body, conceal)).digest("hex");
    const owner = c.get("apiKey").name;
    const now = deps.clock.now();
    const db = deps.database;

    const claimed = await db.rows(sql`
      insert into idempotency_keys (api_key_name, key, request_hash, created_at)
      values (${owner}, ${key}, ${hash}, ${ts(now)})
      on conflict (api_key_name, key) do update set
        request_hash = excluded.request_hash, created_at = excluded.created_at,
        response_status = null, response_body = null, response_headers = null
      where idempotency_keys.created_at <= ${ts(new Date(now.getTime() - WINDOW_MS))}
         or (idempotency_keys.response_status is null
             and idempotency_keys.created_at <= ${ts(new Date(now.getTime() - abandonedAfterMs))})
      returning key`);

    if (claimed.length === 0) {
      const [row] = await db.rows<{ request_hash: string; response_status: number | null; response_body: string | null; response_headers: string | null }>(sql`
        select request_hash, response_status, response_body, response_headers from idempotency_keys
        where api_key_name = ${owner} and key = ${key}`);
      if (row && row.request_hash !== hash) {
        throw new AppError("idempotency_key_reused", "this Idempotency-Key was used with a different request body; use a new key");
      }
      if (!row || row.response_status === null) {
        throw new AppError("idempotency_in_flight", "a request with this Idempotency-Key is still in progress; retry shortly", undefined, {
          "Retry-After": "1",
        });
      }
      c.get("log").info("idempotent replay");
      const headers = JSON.parse(row.response_headers ?? "{}") as Record<string, string>;
      return c.body(row.response_body ?? "", row.response_status as 200, {
        ...headers,
        "Content-Type": "application/json",
        "Idempotent-Replayed": "true",
      });
    }

    const release = () => db.rows(sql`delete from idempotency_keys where api_key_name = ${owner} and key = ${key}`);
    try {
      await next();
    } catch (err) {
      await release().catch(() => {});
      throw err;
    }
    const status = c.res.status;
    // Answers that say nothing happened: a refusal to wait out (429), a conflict (409), or
    // a failure on our side. Keeping them would refuse the same request when retried.
    if (status === 409 || status === 429 || status === 500 || status === 503) {
      await release().catch(() => {});
      return;
    }
    const retryAfter = c.res.headers.get("retry-after");
    await db
      .rows(sql`
        update idempotency_keys set response_status = ${status}, response_body = ${await c.res.clone().text()},
               response_headers = ${JSON.stringify(retryAfter ? { "Retry-After": retryAfter } : {})}
        where api_key_name = ${owner} and key = ${key}`)
      .catch((err: Error) => c.get("log").error({ err: err.message }, "could not store the idempotent answer"));
  };
}

/**
 * A request body as its fields, in one canonical text: JSON re-serialised with sorted keys,
 * a form sorted. A caller's own `code` is replaced by its keyed MAC first: the hash is
 * stored, and a plain hash over a few digits and a known number would give the code back.
 */
function requestFields(contentType: string, body: string, conceal: (code: string) => string): string {
  const type = contentType.split(";")[0]!.trim().toLowerCase();
  if (/^application\/([\w.-]+\+)?json$/.test(type)) {
    try {
      const fields: unknown = JSON.parse(body);
      if (fields && typeof fields === "object" && "code" in fields) {
        const code = (fields as { code: unknown }).code;
        (fields as { code: string }).code = conceal(typeof code === "string" ? code : JSON.stringify(code));
      }
      return `json\n${canonicalJson(fields)}`;
    } catch {
      // Not JSON: the route refuses it; compared as it came (concealed below).
    }
  }
  if (type === "application/x-www-form-urlencoded") {
    const fields = [...new URLSearchParams(body)].map(([k, v]): [string, string] => [k, k === "code" ? conceal(v) : v]).sort(([a, x], [b, y]) => (a < b ? -1 : a > b ? 1 : x < y ? -1 : x > y ? 1 : 0));
    return `form\n${JSON.stringify(fields)}`;
  }
  // Any other body (multipart) is kept whole, so all of it is concealed: it may hold a code.
  return `${type}\n${conceal(body)}`;
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (value && typeof value === "object") {
    const entries = Object.keys(value as object)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`);
    return `{${entries.join(",")}}`;
  }
  return JSON.stringify(value);
}
