import { createHash, timingSafeEqual } from "node:crypto";
import type { MiddlewareHandler } from "hono";
import { AppError } from "./errors.js";

export interface KeyIdentity {
  /** Recorded on each challenge: which key created it, never the key itself. */
  name: string;
}

const digest = (key: string) => createHash("sha256").update(key).digest();

/**
 * Bearer keys from API_KEYS, compared as SHA-256 digests in constant time and
 * against every configured key, so timing tells neither a key's prefix nor its
 * position in the list. With no keys configured the service runs open
 * (development only; config refuses it in production).
 */
export function apiKeyAuth(keys: readonly string[]): MiddlewareHandler<{ Variables: { apiKey: KeyIdentity } }> {
  const known = keys.map((k) => ({ digest: digest(k), name: `env:${digest(k).toString("hex").slice(0, 8)}` }));
  return async (c, next) => {
    if (known.length === 0) {
      c.set("apiKey", { name: "open" });
      return next();
    }
    const header = c.req.header("authorization") ?? "";
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
    let found: KeyIdentity | undefined;
    if (match) {
      const given = digest(match[1]!);
      for (const k of known) if (timingSafeEqual(given, k.digest)) found ??= { name: k.name };
    }
    if (!found) {
      throw new AppError(
        "unauthorized",
        match ? "API key not recognised" : "send Authorization: Bearer <key> with a key from API_KEYS",
        undefined,
        { "WWW-Authenticate": 'Bearer realm="voice-otp"' },
      );
    }
    c.set("apiKey", found);
    return next();
  };
}
